import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, MountCoreError } from '../../lib/errors.js';
import {
  containerPathFor,
  createHostPathPolicy,
  validateMountKey,
  validateMountRequest,
  validateWorkspaceRoot,
  type MountRequestOptions,
} from '../../lib/validation/index.js';

const options: MountRequestOptions = {
  policy: createHostPathPolicy({ allow: ['/home/dev'] }),
  workspaceRoot: '/workspace',
};

const valid = { user_id: 'u1', workspace_id: 'ws1', local_path: '/home/dev/proj' };

/** Runs validateMountRequest and returns the error it throws. */
function rejection(body: unknown, opts: MountRequestOptions = options): MountCoreError {
  try {
    validateMountRequest(body, opts);
  } catch (error) {
    assert.ok(error instanceof MountCoreError, `expected MountCoreError, got ${String(error)}`);
    return error;
  }
  assert.fail(`validateMountRequest accepted ${JSON.stringify(body)}`);
}

describe('validateMountRequest', () => {
  test('returns the normalised request', () => {
    const result = validateMountRequest({ ...valid, local_path: '/home/dev//proj/', description: '测试挂载点', read_only: true }, options);
    assert.deepEqual(result, {
      user_id: 'u1',
      workspace_id: 'ws1',
      local_path: '/home/dev/proj',
      container_path: '/workspace/u1/ws1',
      description: '测试挂载点',
      read_only: true,
    });
  });

  test('defaults description and read_only', () => {
    const result = validateMountRequest(valid, options);
    assert.equal(result.description, '');
    assert.equal(result.read_only, false);
  });

  test('treats null optional fields as absent', () => {
    const result = validateMountRequest({ ...valid, description: null, read_only: null }, options);
    assert.equal(result.description, '');
    assert.equal(result.read_only, false);
  });

  test('accepts a null-prototype object', () => {
    const body = Object.assign(Object.create(null) as object, valid);
    assert.equal(validateMountRequest(body, options).user_id, 'u1');
  });

  test('keeps spaces and nfd bytes in local_path', () => {
    const nfd = '/home/dev/Projekte/Mu\u0308ller \u0394/app';
    assert.equal(validateMountRequest({ ...valid, local_path: nfd }, options).local_path, nfd);
  });

  const bad: Array<[string, unknown, string, Record<string, unknown>]> = [
    ['null body', null, 'INVALID_FIELD', { field: 'body', expected: 'a JSON object' }],
    ['array body', [valid], 'INVALID_FIELD', { field: 'body' }],
    ['string body', 'user_id=u1', 'INVALID_FIELD', { field: 'body' }],
    ['number body', 1, 'INVALID_FIELD', { field: 'body' }],
    ['date body', new Date(), 'INVALID_FIELD', { field: 'body' }],
    ['unknown field', { ...valid, mode: 'rw' }, 'UNKNOWN_FIELD', { field: 'mode' }],
    ['camel-case field', { ...valid, userId: 'u1' }, 'UNKNOWN_FIELD', { field: 'userId' }],
    ['proto field', JSON.parse('{"__proto__":{"x":1},"user_id":"u1","workspace_id":"w","local_path":"/home/dev/a"}'), 'UNKNOWN_FIELD', { field: '__proto__' }],
    ['missing user_id', { workspace_id: 'ws1', local_path: '/home/dev/a' }, 'MISSING_FIELD', { field: 'user_id' }],
    ['missing workspace_id', { user_id: 'u1', local_path: '/home/dev/a' }, 'MISSING_FIELD', { field: 'workspace_id' }],
    ['missing local_path', { user_id: 'u1', workspace_id: 'ws1' }, 'MISSING_FIELD', { field: 'local_path' }],
    ['null user_id', { ...valid, user_id: null }, 'MISSING_FIELD', { field: 'user_id' }],
    ['empty user_id', { ...valid, user_id: '' }, 'INVALID_USER_ID', { reason: 'missing' }],
    ['user_id dot dot', { ...valid, user_id: '..' }, 'INVALID_USER_ID', { reason: 'dot_segment' }],
    ['user_id with traversal', { ...valid, user_id: 'u1/../../etc' }, 'INVALID_USER_ID', { reason: 'bad_characters' }],
    ['numeric user_id', { ...valid, user_id: 1 }, 'INVALID_USER_ID', { reason: 'not_string' }],
    ['workspace_id with yaml', { ...valid, workspace_id: 'ws1\n      - /etc:/host-etc' }, 'INVALID_WORKSPACE_ID', { reason: 'control_characters' }],
    ['workspace_id with slash', { ...valid, workspace_id: 'a/b' }, 'INVALID_WORKSPACE_ID', { reason: 'bad_characters' }],
    ['relative local_path', { ...valid, local_path: 'proj' }, 'INVALID_LOCAL_PATH', { reason: 'not_absolute' }],
    ['local_path traversal', { ...valid, local_path: '/home/dev/projects/../../../etc' }, 'INVALID_LOCAL_PATH', { reason: 'traversal' }],
    ['windows local_path', { ...valid, local_path: 'C:\\Users\\dev\\proj' }, 'INVALID_LOCAL_PATH', { reason: 'windows_path' }],
    ['numeric local_path', { ...valid, local_path: 5 }, 'INVALID_LOCAL_PATH', { reason: 'not_string' }],
    ['numeric description', { ...valid, description: 5 }, 'INVALID_DESCRIPTION', { reason: 'not_string' }],
    ['long description', { ...valid, description: 'x'.repeat(501) }, 'INVALID_DESCRIPTION', { reason: 'too_long' }],
    ['newline in description', { ...valid, description: 'a\nb' }, 'INVALID_DESCRIPTION', { reason: 'control_characters' }],
    ['tab in description', { ...valid, description: 'a\tb' }, 'INVALID_DESCRIPTION', { reason: 'control_characters' }],
    ['lone surrogate in description', { ...valid, description: 'a\ud800' }, 'INVALID_DESCRIPTION', { reason: 'invalid_unicode' }],
    ['string read_only', { ...valid, read_only: 'true' }, 'INVALID_READ_ONLY', { field: 'read_only' }],
    ['numeric read_only', { ...valid, read_only: 1 }, 'INVALID_READ_ONLY', { field: 'read_only' }],
    ['denied local_path', { ...valid, local_path: '/etc' }, 'PATH_NOT_ALLOWED', { reason: 'denied' }],
    ['prefix bypass', { ...valid, local_path: '/home/devil' }, 'PATH_NOT_ALLOWED', { reason: 'outside_allow' }],
  ];
  for (const [name, body, code, details] of bad) {
    test(`rejects ${name} with ${code}`, () => {
      const error = rejection(body);
      assert.equal(error.code, code);
      for (const [key, value] of Object.entries(details)) {
        assert.equal(error.details[key], value, `details.${key}`);
      }
    });
  }

  test('description of 500 characters passes', () => {
    assert.equal(validateMountRequest({ ...valid, description: '挂'.repeat(500) }, options).description.length, 500);
  });

  test('description length counts code points', () => {
    const emoji = '\u{1f600}'.repeat(500);
    assert.equal(validateMountRequest({ ...valid, description: emoji }, options).description, emoji);
  });

  test('unknown field is reported before missing ones', () => {
    assert.equal(rejection({ extra: 1 }).code, 'UNKNOWN_FIELD');
  });

  test('user_id is checked before workspace_id', () => {
    assert.equal(rejection({ ...valid, user_id: '..', workspace_id: '..' }).code, 'INVALID_USER_ID');
  });

  test('ids are checked before local_path', () => {
    assert.equal(rejection({ ...valid, workspace_id: '..', local_path: 'relative' }).code, 'INVALID_WORKSPACE_ID');
  });

  test('malformed fields are reported before the policy', () => {
    assert.equal(rejection({ ...valid, local_path: '/etc', description: 'a\nb' }).code, 'INVALID_DESCRIPTION');
    assert.equal(rejection({ ...valid, local_path: '/etc', read_only: 'yes' }).code, 'INVALID_READ_ONLY');
  });

  test('system folders and the socket are refused', () => {
    const open = { ...options, policy: createHostPathPolicy() };
    for (const path of ['/', '/var/run/docker.sock', '/var/run', '/run', '/etc', '/root', '/var/lib/docker', '/proc']) {
      const error = rejection({ ...valid, local_path: path }, open);
      assert.equal(error.code, 'PATH_NOT_ALLOWED', path);
      assert.equal(error.details.reason, 'denied', path);
    }
  });

  test('windows style maps every form to one path', () => {
    const windows = { workspaceRoot: '/workspace', policy: createHostPathPolicy({ style: 'windows' }) };
    const paths = ['C:\\Users\\dev\\proj', 'C:/Users/dev/proj', '/c/Users/dev/proj', '/mnt/c/Users/dev/proj'].map(
      (local_path) => validateMountRequest({ ...valid, local_path }, windows).local_path,
    );
    assert.deepEqual(new Set(paths), new Set(['C:\\Users\\dev\\proj']));
  });

  test('invalid workspace root is a config error', () => {
    const error = rejection(valid, { ...options, workspaceRoot: 'workspace' });
    assert.ok(error instanceof ConfigError);
  });
});

describe('containerPathFor', () => {
  test('joins root, user and workspace', () => {
    assert.equal(containerPathFor('/workspace', 'u1', 'ws1'), '/workspace/u1/ws1');
    assert.equal(containerPathFor('/data/ws', 'a.b', 'c-d'), '/data/ws/a.b/c-d');
  });

  test('rejects ids that would leave the root', () => {
    assert.throws(() => containerPathFor('/workspace', '..', 'etc'), (error: unknown) => error instanceof MountCoreError && error.code === 'INVALID_USER_ID');
    assert.throws(() => containerPathFor('/workspace', 'u1', '../x'), (error: unknown) => error instanceof MountCoreError && error.code === 'INVALID_WORKSPACE_ID');
  });

  test('rejects an invalid root', () => {
    assert.throws(() => containerPathFor('/workspace/', 'u1', 'ws1'), ConfigError);
  });
});

describe('validateWorkspaceRoot', () => {
  test('accepts normalised absolute paths', () => {
    assert.equal(validateWorkspaceRoot('/workspace'), '/workspace');
    assert.equal(validateWorkspaceRoot('/srv/work space'), '/srv/work space');
  });

  const bad: unknown[] = ['/', '', 'workspace', '/workspace/', '//workspace', '/a/../b', '/a/./b', 'C:\\ws', '/ws\n', 5, undefined];
  for (const root of bad) {
    test(`rejects ${JSON.stringify(root) ?? 'undefined'}`, () => {
      assert.throws(
        () => validateWorkspaceRoot(root),
        (error: unknown) => error instanceof ConfigError && error.code === 'CONFIG_INVALID' && error.details.option === 'workspaceRoot',
      );
    });
  }

  test('names the given option', () => {
    assert.throws(() => validateWorkspaceRoot('/', 'WORKSPACE_ROOT'), (error: unknown) => error instanceof ConfigError && error.details.option === 'WORKSPACE_ROOT');
  });
});

describe('validateMountKey', () => {
  test('returns both ids', () => {
    assert.deepEqual(validateMountKey('u1', 'ws1'), { user_id: 'u1', workspace_id: 'ws1' });
  });

  const bad: Array<[unknown, unknown, string]> = [
    ['..', 'ws1', 'INVALID_USER_ID'],
    ['u1', '..', 'INVALID_WORKSPACE_ID'],
    ['u1%2F..', 'ws1', 'INVALID_USER_ID'],
    [undefined, 'ws1', 'INVALID_USER_ID'],
    ['u1', 'ws 1', 'INVALID_WORKSPACE_ID'],
  ];
  for (const [userId, workspaceId, code] of bad) {
    test(`rejects ${String(userId)}/${String(workspaceId)}`, () => {
      assert.throws(() => validateMountKey(userId, workspaceId), (error: unknown) => error instanceof MountCoreError && error.code === code);
    });
  }
});
