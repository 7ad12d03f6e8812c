import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, PolicyError, ValidationError } from '../../lib/errors.js';
import {
  checkHostPath,
  createHostPathPolicy,
  DEFAULT_DENY,
  DEFAULT_WINDOWS_DENY,
  type HostPathPolicy,
  type HostPathPolicyOptions,
} from '../../lib/validation/index.js';

/** Calls checkHostPath and returns the PolicyError it throws. */
function policyRejection(path: string, policy: HostPathPolicy): PolicyError {
  try {
    checkHostPath(path, policy);
  } catch (error) {
    assert.ok(error instanceof PolicyError, `expected PolicyError, got ${String(error)}`);
    return error;
  }
  assert.fail(`checkHostPath allowed ${path}`);
}

function configRejection(options: HostPathPolicyOptions): ConfigError {
  try {
    createHostPathPolicy(options);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail(`createHostPathPolicy accepted ${JSON.stringify(options)}`);
}

describe('default deny list', () => {
  const policy = createHostPathPolicy();

  const denied: Array<[string, string]> = [
    ['/', '/'],
    ['/etc', '/etc'],
    ['/etc/passwd', '/etc'],
    ['/proc', '/proc'],
    ['/proc/1/root', '/proc'],
    ['/sys', '/sys'],
    ['/sys/fs/cgroup', '/sys'],
    ['/dev', '/dev'],
    ['/dev/sda', '/dev'],
    ['/boot', '/boot'],
    ['/run', '/run'],
    ['/run/user/1000/docker.sock', '/run'],
    ['/var/run', '/var/run'],
    ['/var/run/docker.sock', '/var/run/docker.sock'],
    ['/run/docker.sock', '/run/docker.sock'],
    ['/var/lib/docker', '/var/lib/docker'],
    ['/var/lib/docker/volumes/x/_data', '/var/lib/docker'],
    ['/var/lib/containerd', '/var/lib/containerd'],
    ['/usr', '/usr'],
    ['/usr/local/bin', '/usr'],
    ['/bin', '/bin'],
    ['/sbin', '/sbin'],
    ['/lib', '/lib'],
    ['/lib32', '/lib32'],
    ['/lib64', '/lib64'],
    ['/libx32', '/libx32'],
    ['/root', '/root'],
    ['/root/.ssh', '/root'],
    ['/var', '/var/run/docker.sock'],
    ['/var/lib', '/var/lib/docker'],
  ];
  for (const [path, rule] of denied) {
    test(`denies ${path} by ${rule}`, () => {
      const error = policyRejection(path, policy);
      assert.equal(error.code, 'PATH_NOT_ALLOWED');
      assert.equal(error.status, 403);
      assert.equal(error.details.reason, 'denied');
      assert.equal(error.details.path, path);
      assert.equal(error.details.rule, rule);
    });
  }

  for (const entry of DEFAULT_DENY) {
    test(`denies listed entry ${entry}`, () => {
      assert.equal(policyRejection(entry, policy).details.reason, 'denied');
    });
  }

  const allowed = [
    '/home/dev/proj',
    '/home',
    '/opt/data',
    '/srv/www',
    '/var/www/html',
    '/var/lib/postgresql',
    '/etcetera',
    '/rooted',
    '/usrdata',
    '/lib-src',
    '/tmp/x',
    '/mnt/c/Users/dev/proj',
    '/home/dev/My Projects/app',
  ];
  for (const path of allowed) {
    test(`allows ${path}`, () => {
      assert.doesNotThrow(() => checkHostPath(path, policy));
    });
  }

  test('normalises before checking', () => {
    assert.equal(policyRejection('//etc/', policy).details.path, '/etc');
    assert.equal(policyRejection('/var/./run//docker.sock', policy).details.rule, '/var/run/docker.sock');
  });

  test('invalid path throws validation error', () => {
    assert.throws(
      () => checkHostPath('/home/dev/../../etc', policy),
      (error: unknown) => error instanceof ValidationError && error.code === 'INVALID_LOCAL_PATH',
    );
  });

  test('lists cannot be changed', () => {
    assert.throws(() => (DEFAULT_DENY as string[]).push('/x'), TypeError);
    assert.throws(() => (policy.deny as string[]).push('/x'), TypeError);
  });
});

describe('allow list', () => {
  const policy = createHostPathPolicy({ allow: ['/home/dev/projects'] });

  test('allows the root itself', () => {
    assert.doesNotThrow(() => checkHostPath('/home/dev/projects', policy));
  });

  test('allows a path inside', () => {
    assert.doesNotThrow(() => checkHostPath('/home/dev/projects/app/src', policy));
  });

  test('rejects a sibling with the same prefix', () => {
    const error = policyRejection('/home/dev/projects-secrets', policy);
    assert.equal(error.details.reason, 'outside_allow');
    assert.equal(error.details.rule, '/home/dev/projects');
  });

  test('rejects the parent', () => {
    assert.equal(policyRejection('/home/dev', policy).details.reason, 'outside_allow');
  });

  test('traversal out of the root is rejected before the policy', () => {
    assert.throws(
      () => checkHostPath('/home/dev/projects/../../../etc', policy),
      (error: unknown) => error instanceof ValidationError && error.details.reason === 'traversal',
    );
  });

  test('deny wins over an allow root of /', () => {
    const wide = createHostPathPolicy({ allow: ['/'] });
    assert.equal(policyRejection('/var/run/docker.sock', wide).details.reason, 'denied');
    assert.equal(policyRejection('/etc', wide).details.reason, 'denied');
    assert.doesNotThrow(() => checkHostPath('/home/dev', wide));
  });

  test('deny wins over an allow root that contains the socket', () => {
    const wide = createHostPathPolicy({ allow: ['/var'] });
    assert.equal(policyRejection('/var/run/docker.sock', wide).details.reason, 'denied');
    assert.equal(policyRejection('/var', wide).details.reason, 'denied');
    assert.doesNotThrow(() => checkHostPath('/var/www', wide));
  });

  test('names every root in the rule', () => {
    const two = createHostPathPolicy({ allow: ['/home/dev/a', '/srv/b'] });
    assert.equal(policyRejection('/opt', two).details.rule, '/home/dev/a,/srv/b');
    assert.doesNotThrow(() => checkHostPath('/srv/b/c', two));
  });
});

describe('extra deny entries', () => {
  const policy = createHostPathPolicy({ deny: ['/home/dev/.ssh'] });

  test('add to the built-in list', () => {
    assert.deepEqual(policy.deny.slice(0, DEFAULT_DENY.length), [...DEFAULT_DENY]);
    assert.equal(policy.deny.at(-1), '/home/dev/.ssh');
    assert.equal(policyRejection('/etc', policy).details.rule, '/etc');
  });

  test('deny the entry and below', () => {
    assert.equal(policyRejection('/home/dev/.ssh/id_ed25519', policy).details.rule, '/home/dev/.ssh');
  });

  test('deny ancestors of the entry', () => {
    assert.equal(policyRejection('/home/dev', policy).details.rule, '/home/dev/.ssh');
    assert.equal(policyRejection('/home', policy).details.rule, '/home/dev/.ssh');
  });

  test('leave siblings allowed', () => {
    assert.doesNotThrow(() => checkHostPath('/home/dev/.sshx', policy));
    assert.doesNotThrow(() => checkHostPath('/home/dev/proj', policy));
  });

  test('are not repeated when already built in', () => {
    const again = createHostPathPolicy({ deny: ['/etc'] });
    assert.equal(again.deny.length, DEFAULT_DENY.length);
  });
});

describe('policy options', () => {
  const bad: Array<[string, HostPathPolicyOptions, string]> = [
    ['relative allow entry', { allow: ['home/dev'] }, 'allow[0]'],
    ['trailing slash in allow', { allow: ['/home/dev/'] }, 'allow[0]'],
    ['double slash in deny', { deny: ['/home//dev'] }, 'deny[0]'],
    ['traversal in deny', { deny: ['/home/../etc'] }, 'deny[0]'],
    ['empty allow entry', { allow: [''] }, 'allow[0]'],
    ['second entry wrong', { allow: ['/home/dev', 'x'] }, 'allow[1]'],
    ['non-string entry', { allow: [42 as unknown as string] }, 'allow[0]'],
    ['allow not an array', { allow: '/home' as unknown as string[] }, 'allow'],
    ['unknown style', { style: 'mac' as 'posix' }, 'style'],
    ['allow inside a denied tree', { allow: ['/etc/app'] }, 'allow[0]'],
    ['allow equal to a denied entry', { allow: ['/root'] }, 'allow[0]'],
    ['allow inside an extra deny', { deny: ['/srv'], allow: ['/srv/app'] }, 'allow[0]'],
    ['posix entry in windows style', { style: 'windows', allow: ['/home/dev'] }, 'allow[0]'],
    ['lower-case drive in windows style', { style: 'windows', allow: ['c:\\Users'] }, 'allow[0]'],
  ];
  for (const [name, options, option] of bad) {
    test(`rejects ${name}`, () => {
      const error = configRejection(options);
      assert.equal(error.code, 'CONFIG_INVALID');
      assert.equal(error.details.option, option);
    });
  }

  test('error quotes the value', () => {
    const error = configRejection({ allow: ['/home/dev/'] });
    assert.equal(error.details.value, '/home/dev/');
    assert.match(error.message, /"\/home\/dev\/"/);
  });

  test('defaults to posix with no allow list', () => {
    const policy = createHostPathPolicy();
    assert.equal(policy.style, 'posix');
    assert.deepEqual(policy.allow, []);
  });

  test('allows an ancestor of a denied path as allow root', () => {
    assert.doesNotThrow(() => createHostPathPolicy({ allow: ['/var'] }));
  });
});

describe('windows policy', () => {
  const policy = createHostPathPolicy({ style: 'windows', allow: ['C:\\Users\\dev'] });

  test('uses the windows built-in list', () => {
    assert.deepEqual(policy.deny, [...DEFAULT_WINDOWS_DENY]);
  });

  test('all four forms pass as one path', () => {
    for (const form of ['C:\\Users\\dev\\proj', 'C:/Users/dev/proj', '/c/Users/dev/proj', '/mnt/c/Users/dev/proj']) {
      assert.doesNotThrow(() => checkHostPath(form, policy), form);
    }
  });

  test('compares allow roots case-insensitively', () => {
    assert.doesNotThrow(() => checkHostPath('c:\\users\\DEV\\proj', policy));
  });

  test('rejects a sibling with the same prefix', () => {
    assert.equal(policyRejection('C:\\Users\\dev-secrets', policy).details.reason, 'outside_allow');
  });

  const open = createHostPathPolicy({ style: 'windows' });
  const denied: Array<[string, string]> = [
    ['C:\\', 'C:\\'],
    ['/mnt/c', 'C:\\'],
    ['C:\\Windows\\System32', 'C:\\Windows'],
    ['c:\\windows', 'C:\\Windows'],
    ['C:\\ProgramData', 'C:\\ProgramData\\Docker'],
    ['C:\\ProgramData\\DockerDesktop\\vm-data', 'C:\\ProgramData\\DockerDesktop'],
  ];
  for (const [path, rule] of denied) {
    test(`denies ${path}`, () => {
      const error = policyRejection(path, open);
      assert.equal(error.details.reason, 'denied');
      assert.equal(error.details.rule, rule);
    });
  }

  test('denies the root of drive c only', () => {
    assert.doesNotThrow(() => checkHostPath('C:\\Users', open));
    assert.doesNotThrow(() => checkHostPath('D:\\', open));
  });

  test('posix deny list does not apply', () => {
    assert.doesNotThrow(() => checkHostPath('/c/etc', open));
  });
});
