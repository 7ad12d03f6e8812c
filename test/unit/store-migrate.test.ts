import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { MountStore } from '../../lib/store/index.js';

const NOW = new Date('2024-06-01T12:00:00.000Z');

/** A flat file as the original service wrote it, with the variations it allowed. */
const flatText = `${JSON.stringify(
  {
    'user1:ws1': {
      user_id: 'user1',
      workspace_id: 'ws1',
      local_path: '/path/to/local/folder',
      description: '测试挂载点',
      created_at: '2024-03-01T08:30:00',
    },
    'user1:ws2': {
      user_id: 'user1',
      workspace_id: 'ws2',
      local_path: '/home/dev/My Projects/app/',
      created_at: 1709282400.5,
    },
    'user2:ws1': {
      local_path: '/home/dev//b',
      description: null,
      read_only: true,
    },
  },
  null,
  4,
)}\n`;

async function flatStore(t: TestContext, text = flatText): Promise<{ store: MountStore; file: string }> {
  const folder = await fs.mkdtemp(path.join(os.tmpdir(), 'mount-core-migrate-'));
  t.after(() => fs.rm(folder, { recursive: true, force: true }));
  const file = path.join(folder, 'mounts.json');
  await fs.writeFile(file, text);
  return { store: new MountStore({ file, workspaceRoot: '/workspace', now: () => NOW }), file };
}

test('reads the flat format as v2 mounts', async (t) => {
  const { store } = await flatStore(t);
  const snapshot = await store.read();
  assert.equal(snapshot.revision, 0);
  assert.deepEqual(snapshot.mounts, [
    {
      user_id: 'user1',
      workspace_id: 'ws1',
      local_path: '/path/to/local/folder',
      container_path: '/workspace/user1/ws1',
      description: '测试挂载点',
      read_only: false,
      created_at: new Date('2024-03-01T08:30:00').toISOString(),
      updated_at: new Date('2024-03-01T08:30:00').toISOString(),
      state: 'pending',
    },
    {
      user_id: 'user1',
      workspace_id: 'ws2',
      local_path: '/home/dev/My Projects/app',
      container_path: '/workspace/user1/ws2',
      description: '',
      read_only: false,
      created_at: '2024-03-01T08:40:00.500Z',
      updated_at: '2024-03-01T08:40:00.500Z',
      state: 'pending',
    },
    {
      user_id: 'user2',
      workspace_id: 'ws1',
      local_path: '/home/dev/b',
      container_path: '/workspace/user2/ws1',
      description: '',
      read_only: true,
      created_at: NOW.toISOString(),
      updated_at: NOW.toISOString(),
      state: 'pending',
    },
  ]);
});

test('reading leaves the flat file as it was', async (t) => {
  const { store, file } = await flatStore(t);
  await store.read();
  await store.get('user1', 'ws1');
  assert.equal(await fs.readFile(file, 'utf8'), flatText);
  assert.deepEqual(await fs.readdir(path.dirname(file)), ['mounts.json']);
});

test('first write stores v2 and keeps a backup', async (t) => {
  const { store, file } = await flatStore(t);
  const result = await store.upsert({
    user_id: 'user3',
    workspace_id: 'ws1',
    local_path: '/home/dev/c',
    container_path: '/workspace/user3/ws1',
    description: '',
    read_only: false,
  });
  assert.equal(result.revision, 1);

  const written = JSON.parse(await fs.readFile(file, 'utf8')) as { format: string; revision: number; mounts: Record<string, unknown> };
  assert.equal(written.format, 'mount-core/v2');
  assert.equal(written.revision, 1);
  assert.deepEqual(Object.keys(written.mounts), ['user1:ws1', 'user1:ws2', 'user2:ws1', 'user3:ws1']);
  assert.equal(await fs.readFile(`${file}.v1.bak`, 'utf8'), flatText);
  assert.deepEqual((await fs.readdir(path.dirname(file))).sort(), ['mounts.json', 'mounts.json.v1.bak']);
});

test('migrated records survive the first write unchanged', async (t) => {
  const { store } = await flatStore(t);
  const before = await store.read();
  await store.remove('user1', 'ws2');
  const after = await store.read();
  assert.deepEqual(
    after.mounts,
    before.mounts.filter((mount) => mount.workspace_id !== 'ws2' || mount.user_id !== 'user1'),
  );
});

test('backup is written only once', async (t) => {
  const { store, file } = await flatStore(t);
  await fs.writeFile(`${file}.v1.bak`, 'an earlier backup\n');
  await store.remove('user2', 'ws1');
  assert.equal(await fs.readFile(`${file}.v1.bak`, 'utf8'), 'an earlier backup\n');

  await store.remove('user1', 'ws1');
  assert.equal(await fs.readFile(`${file}.v1.bak`, 'utf8'), 'an earlier backup\n');
});

test('apply results migrate the file too', async (t) => {
  const { store, file } = await flatStore(t);
  const [first] = (await store.read()).mounts;
  assert.ok(first);
  await store.recordApplyResult([{ spec: first, state: 'applied' }]);
  const written = JSON.parse(await fs.readFile(file, 'utf8')) as { format: string; revision: number };
  assert.equal(written.format, 'mount-core/v2');
  assert.equal(written.revision, 0);
  assert.equal((await store.get('user1', 'ws1'))?.state, 'applied');
  assert.equal(await fs.readFile(`${file}.v1.bak`, 'utf8'), flatText);
});

test('identical request on a flat file writes nothing', async (t) => {
  const { store, file } = await flatStore(t);
  const result = await store.upsert({
    user_id: 'user1',
    workspace_id: 'ws1',
    local_path: '/path/to/local/folder',
    container_path: '/workspace/user1/ws1',
    description: '测试挂载点',
    read_only: false,
  });
  assert.equal(result.changed, false);
  assert.equal(await fs.readFile(file, 'utf8'), flatText);
});

test('empty flat object migrates', async (t) => {
  const { store, file } = await flatStore(t, '{}\n');
  await store.upsert({
    user_id: 'u1',
    workspace_id: 'ws1',
    local_path: '/home/dev/a',
    container_path: '/workspace/u1/ws1',
    description: '',
    read_only: false,
  });
  assert.equal(await fs.readFile(`${file}.v1.bak`, 'utf8'), '{}\n');
  assert.equal((await store.read()).revision, 1);
});

test('windows drive path migrates to canonical form', async (t) => {
  const text = JSON.stringify({ 'u1:ws1': { user_id: 'u1', workspace_id: 'ws1', local_path: 'c:/Users/dev/proj/' } });
  const { store } = await flatStore(t, text);
  assert.equal((await store.get('u1', 'ws1'))?.local_path, 'C:\\Users\\dev\\proj');
});

test('timestamps in milliseconds are read as such', async (t) => {
  const ms = Date.parse('2024-03-01T08:40:00.000Z');
  const text = JSON.stringify({ 'u1:ws1': { user_id: 'u1', workspace_id: 'ws1', local_path: '/a', created_at: ms } });
  const { store } = await flatStore(t, text);
  assert.equal((await store.get('u1', 'ws1'))?.created_at, '2024-03-01T08:40:00.000Z');
});

test('unreadable timestamp becomes now', async (t) => {
  const text = JSON.stringify({ 'u1:ws1': { user_id: 'u1', workspace_id: 'ws1', local_path: '/a', created_at: 'last tuesday' } });
  const { store } = await flatStore(t, text);
  assert.equal((await store.get('u1', 'ws1'))?.created_at, NOW.toISOString());
});
