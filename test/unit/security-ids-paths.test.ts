/**
 * The id and host path rules as one checklist: every rejection names its
 * field in the code, the built-in deny list cannot be lifted by the allow
 * list, and Windows forms either map to one path or are rejected.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MountCoreError } from '../../lib/errors.js';
import {
  checkHostPath,
  createHostPathPolicy,
  ID_PATTERN,
  normalizeHostPath,
  validateId,
  validateMountRequest,
} from '../../lib/validation/index.js';
import { loadMonitorConfig } from '../../servers/monitor/config.js';

function rejection(run: () => unknown): MountCoreError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof MountCoreError, `expected MountCoreError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected an error');
}

describe('ids', () => {
  test('pattern is documented strict ASCII', () => {
    assert.equal(ID_PATTERN.source, '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$');
  });

  const bad: Array<[string, string]> = [
    ['.', 'dot_segment'],
    ['..', 'dot_segment'],
    ['u1/ws', 'bad_characters'],
    ['u1/../../etc', 'bad_characters'],
    ['u1\\ws', 'bad_characters'],
    ['u1\u0000', 'control_characters'],
    ['u 1', 'bad_characters'],
    ['u1\t', 'control_characters'],
    ['ws\nvolumes: [/:/host]', 'control_characters'],
    ['u1\u007f', 'control_characters'],
    ['u1\u0085', 'control_characters'],
    ['\u0075\u0456', 'bad_characters'],
    ['ｕ1', 'bad_characters'],
    ['u\u200b1', 'bad_characters'],
    ['u1\u202e', 'bad_characters'],
    ['u1\u00a0', 'bad_characters'],
    ['-u1', 'bad_characters'],
    ['.hidden', 'bad_characters'],
    ['_u1', 'bad_characters'],
    ['u1:ws', 'bad_characters'],
    ['u1$HOME', 'bad_characters'],
    ['${USER}', 'bad_characters'],
    ['a'.repeat(65), 'too_long'],
    ['', 'missing'],
  ];
  for (const field of ['user_id', 'workspace_id'] as const) {
    const code = field === 'user_id' ? 'INVALID_USER_ID' : 'INVALID_WORKSPACE_ID';
    for (const [value, reason] of bad) {
      test(`${field} ${JSON.stringify(value).slice(0, 40)} is ${reason}`, () => {
        const error = rejection(() => validateId(field, value));
        assert.equal(error.code, code);
        assert.equal(error.status, 400);
        assert.equal(error.details.field, field);
        assert.equal(error.details.reason, reason);
      });
    }
  }

  test('accepts the longest valid id', () => {
    assert.equal(validateId('user_id', `a${'b'.repeat(63)}`).length, 64);
    assert.equal(validateId('workspace_id', 'ws-1.2_x'), 'ws-1.2_x');
  });

  test('escapes control characters in details', () => {
    const error = rejection(() => validateId('workspace_id', 'ws\nvolumes: [/:/host]'));
    assert.equal(error.details.value, 'ws\\u000avolumes: [/:/host]');
    assert.ok(!error.message.includes('\n'));
  });
});

describe('host paths', () => {
  const bad: Array<[unknown, string]> = [
    ['relative/path', 'not_absolute'],
    ['./home/dev', 'not_absolute'],
    ['~/projects', 'not_absolute'],
    ['/home/dev/projects/../../../etc', 'traversal'],
    ['/home/dev/..', 'traversal'],
    ['/home/dev/\u0000', 'control_characters'],
    ['/home/dev/a\nb', 'control_characters'],
    ['/home/dev/a\u001b[31m', 'control_characters'],
    ['/home/dev/a\u202egnp.exe', 'format_characters'],
    ['/home/dev/a\u2028b', 'format_characters'],
    ['/home/dev/\ufeffa', 'format_characters'],
    ['/home/dev/a\u200bb', 'format_characters'],
    ['/home/dev/\ud800', 'invalid_unicode'],
    [`/${'a'.repeat(4096)}`, 'too_long'],
    [`/${'é'.repeat(2048)}`, 'too_long'],
    ['C:\\Users\\dev\\proj', 'windows_path'],
    ['C:/Users/dev/proj', 'windows_path'],
    ['\\\\server\\share', 'windows_path'],
    [42, 'not_string'],
    ['', 'missing'],
  ];
  for (const [value, reason] of bad) {
    test(`${JSON.stringify(value).slice(0, 40)} is ${reason}`, () => {
      const error = rejection(() => normalizeHostPath(value));
      assert.equal(error.code, 'INVALID_LOCAL_PATH');
      assert.equal(error.details.field, 'local_path');
      assert.equal(error.details.reason, reason);
    });
  }

  const normal: Array<[string, string]> = [
    ['/home/dev/projects/a/', '/home/dev/projects/a'],
    ['//home//dev/./projects/a', '/home/dev/projects/a'],
    ['/home/dev/My Projects/app', '/home/dev/My Projects/app'],
    ['/home/dev/Projekte/Mu\u0308ller', '/home/dev/Projekte/Mu\u0308ller'],
    ['/home/dev/\u200d\u200c', '/home/dev/\u200d\u200c'],
  ];
  for (const [input, output] of normal) {
    test(`normalises ${JSON.stringify(input)}`, () => {
      assert.equal(normalizeHostPath(input), output);
    });
  }

  test('four windows forms map to one path', () => {
    const forms = ['C:\\Users\\dev\\proj', 'C:/Users/dev/proj', '/c/Users/dev/proj', '/mnt/c/Users/dev/proj'];
    const mapped = new Set(forms.map((form) => normalizeHostPath(form, 'windows')));
    assert.deepEqual([...mapped], ['C:\\Users\\dev\\proj']);
  });

  test('posix host never gives four mounts', () => {
    const policy = createHostPathPolicy({ allow: ['/home/dev/projects'] });
    for (const form of ['C:\\Users\\dev\\proj', 'C:/Users/dev/proj', '/c/Users/dev/proj', '/mnt/c/Users/dev/proj']) {
      const error = rejection(() => validateMountRequest({ user_id: 'u1', workspace_id: 'w', local_path: form }, { policy, workspaceRoot: '/workspace' }));
      assert.ok(error.code === 'INVALID_LOCAL_PATH' || error.code === 'PATH_NOT_ALLOWED', `${form}: ${error.code}`);
    }
  });
});

describe('deny list', () => {
  const required = ['/', '/etc', '/proc', '/sys', '/dev', '/boot', '/run', '/var/run', '/var/lib/docker', '/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/var/run/docker.sock', '/run/docker.sock'];

  test('built-in list survives an allow of "/"', () => {
    const policy = createHostPathPolicy({ allow: ['/'] });
    for (const path of required) {
      const error = rejection(() => checkHostPath(path, policy));
      assert.equal(error.code, 'PATH_NOT_ALLOWED', path);
      assert.equal(error.details.reason, 'denied', path);
    }
  });

  test('allow inside a denied tree is a config error', () => {
    for (const entry of ['/etc', '/var/lib/docker/volumes', '/proc/1', '/usr/local']) {
      assert.equal(rejection(() => createHostPathPolicy({ allow: [entry] })).code, 'CONFIG_INVALID', entry);
    }
  });

  test('HOST_PATH_DENY adds entries', () => {
    const policy = createHostPathPolicy({ deny: ['/home/dev/.ssh'] });
    assert.equal(rejection(() => checkHostPath('/home/dev/.ssh/keys', policy)).details.rule, '/home/dev/.ssh');
    assert.equal(rejection(() => checkHostPath('/home/dev', policy)).details.rule, '/home/dev/.ssh');
    assert.doesNotThrow(() => checkHostPath('/home/dev/projects', policy));
  });

  test('HOST_PATH_ALLOW compares whole components', () => {
    const policy = createHostPathPolicy({ allow: ['/home/dev/projects'] });
    assert.doesNotThrow(() => checkHostPath('/home/dev/projects/a', policy));
    const error = rejection(() => checkHostPath('/home/dev/projects-secrets', policy));
    assert.equal(error.details.reason, 'outside_allow');
  });

  test('DOCKER_HOST socket joins the deny list', () => {
    const config = loadMonitorConfig({ MOUNT_DATA_FILE: '/data/mounts.json', DOCKER_HOST: 'unix:///srv/engines/d1.sock', HOST_PATH_DENY: '/home/dev/.ssh' });
    assert.deepEqual(config.hostPathDeny, ['/home/dev/.ssh', '/srv/engines/d1.sock']);
    const policy = createHostPathPolicy({ allow: ['/srv'], deny: config.hostPathDeny });
    assert.equal(rejection(() => checkHostPath('/srv/engines/d1.sock', policy)).details.reason, 'denied');
    assert.equal(rejection(() => checkHostPath('/srv/engines', policy)).details.reason, 'denied');
    assert.doesNotThrow(() => checkHostPath('/srv/projects', policy));
  });

  test('tcp DOCKER_HOST adds nothing', () => {
    const config = loadMonitorConfig({ MOUNT_DATA_FILE: '/data/mounts.json', DOCKER_HOST: 'tcp://127.0.0.1:2375' });
    assert.deepEqual(config.hostPathDeny, []);
  });
});
