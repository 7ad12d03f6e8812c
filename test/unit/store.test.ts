import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { ConfigError, MountCoreError } from '../../lib/errors.js';
import type { RenameFunction } from '../../lib/fs/atomic-write.js';
import { acquireLock, MountStore, type MountStoreOptions } from '../../lib/store/index.js';
import type { ValidMountRequest } from '../../lib/types.js';

async function storeFileIn(t: TestContext): Promise<string> {
  const folder = await fs.mkdtemp(path.join(os.tmpdir(), 'mount-core-store-'));
  t.after(() => fs.rm(folder, { recursive: true, force: true }));
  return path.join(folder, 'mounts.json');
}

/** Returns a clock that starts at 2024-05-01T10:00:00Z and moves one second per call. */
function steppingClock(): () => Date {
  let ms = Date.parse('2024-05-01T10:00:00.000Z');
  return () => {
    const date = new Date(ms);
    ms += 1000;
    return date;
  };
}

function request(userId: string, workspaceId: string, localPath: string, extra: Partial<ValidMountRequest> = {}): ValidMountRequest {
  return {
    user_id: userId,
    workspace_id: workspaceId,
    local_path: localPath,
    container_path: `/workspace/${userId}/${workspaceId}`,
    description: '',
    read_only: false,
    ...extra,
  };
}

function hasCode(code: string) {
  return (error: unknown) => error instanceof MountCoreError && error.code === code;
}

describe('store options', () => {
  const base: MountStoreOptions = { file: '/no/such/folder/mounts.json', workspaceRoot: '/workspace' };
  const bad: Array<[string, unknown, string]> = [
    ['null options', null, 'options'],
    ['empty file', { ...base, file: '' }, 'file'],
    ['file with NUL', { ...base, file: '/tmp/a\0b' }, 'file'],
    ['numeric file', { ...base, file: 5 }, 'file'],
    ['root workspace', { ...base, workspaceRoot: '/' }, 'workspaceRoot'],
    ['relative workspace', { ...base, workspaceRoot: 'workspace' }, 'workspaceRoot'],
    ['trailing slash workspace', { ...base, workspaceRoot: '/workspace/' }, 'workspaceRoot'],
    ['negative lock timeout', { ...base, lockTimeoutMs: -1 }, 'lockTimeoutMs'],
    ['infinite lock timeout', { ...base, lockTimeoutMs: Infinity }, 'lockTimeoutMs'],
    ['string lock timeout', { ...base, lockTimeoutMs: '100' }, 'lockTimeoutMs'],
    ['zero stale time', { ...base, staleLockMs: 0 }, 'staleLockMs'],
    ['NaN stale time', { ...base, staleLockMs: NaN }, 'staleLockMs'],
    ['clock not a function', { ...base, now: new Date() }, 'now'],
    ['rename not a function', { ...base, rename: 'mv' }, 'rename'],
  ];
  for (const [name, options, option] of bad) {
    test(`rejects ${name}`, () => {
      assert.throws(
        () => new MountStore(options as MountStoreOptions),
        (error: unknown) => error instanceof ConfigError && error.code === 'CONFIG_INVALID' && error.details.option === option,
      );
    });
  }

  test('does no i/o when constructed', () => {
    assert.doesNotThrow(() => new MountStore(base));
  });
});

describe('store reads', () => {
  test('missing file is an empty store', async (t) => {
    const file = await storeFileIn(t);
    const store = new MountStore({ file, workspaceRoot: '/workspace' });
    assert.deepEqual(await store.read(), { revision: 0, mounts: [] });
    assert.equal(await store.get('u1', 'ws1'), undefined);
    assert.deepEqual(await fs.readdir(path.dirname(file)), []);
  });

  test('get rejects invalid ids', async (t) => {
    const store = new MountStore({ file: await storeFileIn(t), workspaceRoot: '/workspace' });
    await assert.rejects(store.get('..', 'ws1'), hasCode('INVALID_USER_ID'));
    await assert.rejects(store.get('u1', 'a/b'), hasCode('INVALID_WORKSPACE_ID'));
  });

  test('a folder in place of the file is a store io error', async (t) => {
    const file = await storeFileIn(t);
    await fs.mkdir(file);
    const store = new MountStore({ file, workspaceRoot: '/workspace' });
    await assert.rejects(store.read(), (error: unknown) => {
      assert.ok(error instanceof MountCoreError);
      assert.equal(error.code, 'STORE_IO');
      assert.equal(error.details.file, file);
      assert.equal(error.details.reason, 'EISDIR');
      assert.ok(error.cause instanceof Error);
      return true;
    });
  });

  test('half-written file is read again under the lock', async (t) => {
    const file = await storeFileIn(t);
    const whole = '{"format":"mount-core/v2","revision":7,"mounts":{}}\n';
    // An in-place writer holds the lock while the file is half written.
    const lock = await acquireLock(`${file}.lock`);
    await fs.writeFile(file, whole.slice(0, 20));
    const store = new MountStore({ file, workspaceRoot: '/workspace' });
    const reading = store.read();
    await new Promise((resolve) => setTimeout(resolve, 30));
    await fs.writeFile(file, whole);
    await lock.release();
    assert.deepEqual(await reading, { revision: 7, mounts: [] });
  });

  test('lists mounts sorted by user then workspace', async (t) => {
    const store = new MountStore({ file: await storeFileIn(t), workspaceRoot: '/workspace' });
    for (const [user, workspace] of [['u2', 'a'], ['u1', 'b'], ['U9', 'z'], ['u1', 'a'], ['u10', 'a']] as const) {
      await store.upsert(request(user, workspace, `/home/dev/${user}-${workspace}`));
    }
    const keys = (await store.read()).mounts.map((mount) => `${mount.user_id}:${mount.workspace_id}`);
    assert.deepEqual(keys, ['U9:z', 'u1:a', 'u1:b', 'u10:a', 'u2:a']);
  });
});

describe('store upsert', () => {
  test('adds a pending mount', async (t) => {
    const file = await storeFileIn(t);
    const store = new MountStore({ file, workspaceRoot: '/workspace', now: steppingClock() });
    const result = await store.upsert(request('u1', 'ws1', '/home/dev/a', { description: '测试挂载点', read_only: true }));
    assert.equal(result.changed, true);
    assert.equal(result.revision, 1);
    assert.deepEqual(result.mount, {
      user_id: 'u1',
      workspace_id: 'ws1',
      local_path: '/home/dev/a',
      container_path: '/workspace/u1/ws1',
      description: '测试挂载点',
      read_only: true,
      created_at: '2024-05-01T10:00:00.000Z',
      updated_at: '2024-05-01T10:00:00.000Z',
      state: 'pending',
    });
    assert.deepEqual(await store.get('u1', 'ws1'), result.mount);
    assert.equal((await store.read()).revision, 1);
  });

  test('writes pretty v2 json with mode 0644', async (t) => {
    const file = await storeFileIn(t);
    const store = new MountStore({ file, workspaceRoot: '/workspace', now: steppingClock() });
    const { mount } = await store.upsert(request('u1', 'ws1', '/home/dev/a'));
    const text = await fs.readFile(file, 'utf8');
    const expected = { format: 'mount-core/v2', revision: 1, mounts: { 'u1:ws1': mount } };
    assert.equal(text, `${JSON.stringify(expected, null, 2)}\n`);
    assert.equal((await fs.stat(file)).mode & 0o777, 0o644);
    assert.deepEqual((await fs.readdir(path.dirname(file))).sort(), ['mounts.json']);
  });

  test('second path for the same target replaces the first', async (t) => {
    const store = new MountStore({ file: await storeFileIn(t), workspaceRoot: '/workspace', now: steppingClock() });
    const first = await store.upsert(request('u1', 'ws1', '/home/dev/a'));
    const second = await store.upsert(request('u1', 'ws1', '/home/dev/b'));
    assert.equal(second.changed, true);
    assert.equal(second.revision, 2);
    assert.equal(second.mount.local_path, '/home/dev/b');
    assert.equal(second.mount.created_at, first.mount.created_at);
    assert.notEqual(second.mount.updated_at, first.mount.updated_at);
    const { mounts } = await store.read();
    assert.equal(mounts.length, 1);
    assert.equal(mounts[0]?.local_path, '/home/dev/b');
    assert.equal(mounts[0]?.container_path, '/workspace/u1/ws1');
  });

  test('identical request writes nothing', async (t) => {
    const file = await storeFileIn(t);
    const store = new MountStore({ file, workspaceRoot: '/workspace', now: steppingClock() });
    const first = await store.upsert(request('u1', 'ws1', '/home/dev/a', { description: 'd' }));
    const bytes = await fs.readFile(file);
    const before = await fs.stat(file);
    await new Promise((resolve) => setTimeout(resolve, 20));

    const again = await store.upsert(request('u1', 'ws1', '/home/dev/a', { description: 'd' }));
    assert.equal(again.changed, false);
    assert.equal(again.revision, 1);
    assert.deepEqual(again.mount, first.mount);
    assert.deepEqual(await fs.readFile(file), bytes);
    const after = await fs.stat(file);
    assert.equal(after.mtimeMs, before.mtimeMs);
    assert.equal(after.ino, before.ino);
  });

  test('applied mount stays applied on identical request', async (t) => {
    const store = new MountStore({ file: await storeFileIn(t), workspaceRoot: '/workspace' });
    const { mount } = await store.upsert(request('u1', 'ws1', '/home/dev/a'));
    await store.recordApplyResult([{ spec: mount, state: 'applied' }]);
    const again = await store.upsert(request('u1', 'ws1', '/home/dev/a'));
    assert.equal(again.changed, false);
    assert.equal(again.mount.state, 'applied');
  });

  for (const [name, change] of [
    ['description', { description: 'new' }],
    ['read_only', { read_only: true }],
  ] as const) {
    test(`${name} change is a change`, async (t) => {
      const store = new MountStore({ file: await storeFileIn(t), workspaceRoot: '/workspace' });
      await store.upsert(request('u1', 'ws1', '/home/dev/a'));
      const result = await store.upsert(request('u1', 'ws1', '/home/dev/a', change));
      assert.equal(result.changed, true);
      assert.equal(result.revision, 2);
    });
  }

  test('failed mount is retried on identical request', async (t) => {
    const store = new MountStore({ file: await storeFileIn(t), workspaceRoot: '/workspace' });
    const { mount } = await store.upsert(request('u1', 'ws1', '/home/dev/missing'));
    await store.recordApplyResult([{ spec: mount, state: 'failed', error: { code: 'BIND_SOURCE_MISSING', message: 'no such folder' } }]);
    const again = await store.upsert(request('u1', 'ws1', '/home/dev/missing'));
    assert.equal(again.changed, true);
    assert.equal(again.revision, 2);
    assert.equal(again.mount.state, 'pending');
    assert.equal(again.mount.error, undefined);
    assert.equal((await store.get('u1', 'ws1'))?.error, undefined);
  });

  test('request for another workspace root is refused', async (t) => {
    const file = await storeFileIn(t);
    const store = new MountStore({ file, workspaceRoot: '/workspace' });
    const wrong = { ...request('u1', 'ws1', '/home/dev/a'), container_path: '/elsewhere/u1/ws1' };
    await assert.rejects(store.upsert(wrong), hasCode('CONFIG_INVALID'));
    assert.deepEqual(await fs.readdir(path.dirname(file)), []);
  });

  test('unnormalised local_path is refused', async (t) => {
    const file = await storeFileIn(t);
    const store = new MountStore({ file, workspaceRoot: '/workspace' });
    for (const localPath of ['/home/dev/a/', 'home/dev', '/home/../etc', '']) {
      await assert.rejects(store.upsert(request('u1', 'ws1', localPath)), hasCode('INVALID_LOCAL_PATH'), localPath);
    }
    assert.deepEqual(await fs.readdir(path.dirname(file)), []);
  });

  test('request with invalid ids is refused', async (t) => {
    const file = await storeFileIn(t);
    const store = new MountStore({ file, workspaceRoot: '/workspace' });
    await assert.rejects(store.upsert(request('..', 'ws1', '/home/dev/a')), hasCode('INVALID_USER_ID'));
    assert.deepEqual(await fs.readdir(path.dirname(file)), []);
  });

  test('keeps nfc and nfd paths byte for byte', async (t) => {
    const file = await storeFileIn(t);
    const store = new MountStore({ file, workspaceRoot: '/workspace' });
    const nfc = '/home/dev/Projekte/M\u00fcller \u0394/app';
    const nfd = '/home/dev/Projekte/Mu\u0308ller \u0394/app';
    await store.upsert(request('u1', 'nfc', nfc));
    await store.upsert(request('u1', 'nfd', nfd));
    await store.upsert(request('u1', 'spaces', '/home/dev/My Projects/app'));
    assert.equal((await store.get('u1', 'nfc'))?.local_path, nfc);
    assert.equal((await store.get('u1', 'nfd'))?.local_path, nfd);
    assert.equal((await store.get('u1', 'spaces'))?.local_path, '/home/dev/My Projects/app');
    const raw = await fs.readFile(file);
    assert.ok(raw.includes(Buffer.from(nfc, 'utf8')));
    assert.ok(raw.includes(Buffer.from(nfd, 'utf8')));
  });

  test('falls back to in-place when rename fails', async (t) => {
    const file = await storeFileIn(t);
    const busy: RenameFunction = async () => {
      throw Object.assign(new Error('EBUSY: resource busy'), { code: 'EBUSY' });
    };
    await fs.writeFile(file, '{"format":"mount-core/v2","revision":0,"mounts":{}}\n');
    const inode = (await fs.stat(file)).ino;
    const store = new MountStore({ file, workspaceRoot: '/workspace', rename: busy });
    await store.upsert(request('u1', 'ws1', '/home/dev/a'));
    await store.upsert(request('u1', 'ws2', '/home/dev/b'));
    assert.equal((await fs.stat(file)).ino, inode);
    assert.equal((await store.read()).mounts.length, 2);
    assert.deepEqual(await fs.readdir(path.dirname(file)), ['mounts.json']);
  });

  test('other write errors are store io errors', async (t) => {
    const file = await storeFileIn(t);
    const denied: RenameFunction = async () => {
      throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    };
    const store = new MountStore({ file, workspaceRoot: '/workspace', rename: denied });
    await assert.rejects(store.upsert(request('u1', 'ws1', '/home/dev/a')), (error: unknown) => {
      assert.ok(error instanceof MountCoreError);
      assert.equal(error.code, 'STORE_IO');
      assert.equal(error.details.reason, 'EACCES');
      assert.equal(error.details.file, file);
      return true;
    });
    assert.deepEqual(await fs.readdir(path.dirname(file)), []);
  });

  test('missing folder is a store io error', async (t) => {
    const file = path.join(path.dirname(await storeFileIn(t)), 'gone', 'mounts.json');
    const store = new MountStore({ file, workspaceRoot: '/workspace' });
    await assert.rejects(store.upsert(request('u1', 'ws1', '/home/dev/a')), hasCode('STORE_IO'));
  });

  test('held lock times out', async (t) => {
    const file = await storeFileIn(t);
    await fs.writeFile(`${file}.lock`, '{"pid":1}\n');
    const store = new MountStore({ file, workspaceRoot: '/workspace', lockTimeoutMs: 50 });
    await assert.rejects(store.upsert(request('u1', 'ws1', '/home/dev/a')), (error: unknown) => {
      assert.ok(error instanceof MountCoreError);
      assert.equal(error.code, 'STORE_LOCK_TIMEOUT');
      assert.equal(error.details.lock, `${file}.lock`);
      return true;
    });
    await assert.rejects(fs.stat(file), { code: 'ENOENT' });
  });
});

describe('store remove', () => {
  test('removes and bumps the revision', async (t) => {
    const store = new MountStore({ file: await storeFileIn(t), workspaceRoot: '/workspace' });
    const { mount } = await store.upsert(request('u1', 'ws1', '/home/dev/a'));
    await store.upsert(request('u1', 'ws2', '/home/dev/b'));
    const removed = await store.remove('u1', 'ws1');
    assert.deepEqual(removed, { mount, revision: 3 });
    const snapshot = await store.read();
    assert.equal(snapshot.revision, 3);
    assert.deepEqual(
      snapshot.mounts.map((m) => m.workspace_id),
      ['ws2'],
    );
  });

  test('missing mount is not found and writes nothing', async (t) => {
    const file = await storeFileIn(t);
    const store = new MountStore({ file, workspaceRoot: '/workspace' });
    await store.upsert(request('u1', 'ws1', '/home/dev/a'));
    const bytes = await fs.readFile(file);
    await assert.rejects(store.remove('u1', 'nope'), (error: unknown) => {
      assert.ok(error instanceof MountCoreError);
      assert.equal(error.code, 'MOUNT_NOT_FOUND');
      assert.equal(error.status, 404);
      assert.deepEqual(error.details, { user_id: 'u1', workspace_id: 'nope' });
      return true;
    });
    assert.deepEqual(await fs.readFile(file), bytes);
    assert.deepEqual(await fs.readdir(path.dirname(file)), ['mounts.json']);
  });

  test('invalid ids are rejected before the lock', async (t) => {
    const file = await storeFileIn(t);
    const store = new MountStore({ file, workspaceRoot: '/workspace' });
    await assert.rejects(store.remove('u1', '..'), hasCode('INVALID_WORKSPACE_ID'));
    assert.deepEqual(await fs.readdir(path.dirname(file)), []);
  });
});

describe('store apply results', () => {
  test('records state without a new revision', async (t) => {
    const store = new MountStore({ file: await storeFileIn(t), workspaceRoot: '/workspace' });
    const a = (await store.upsert(request('u1', 'a', '/home/dev/a'))).mount;
    const b = (await store.upsert(request('u1', 'b', '/home/dev/b'))).mount;
    await store.recordApplyResult([
      { spec: a, state: 'applied' },
      { spec: b, state: 'failed', error: { code: 'BIND_SOURCE_MISSING', message: 'bind source path does not exist', step: 'create' } },
    ]);
    const snapshot = await store.read();
    assert.equal(snapshot.revision, 2);
    assert.equal(snapshot.mounts[0]?.state, 'applied');
    assert.equal(snapshot.mounts[0]?.error, undefined);
    assert.equal(snapshot.mounts[1]?.state, 'failed');
    assert.deepEqual(snapshot.mounts[1]?.error, { code: 'BIND_SOURCE_MISSING', message: 'bind source path does not exist', step: 'create' });
    assert.equal(snapshot.mounts[0]?.updated_at, a.updated_at);
  });

  test('clears the error once applied', async (t) => {
    const store = new MountStore({ file: await storeFileIn(t), workspaceRoot: '/workspace' });
    const { mount } = await store.upsert(request('u1', 'a', '/home/dev/a'));
    await store.recordApplyResult([{ spec: mount, state: 'failed', error: { code: 'RECREATE_FAILED', message: 'x' } }]);
    await store.recordApplyResult([{ spec: mount, state: 'applied', error: { code: 'IGNORED', message: 'y' } }]);
    const stored = await store.get('u1', 'a');
    assert.equal(stored?.state, 'applied');
    assert.equal(stored?.error, undefined);
  });

  test('skips a mount changed during the apply', async (t) => {
    const store = new MountStore({ file: await storeFileIn(t), workspaceRoot: '/workspace' });
    const applied = (await store.upsert(request('u1', 'a', '/home/dev/a'))).mount;
    await store.upsert(request('u1', 'a', '/home/dev/other'));
    await store.recordApplyResult([{ spec: applied, state: 'applied' }]);
    assert.equal((await store.get('u1', 'a'))?.state, 'pending');
  });

  test('skips a mount whose read_only changed', async (t) => {
    const store = new MountStore({ file: await storeFileIn(t), workspaceRoot: '/workspace' });
    const applied = (await store.upsert(request('u1', 'a', '/home/dev/a'))).mount;
    await store.upsert(request('u1', 'a', '/home/dev/a', { read_only: true }));
    await store.recordApplyResult([{ spec: applied, state: 'applied' }]);
    assert.equal((await store.get('u1', 'a'))?.state, 'pending');
  });

  test('skips a removed mount', async (t) => {
    const file = await storeFileIn(t);
    const store = new MountStore({ file, workspaceRoot: '/workspace' });
    const applied = (await store.upsert(request('u1', 'a', '/home/dev/a'))).mount;
    await store.remove('u1', 'a');
    const bytes = await fs.readFile(file);
    await store.recordApplyResult([{ spec: applied, state: 'applied' }]);
    assert.deepEqual(await fs.readFile(file), bytes);
  });

  test('writes nothing when no state changes', async (t) => {
    const file = await storeFileIn(t);
    const store = new MountStore({ file, workspaceRoot: '/workspace' });
    const { mount } = await store.upsert(request('u1', 'a', '/home/dev/a'));
    await store.recordApplyResult([{ spec: mount, state: 'applied' }]);
    const bytes = await fs.readFile(file);
    const before = await fs.stat(file);
    await store.recordApplyResult([{ spec: mount, state: 'applied' }]);
    await store.recordApplyResult([]);
    assert.deepEqual(await fs.readFile(file), bytes);
    assert.equal((await fs.stat(file)).ino, before.ino);
  });
});

describe('store workspace root', () => {
  test('recomputes targets after a root change', async (t) => {
    const file = await storeFileIn(t);
    const first = new MountStore({ file, workspaceRoot: '/workspace' });
    const { mount } = await first.upsert(request('u1', 'a', '/home/dev/a'));
    await first.recordApplyResult([{ spec: mount, state: 'applied' }]);

    const moved = new MountStore({ file, workspaceRoot: '/data/ws' });
    const stored = await moved.get('u1', 'a');
    assert.equal(stored?.container_path, '/data/ws/u1/a');
    assert.equal(stored?.state, 'pending');
    assert.equal((await first.get('u1', 'a'))?.state, 'applied');
  });
});
