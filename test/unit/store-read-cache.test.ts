/**
 * MountStore.read() keeps its last parse while the file is unchanged. These
 * tests change the file in every way another process can and check that the
 * next read returns the change.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { ConfigError, MountCoreError } from '../../lib/errors.js';
import { MountStore } from '../../lib/store/index.js';
import type { ValidMountRequest } from '../../lib/types.js';

/** Short enough to wait for in a test; real files use the 2 s default. */
const SETTLE_MS = 30;

async function storeFileIn(t: TestContext): Promise<string> {
  const folder = await fs.mkdtemp(path.join(os.tmpdir(), 'mount-core-read-cache-'));
  t.after(() => fs.rm(folder, { recursive: true, force: true }));
  return path.join(folder, 'mounts.json');
}

function request(workspaceId: string, localPath: string): ValidMountRequest {
  return { user_id: 'u1', workspace_id: workspaceId, local_path: localPath, container_path: `/workspace/u1/${workspaceId}`, description: '', read_only: false };
}

/** Waits until a file written now counts as settled, so that the next read keeps its parse. */
const settle = () => new Promise((resolve) => setTimeout(resolve, SETTLE_MS * 2));

test('read sees a write by another store', async (t) => {
  const file = await storeFileIn(t);
  const reader = new MountStore({ file, workspaceRoot: '/workspace', readCacheSettleMs: SETTLE_MS });
  const writer = new MountStore({ file, workspaceRoot: '/workspace' });
  await writer.upsert(request('ws1', '/srv/a'));
  await settle();
  assert.equal((await reader.read()).mounts.length, 1);
  assert.equal((await reader.read()).mounts.length, 1);

  await writer.upsert(request('ws2', '/srv/b'));
  const after = await reader.read();
  assert.equal(after.revision, 2);
  assert.deepEqual(after.mounts.map((mount) => mount.workspace_id), ['ws1', 'ws2']);
});

test('read sees an in-place rewrite of the same size and mtime', async (t) => {
  const file = await storeFileIn(t);
  const store = new MountStore({ file, workspaceRoot: '/workspace', readCacheSettleMs: SETTLE_MS });
  await store.upsert(request('ws1', '/srv/a'));
  const before = await fs.stat(file);
  await settle();
  assert.equal((await store.read()).mounts[0]!.local_path, '/srv/a');

  // The way a bind-mounted single file is rewritten: same inode, same length, mtime put back.
  const text = await fs.readFile(file, 'utf8');
  const handle = await fs.open(file, 'r+');
  await handle.write(text.replace('"/srv/a"', '"/srv/b"'), 0, 'utf8');
  await handle.close();
  await fs.utimes(file, before.atime, before.mtime);
  assert.equal((await fs.stat(file)).size, before.size);

  assert.equal((await store.read()).mounts[0]!.local_path, '/srv/b');
});

test('read reports a file corrupted after a kept parse', async (t) => {
  const file = await storeFileIn(t);
  const store = new MountStore({ file, workspaceRoot: '/workspace', readCacheSettleMs: SETTLE_MS, lockTimeoutMs: 200 });
  await store.upsert(request('ws1', '/srv/a'));
  await settle();
  await store.read();

  await fs.writeFile(file, '{ "format": "mount-core/v2", ');
  await assert.rejects(store.read(), (error: unknown) => error instanceof MountCoreError && error.code === 'STORE_CORRUPT');
});

test('read returns copies of kept mounts', async (t) => {
  const file = await storeFileIn(t);
  const store = new MountStore({ file, workspaceRoot: '/workspace', readCacheSettleMs: SETTLE_MS });
  await store.upsert(request('ws1', '/srv/a'));
  await store.recordApplyResult([{ spec: request('ws1', '/srv/a'), state: 'failed', error: { code: 'BIND_SOURCE_MISSING', message: 'gone' } }]);
  await settle();

  const first = await store.read();
  first.mounts[0]!.local_path = '/changed';
  first.mounts[0]!.error!.code = 'CHANGED';
  first.mounts.pop();

  const second = await store.read();
  assert.equal(second.mounts.length, 1);
  assert.equal(second.mounts[0]!.local_path, '/srv/a');
  assert.equal(second.mounts[0]!.error?.code, 'BIND_SOURCE_MISSING');
});

test('readShared keeps one frozen snapshot', async (t) => {
  const file = await storeFileIn(t);
  const store = new MountStore({ file, workspaceRoot: '/workspace', readCacheSettleMs: SETTLE_MS });
  const writer = new MountStore({ file, workspaceRoot: '/workspace' });
  await writer.upsert(request('ws1', '/srv/a'));
  await writer.recordApplyResult([
    { spec: request('ws1', '/srv/a'), state: 'failed', error: { code: 'BIND_SOURCE_MISSING', message: 'gone', details: { path: '/srv/a' } } },
  ]);
  await settle();

  const first = await store.readShared();
  assert.equal(await store.readShared(), first, 'the same object while the file is unchanged');
  assert.throws(() => {
    (first.mounts as unknown[]).pop();
  }, TypeError);
  assert.throws(() => {
    (first.mounts[0] as { local_path: string }).local_path = '/changed';
  }, TypeError);
  assert.throws(() => {
    (first.mounts[0]!.error!.details as Record<string, unknown>).path = '/changed';
  }, TypeError);

  // read() copies deep enough to be changed freely.
  const copy = await store.read();
  copy.mounts[0]!.error!.details!.path = '/changed';
  assert.equal(first.mounts[0]!.error!.details!.path, '/srv/a');

  await writer.upsert(request('ws2', '/srv/b'));
  const after = await store.readShared();
  assert.notEqual(after, first);
  assert.equal(after.mounts.length, 2);
});

test('store rejects an invalid readCacheSettleMs', () => {
  for (const value of [-1, Number.NaN, Infinity]) {
    assert.throws(
      () => new MountStore({ file: '/tmp/mounts.json', workspaceRoot: '/workspace', readCacheSettleMs: value }),
      (error: unknown) => error instanceof ConfigError && String(error.details.option) === 'readCacheSettleMs',
    );
  }
});
