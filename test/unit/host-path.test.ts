import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, ValidationError } from '../../lib/errors.js';
import { HOST_PATH_MAX_BYTES, isWithin, normalizeHostPath, type HostPathStyle } from '../../lib/validation/index.js';

/** Calls normalizeHostPath and returns the ValidationError it throws. */
function rejection(input: unknown, style: HostPathStyle = 'posix'): ValidationError {
  try {
    normalizeHostPath(input, style);
  } catch (error) {
    assert.ok(error instanceof ValidationError, `expected ValidationError, got ${String(error)}`);
    return error;
  }
  assert.fail(`normalizeHostPath accepted ${JSON.stringify(input)} as ${style}`);
}

describe('normalizeHostPath posix', () => {
  const good: Array<[string, string]> = [
    ['/', '/'],
    ['/home/dev/proj', '/home/dev/proj'],
    ['/home/dev/proj/', '/home/dev/proj'],
    ['//home//dev///proj//', '/home/dev/proj'],
    ['/home/./dev/.', '/home/dev'],
    ['/./', '/'],
    ['///', '/'],
    ['/home/dev/.hidden', '/home/dev/.hidden'],
    ['/home/dev/...', '/home/dev/...'],
    ['/home/dev/a..b', '/home/dev/a..b'],
    ['/home/dev/with:colon', '/home/dev/with:colon'],
    ['/home/dev/back\\slash', '/home/dev/back\\slash'],
    ['/home/dev/..\\..\\etc', '/home/dev/..\\..\\etc'],
    ['/c/Users/dev/proj', '/c/Users/dev/proj'],
    ['/mnt/c/Users/dev/proj', '/mnt/c/Users/dev/proj'],
    ['/home/dev/$HOME', '/home/dev/$HOME'],
    ['/home/dev/-rf', '/home/dev/-rf'],
  ];
  for (const [input, expected] of good) {
    test(`normalises ${JSON.stringify(input)}`, () => {
      assert.equal(normalizeHostPath(input), expected);
      assert.equal(normalizeHostPath(input, 'posix'), expected);
    });
  }

  const bad: Array<[string, unknown, string]> = [
    ['undefined', undefined, 'missing'],
    ['null', null, 'missing'],
    ['empty string', '', 'missing'],
    ['number', 1, 'not_string'],
    ['array', ['/home'], 'not_string'],
    ['relative', 'home/dev', 'not_absolute'],
    ['dot relative', './proj', 'not_absolute'],
    ['dot dot relative', '../proj', 'not_absolute'],
    ['tilde', '~/proj', 'not_absolute'],
    ['leading space', ' /home/dev', 'not_absolute'],
    ['escape to etc', '/home/dev/projects/../../../etc', 'traversal'],
    ['trailing dot dot', '/home/dev/..', 'traversal'],
    ['dot dot at root', '/..', 'traversal'],
    ['dot dot between slashes', '/home//..//etc', 'traversal'],
    ['NUL', '/home/dev\u0000/etc', 'control_characters'],
    ['newline', '/home/dev\n/etc', 'control_characters'],
    ['tab', '/home/dev\tx', 'control_characters'],
    ['DEL', '/home/dev\u007f', 'control_characters'],
    ['C1 control', '/home/dev\u009b', 'control_characters'],
    ['lone surrogate', '/home/dev/\ud800', 'invalid_unicode'],
    ['drive backslash', 'C:\\Users\\dev\\proj', 'windows_path'],
    ['drive slash', 'C:/Users/dev/proj', 'windows_path'],
    ['lower-case drive', 'd:\\data', 'windows_path'],
    ['drive only', 'C:', 'windows_path'],
    ['drive relative', 'C:proj', 'windows_path'],
    ['unc', '\\\\server\\share\\proj', 'windows_path'],
    ['root-relative backslash', '\\Users\\dev', 'windows_path'],
    ['device path', '\\\\.\\pipe\\docker_engine', 'windows_path'],
  ];
  for (const [name, input, reason] of bad) {
    test(`rejects ${name} as ${reason}`, () => {
      const error = rejection(input);
      assert.equal(error.code, 'INVALID_LOCAL_PATH');
      assert.equal(error.details.field, 'local_path');
      assert.equal(error.details.reason, reason);
    });
  }

  test('accepts exactly 4096 bytes', () => {
    const input = `/${'a'.repeat(HOST_PATH_MAX_BYTES - 1)}`;
    assert.equal(normalizeHostPath(input), input);
  });

  test('rejects 4097 bytes as too_long', () => {
    assert.equal(rejection(`/${'a'.repeat(HOST_PATH_MAX_BYTES)}`).details.reason, 'too_long');
  });

  test('counts length in utf-8 bytes', () => {
    // 2048 two-byte letters: 2049 code units but 4097 bytes.
    const input = `/${'ü'.repeat(2048)}`;
    assert.equal(input.length < HOST_PATH_MAX_BYTES, true);
    assert.equal(rejection(input).details.reason, 'too_long');
  });

  test('details escape control characters', () => {
    const error = rejection('/home/dev\n- /etc:/etc');
    assert.doesNotMatch(String(error.details.value), /\n/);
    assert.doesNotMatch(error.message, /\n/);
  });

  test('rejects an unknown style', () => {
    assert.throws(() => normalizeHostPath('/home', 'mac' as HostPathStyle), ConfigError);
  });
});

describe('normalizeHostPath unicode and spaces', () => {
  const nfc = '/home/dev/Projekte/M\u00fcller \u0394/app';
  const nfd = '/home/dev/Projekte/Mu\u0308ller \u0394/app';

  test('keeps spaces', () => {
    assert.equal(normalizeHostPath('/home/dev/My Projects/app'), '/home/dev/My Projects/app');
    assert.equal(normalizeHostPath('/home/dev/My Projects/app/'), '/home/dev/My Projects/app');
  });

  test('keeps nfc bytes exactly', () => {
    const result = normalizeHostPath(nfc);
    assert.equal(result, nfc);
    assert.deepEqual(Buffer.from(result), Buffer.from(nfc));
  });

  test('keeps nfd bytes exactly', () => {
    const result = normalizeHostPath(nfd);
    assert.equal(result, nfd);
    assert.deepEqual(Buffer.from(result), Buffer.from(nfd));
  });

  test('nfc and nfd stay distinct', () => {
    assert.equal(nfc.normalize('NFC'), nfd.normalize('NFC'));
    assert.notEqual(normalizeHostPath(nfc), normalizeHostPath(nfd));
  });

  test('keeps nfd bytes in windows style', () => {
    const result = normalizeHostPath('C:\\Users\\Mu\u0308ller', 'windows');
    assert.equal(result, 'C:\\Users\\Mu\u0308ller');
  });
});

describe('normalizeHostPath windows', () => {
  const canonical = 'C:\\Users\\dev\\proj';
  const forms = ['C:\\Users\\dev\\proj', 'C:/Users/dev/proj', '/c/Users/dev/proj', '/mnt/c/Users/dev/proj'];

  for (const form of forms) {
    test(`maps ${JSON.stringify(form)} to one canonical form`, () => {
      assert.equal(normalizeHostPath(form, 'windows'), canonical);
    });
  }

  test('four forms give one path', () => {
    assert.equal(new Set(forms.map((form) => normalizeHostPath(form, 'windows'))).size, 1);
  });

  const good: Array<[string, string]> = [
    ['c:\\Users\\dev\\proj', canonical],
    ['C:\\Users\\dev\\proj\\', canonical],
    ['C:\\\\Users\\.\\dev\\\\proj', canonical],
    ['C:/Users\\dev/proj', canonical],
    ['/mnt/c/Users/dev/proj/', canonical],
    ['/mnt//c//Users/dev/proj', canonical],
    ['/C/Users/dev/proj', canonical],
    ['C:\\', 'C:\\'],
    ['C:/', 'C:\\'],
    ['/d', 'D:\\'],
    ['/mnt/d', 'D:\\'],
    ['D:\\My Projects\\app', 'D:\\My Projects\\app'],
    ['C:\\Users\\Dev\\Proj', 'C:\\Users\\Dev\\Proj'],
  ];
  for (const [input, expected] of good) {
    test(`normalises ${JSON.stringify(input)}`, () => {
      assert.equal(normalizeHostPath(input, 'windows'), expected);
    });
  }

  const bad: Array<[string, string, string]> = [
    ['drive only', 'C:', 'not_absolute'],
    ['drive relative', 'C:proj', 'not_absolute'],
    ['relative', 'Users\\dev', 'not_absolute'],
    ['posix path without a drive', '/home/dev/proj', 'not_absolute'],
    ['socket path', '/var/run/docker.sock', 'not_absolute'],
    ['mnt without a drive', '/mnt', 'not_absolute'],
    ['two-letter first segment', '/cd/Users', 'not_absolute'],
    ['unc', '\\\\server\\share\\proj', 'not_absolute'],
    ['unc with slashes', '//server/share/proj', 'not_absolute'],
    ['device path', '\\\\.\\pipe\\docker_engine', 'not_absolute'],
    ['extended-length path', '\\\\?\\C:\\Users', 'not_absolute'],
    ['traversal', 'C:\\Users\\..\\Windows', 'traversal'],
    ['traversal in mnt form', '/mnt/c/Users/../Windows', 'traversal'],
    ['second colon', 'C:\\Users\\dev:stream', 'bad_characters'],
    ['drive letter inside', '/c/Users/D:/x', 'bad_characters'],
    ['wildcard', 'C:\\Users\\*', 'bad_characters'],
    ['pipe', 'C:\\Users\\a|b', 'bad_characters'],
    ['trailing dot', 'C:\\Users\\proj.', 'bad_characters'],
    ['trailing space', 'C:\\Users\\proj ', 'bad_characters'],
    ['device name', 'C:\\Users\\nul', 'bad_characters'],
    ['device name with extension', 'C:\\Users\\com1.txt', 'bad_characters'],
    ['control character', 'C:\\Users\\a\nb', 'control_characters'],
  ];
  for (const [name, input, reason] of bad) {
    test(`rejects ${name} as ${reason}`, () => {
      const error = rejection(input, 'windows');
      assert.equal(error.code, 'INVALID_LOCAL_PATH');
      assert.equal(error.details.reason, reason);
    });
  }
});

describe('isWithin', () => {
  const cases: Array<[string, string, HostPathStyle, boolean]> = [
    ['/home/dev/projects', '/home/dev/projects', 'posix', true],
    ['/home/dev/projects/app', '/home/dev/projects', 'posix', true],
    ['/home/dev/projects-secrets', '/home/dev/projects', 'posix', false],
    ['/home/dev/projectsx/app', '/home/dev/projects', 'posix', false],
    ['/home/dev', '/home/dev/projects', 'posix', false],
    ['/anything', '/', 'posix', true],
    ['/', '/', 'posix', true],
    ['/Home/dev', '/home', 'posix', false],
    ['C:\\Users\\Dev\\proj', 'c:\\users\\dev', 'windows', true],
    ['C:\\Users\\dev-secrets', 'C:\\Users\\dev', 'windows', false],
    ['C:\\Users', 'C:\\', 'windows', true],
    ['D:\\Users', 'C:\\', 'windows', false],
  ];
  for (const [path, root, style, expected] of cases) {
    test(`${style} ${path} within ${root} is ${expected}`, () => {
      assert.equal(isWithin(path, root, style), expected);
    });
  }
});
