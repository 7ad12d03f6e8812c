/**
 * The host-root view: a temp folder plays the host's `/`, with
 * folders, a file and symlinks inside it. Symlinks resolve inside that folder
 * as the host's kernel would resolve them, and the policy applies to the real
 * path.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MountCoreError } from '../../lib/errors.js';
import {
  checkHostFolder,
  createHostPathPolicy,
  createHostRoot,
  MAX_SYMLINKS,
  resolveHostPath,
  validateMountRequest,
  type HostRoot,
  type HostRootFs,
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

describe('host root on a temp folder', () => {
  let folder: string;
  let hostRoot: HostRoot;
  const policy = createHostPathPolicy({ allow: ['/home/dev/projects'] });
  const open = createHostPathPolicy();

  before(async () => {
    folder = await mkdtemp(join(tmpdir(), 'mc-host-root-'));
    const at = (path: string) => join(folder, path);
    await mkdir(at('etc'), { recursive: true });
    await writeFile(at('etc/passwd'), 'root:x:0:0\n');
    await mkdir(at('var/run'), { recursive: true });
    await writeFile(at('var/run/docker.sock'), '');
    await mkdir(at('home/dev/projects/app/src'), { recursive: true });
    await mkdir(at('home/dev/other'), { recursive: true });
    await writeFile(at('home/dev/projects/notes.txt'), 'a file');
    await symlink('/etc', at('home/dev/projects/to-etc'));
    await symlink('../../../../../../../etc', at('home/dev/projects/climb'));
    await symlink('app', at('home/dev/projects/alias'));
    await symlink('/home/dev/projects/app/src', at('home/dev/projects/abs-alias'));
    await symlink('/home/dev/other', at('home/dev/projects/sideways'));
    await symlink('/var/run/docker.sock', at('home/dev/projects/sock'));
    await symlink('/', at('home/dev/projects/root'));
    await symlink('loop-b', at('home/dev/projects/loop-a'));
    await symlink('loop-a', at('home/dev/projects/loop-b'));
    await symlink('/home/dev/projects/to-etc', at('home/dev/projects/chain'));
    await symlink('notes.txt', at('home/dev/projects/file-alias'));
    await symlink('missing-target', at('home/dev/projects/dangling'));
    hostRoot = createHostRoot({ root: folder });
  });

  after(() => rm(folder, { recursive: true, force: true }));

  test('folder without symlinks resolves to itself', () => {
    assert.deepEqual(resolveHostPath('/home/dev/projects/app', hostRoot), { path: '/home/dev/projects/app', isDirectory: true });
    assert.equal(checkHostFolder('/home/dev/projects/app', policy, hostRoot), '/home/dev/projects/app');
  });

  test('relative and absolute symlinks inside allow pass', () => {
    assert.equal(checkHostFolder('/home/dev/projects/alias', policy, hostRoot), '/home/dev/projects/app');
    assert.equal(checkHostFolder('/home/dev/projects/abs-alias', policy, hostRoot), '/home/dev/projects/app/src');
    assert.equal(checkHostFolder('/home/dev/projects/alias/src', policy, hostRoot), '/home/dev/projects/app/src');
  });

  const denied: Array<[string, string, string]> = [
    ['/home/dev/projects/to-etc', '/etc', 'denied'],
    ['/home/dev/projects/climb', '/etc', 'denied'],
    ['/home/dev/projects/chain', '/etc', 'denied'],
    ['/home/dev/projects/root', '/', 'denied'],
    ['/home/dev/projects/sideways', '/home/dev/other', 'outside_allow'],
  ];
  for (const [path, realPath, reason] of denied) {
    test(`symlink ${path} to ${realPath} is rejected`, () => {
      const error = rejection(() => checkHostFolder(path, policy, hostRoot));
      assert.equal(error.code, 'PATH_NOT_ALLOWED');
      assert.equal(error.status, 403);
      assert.equal(error.details.path, path);
      assert.equal(error.details.real_path, realPath);
      assert.equal(error.details.reason, reason);
    });
  }

  test('symlink into etc below a real path', () => {
    const error = rejection(() => checkHostFolder('/home/dev/projects/to-etc/passwd', policy, hostRoot));
    assert.equal(error.code, 'PATH_NOT_ALLOWED');
    assert.equal(error.details.real_path, '/etc/passwd');
  });

  test('symlink to the docker socket is rejected', () => {
    const error = rejection(() => checkHostFolder('/home/dev/projects/sock', open, hostRoot));
    assert.equal(error.code, 'PATH_NOT_ALLOWED');
    assert.equal(error.details.real_path, '/var/run/docker.sock');
  });

  test('absolute symlink stays inside the host root', () => {
    // fs.realpath would follow "/etc" to the real /etc of this machine.
    assert.deepEqual(resolveHostPath('/home/dev/projects/to-etc', hostRoot), { path: '/etc', isDirectory: true });
  });

  test('missing folder is BIND_SOURCE_MISSING', () => {
    const error = rejection(() => checkHostFolder('/home/dev/projects/does-not-exist', policy, hostRoot));
    assert.equal(error.code, 'BIND_SOURCE_MISSING');
    assert.equal(error.status, 400);
    assert.equal(error.details.path, '/home/dev/projects/does-not-exist');
    assert.equal(error.details.missing, '/home/dev/projects/does-not-exist');
  });

  test('missing parent names the first missing component', () => {
    const error = rejection(() => checkHostFolder('/home/dev/projects/nope/deeper/still', policy, hostRoot));
    assert.equal(error.code, 'BIND_SOURCE_MISSING');
    assert.equal(error.details.missing, '/home/dev/projects/nope');
  });

  test('dangling symlink is BIND_SOURCE_MISSING', () => {
    const error = rejection(() => checkHostFolder('/home/dev/projects/dangling', policy, hostRoot));
    assert.equal(error.code, 'BIND_SOURCE_MISSING');
  });

  test('regular file is BIND_SOURCE_NOT_DIRECTORY', () => {
    for (const path of ['/home/dev/projects/notes.txt', '/home/dev/projects/file-alias']) {
      const error = rejection(() => checkHostFolder(path, policy, hostRoot));
      assert.equal(error.code, 'BIND_SOURCE_NOT_DIRECTORY', path);
      assert.equal(error.status, 400, path);
      assert.equal(error.details.real_path, '/home/dev/projects/notes.txt', path);
    }
  });

  test('file used as a folder is missing', () => {
    const error = rejection(() => checkHostFolder('/home/dev/projects/notes.txt/sub', policy, hostRoot));
    assert.equal(error.code, 'BIND_SOURCE_MISSING');
    assert.equal(error.details.missing, '/home/dev/projects/notes.txt');
  });

  test('symlink loop is INVALID_LOCAL_PATH', () => {
    const error = rejection(() => checkHostFolder('/home/dev/projects/loop-a', policy, hostRoot));
    assert.equal(error.code, 'INVALID_LOCAL_PATH');
    assert.equal(error.details.reason, 'symlink_loop');
    assert.equal(error.details.max_symlinks, MAX_SYMLINKS);
  });

  test('lexical policy runs before any lookup', () => {
    const lookups: string[] = [];
    const spy: HostRoot = createHostRoot({
      root: folder,
      fs: {
        lstat: (path) => {
          lookups.push(path);
          throw Object.assign(new Error('no'), { code: 'ENOENT' });
        },
        readlink: () => '',
      },
    });
    for (const path of ['/etc', '/home/dev/projects-secrets', '/var/run/docker.sock']) {
      assert.equal(rejection(() => checkHostFolder(path, policy, spy)).code, 'PATH_NOT_ALLOWED', path);
    }
    assert.deepEqual(lookups, []);
  });

  test('mount request with a host root', () => {
    const options = { policy, workspaceRoot: '/workspace', hostRoot };
    const body = { user_id: 'u1', workspace_id: 'ws1' };
    assert.equal(validateMountRequest({ ...body, local_path: '/home/dev/projects/app/' }, options).local_path, '/home/dev/projects/app');
    // The request keeps the path as asked; only the check follows the symlink.
    assert.equal(validateMountRequest({ ...body, local_path: '/home/dev/projects/alias' }, options).local_path, '/home/dev/projects/alias');
    assert.equal(rejection(() => validateMountRequest({ ...body, local_path: '/home/dev/projects/to-etc' }, options)).code, 'PATH_NOT_ALLOWED');
    assert.equal(rejection(() => validateMountRequest({ ...body, local_path: '/home/dev/projects/nope' }, options)).code, 'BIND_SOURCE_MISSING');
    assert.equal(rejection(() => validateMountRequest({ ...body, local_path: '/home/dev/projects/notes.txt' }, options)).code, 'BIND_SOURCE_NOT_DIRECTORY');
    // A malformed field is reported before anything is looked up.
    assert.equal(rejection(() => validateMountRequest({ ...body, user_id: '..', local_path: '/home/dev/projects/nope' }, options)).code, 'INVALID_USER_ID');
  });
});

describe('host root with injected file system', () => {
  /** Builds a file system of folders, files and symlinks from a map of physical path to entry. */
  function fakeFs(entries: Record<string, 'dir' | 'file' | { link: string } | { error: string }>): HostRootFs {
    const find = (path: string) => {
      const entry = entries[path];
      if (entry === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
      if (typeof entry === 'object' && 'error' in entry) throw Object.assign(new Error(`${entry.error}: ${path}`), { code: entry.error });
      return entry;
    };
    return {
      lstat: (path) => {
        const entry = find(path);
        return { isDirectory: () => entry === 'dir', isSymbolicLink: () => typeof entry === 'object' };
      },
      readlink: (path) => {
        const entry = find(path);
        if (typeof entry !== 'object' || !('link' in entry)) throw Object.assign(new Error('EINVAL'), { code: 'EINVAL' });
        return entry.link;
      },
    };
  }

  test('root "/" resolves paths as they are', () => {
    const hostRoot = createHostRoot({ root: '/', fs: fakeFs({ '/srv': 'dir', '/srv/a': 'dir', '/srv/b': { link: 'a' } }) });
    assert.deepEqual(resolveHostPath('/srv/b', hostRoot), { path: '/srv/a', isDirectory: true });
  });

  test('permission error is unverifiable', () => {
    const hostRoot = createHostRoot({ root: '/host', fs: fakeFs({ '/host/srv': 'dir', '/host/srv/private': { error: 'EACCES' } }) });
    const error = rejection(() => checkHostFolder('/srv/private', createHostPathPolicy(), hostRoot));
    assert.equal(error.code, 'PATH_NOT_ALLOWED');
    assert.equal(error.details.reason, 'unverifiable');
    assert.equal(error.details.error_code, 'EACCES');
  });

  test('".." in a link target drops real folders only', () => {
    const hostRoot = createHostRoot({
      root: '/host',
      fs: fakeFs({ '/host/a': 'dir', '/host/a/b': 'dir', '/host/a/b/up': { link: '../../c' }, '/host/c': 'dir' }),
    });
    assert.deepEqual(resolveHostPath('/a/b/up', hostRoot), { path: '/c', isDirectory: true });
  });

  test('windows style is a configuration error', () => {
    const hostRoot = createHostRoot({ root: '/host', fs: fakeFs({}) });
    const error = rejection(() => checkHostFolder('C:\\Users\\dev', createHostPathPolicy({ style: 'windows' }), hostRoot));
    assert.equal(error.code, 'CONFIG_INVALID');
  });

  for (const root of ['', 'host', '/host/', '/host/../etc', '/ho\u0000st', 42]) {
    test(`invalid root ${JSON.stringify(root)} is rejected`, () => {
      assert.equal(rejection(() => createHostRoot({ root: root as string })).code, 'CONFIG_INVALID');
    });
  }
});

describe('HOST_ROOT configuration', () => {
  const base = { MOUNT_DATA_FILE: '/data/mounts.json' };

  test('unset by default', () => {
    assert.equal(loadMonitorConfig(base).hostRoot, undefined);
  });

  test('read as given', () => {
    assert.equal(loadMonitorConfig({ ...base, HOST_ROOT: '/host' }).hostRoot, '/host');
  });

  for (const value of ['host', '/host/', '/host/../x']) {
    test(`rejects ${value}`, () => {
      assert.equal(rejection(() => loadMonitorConfig({ ...base, HOST_ROOT: value })).code, 'CONFIG_INVALID');
    });
  }

  test('rejects a windows host', () => {
    assert.equal(rejection(() => loadMonitorConfig({ ...base, HOST_ROOT: '/host', HOST_PATH_STYLE: 'windows' })).code, 'CONFIG_INVALID');
  });
});
