import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { MountCoreError } from '../../lib/errors.js';
import { MountStore } from '../../lib/store/index.js';

const mount = {
  user_id: 'u1',
  workspace_id: 'ws1',
  local_path: '/home/dev/a',
  container_path: '/workspace/u1/ws1',
  description: '',
  read_only: false,
  created_at: '2024-05-01T10:00:00.000Z',
  updated_at: '2024-05-01T10:00:00.000Z',
  state: 'applied',
};
const validText = `${JSON.stringify({ format: 'mount-core/v2', revision: 4, mounts: { 'u1:ws1': mount } }, null, 2)}\n`;

function v2With(record: Record<string, unknown>, key = 'u1:ws1'): string {
  return JSON.stringify({ format: 'mount-core/v2', revision: 1, mounts: { [key]: record } });
}

const corruptFiles: Array<[string, string | Buffer]> = [
  ['empty file', ''],
  ['whitespace only', '  \n'],
  ['cut mid-json', validText.slice(0, Math.floor(validText.length / 2))],
  ['cut after the last brace but one', validText.slice(0, validText.lastIndexOf('}'))],
  ['invalid utf-8', Buffer.concat([Buffer.from('{"format":"mount-core/v2","revision":0,"mounts":{"'), Buffer.from([0xff, 0xfe]), Buffer.from('":1}}')])],
  ['nul bytes', Buffer.alloc(64)],
  ['json null', 'null'],
  ['json array', '[]'],
  ['json string', '"mounts"'],
  ['newer format', JSON.stringify({ format: 'mount-core/v3', revision: 1, mounts: {} })],
  ['format not a string', JSON.stringify({ format: 2, revision: 1, mounts: {} })],
  ['missing revision', JSON.stringify({ format: 'mount-core/v2', mounts: {} })],
  ['negative revision', JSON.stringify({ format: 'mount-core/v2', revision: -1, mounts: {} })],
  ['fractional revision', JSON.stringify({ format: 'mount-core/v2', revision: 1.5, mounts: {} })],
  ['mounts is a list', JSON.stringify({ format: 'mount-core/v2', revision: 1, mounts: [] })],
  ['record not an object', v2With('x' as unknown as Record<string, unknown>)],
  ['key does not match ids', v2With(mount, 'u1:ws2')],
  ['invalid user id', v2With({ ...mount, user_id: '..' }, '..:ws1')],
  ['relative local path', v2With({ ...mount, local_path: 'home/dev' })],
  ['unnormalised local path', v2With({ ...mount, local_path: '/home/dev/' })],
  ['traversal local path', v2With({ ...mount, local_path: '/home/../etc' })],
  ['missing container path', v2With({ ...mount, container_path: undefined })],
  ['string read_only', v2With({ ...mount, read_only: 'false' })],
  ['missing description', v2With({ ...mount, description: undefined })],
  ['bad created_at', v2With({ ...mount, created_at: 'yesterday' })],
  ['unknown state', v2With({ ...mount, state: 'done' })],
  ['malformed error', v2With({ ...mount, state: 'failed', error: 'boom' })],
  ['flat record not an object', JSON.stringify({ 'u1:ws1': '/home/dev/a' })],
  ['flat record with bad key', JSON.stringify({ 'u1:ws1': { user_id: 'u1', workspace_id: 'other', local_path: '/home/dev/a' } })],
  ['flat record with traversal', JSON.stringify({ 'u1:ws1': { user_id: 'u1', workspace_id: 'ws1', local_path: '/home/dev/../../etc' } })],
  ['flat record with relative path', JSON.stringify({ 'u1:ws1': { user_id: 'u1', workspace_id: 'ws1', local_path: 'proj' } })],
  ['flat record without path', JSON.stringify({ 'u1:ws1': { user_id: 'u1', workspace_id: 'ws1' } })],
  ['flat record with newline id', JSON.stringify({ 'u1:ws\n1': { user_id: 'u1', workspace_id: 'ws\n1', local_path: '/home/dev/a' } })],
  ['flat record with numeric description', JSON.stringify({ 'u1:ws1': { user_id: 'u1', workspace_id: 'ws1', local_path: '/a', description: 5 } })],
];

async function corruptStore(t: TestContext, content: string | Buffer): Promise<{ store: MountStore; file: string }> {
  const folder = await fs.mkdtemp(path.join(os.tmpdir(), 'mount-core-corrupt-'));
  t.after(() => fs.rm(folder, { recursive: true, force: true }));
  const file = path.join(folder, 'mounts.json');
  await fs.writeFile(file, content);
  return { store: new MountStore({ file, workspaceRoot: '/workspace', lockTimeoutMs: 1000 }), file };
}

function isCorrupt(file: string) {
  return (error: unknown) => {
    assert.ok(error instanceof MountCoreError, `expected MountCoreError, got ${String(error)}`);
    assert.equal(error.code, 'STORE_CORRUPT');
    assert.equal(error.details.file, file);
    assert.equal(typeof error.details.reason, 'string');
    assert.notEqual(error.details.reason, '');
    return true;
  };
}

describe('corrupt store', () => {
  for (const [name, content] of corruptFiles) {
    test(`${name} fails every call and stays unchanged`, async (t) => {
      const { store, file } = await corruptStore(t, content);
      const original = await fs.readFile(file);

      await assert.rejects(store.read(), isCorrupt(file));
      await assert.rejects(store.get('u1', 'ws1'), isCorrupt(file));
      await assert.rejects(
        store.upsert({
          user_id: 'u2',
          workspace_id: 'ws2',
          local_path: '/home/dev/b',
          container_path: '/workspace/u2/ws2',
          description: '',
          read_only: false,
        }),
        isCorrupt(file),
      );
      await assert.rejects(store.remove('u1', 'ws1'), isCorrupt(file));
      await assert.rejects(
        store.recordApplyResult([
          { spec: { user_id: 'u1', workspace_id: 'ws1', local_path: '/home/dev/a', container_path: '/workspace/u1/ws1', read_only: false }, state: 'applied' },
        ]),
        isCorrupt(file),
      );

      assert.deepEqual(await fs.readFile(file), original);
      assert.deepEqual(await fs.readdir(path.dirname(file)), ['mounts.json']);
    });
  }

  test('corrupt read stays corrupt while the lock is held', async (t) => {
    const { file } = await corruptStore(t, '');
    await fs.writeFile(`${file}.lock`, '{"pid":1}\n');
    const store = new MountStore({ file, workspaceRoot: '/workspace', lockTimeoutMs: 30 });
    await assert.rejects(store.read(), isCorrupt(file));
  });

  test('valid text of the table parses', async (t) => {
    const { store } = await corruptStore(t, validText);
    const snapshot = await store.read();
    assert.equal(snapshot.revision, 4);
    assert.deepEqual(snapshot.mounts, [mount]);
  });

  test('empty flat object is an empty store', async (t) => {
    const { store } = await corruptStore(t, '{}');
    assert.deepEqual(await store.read(), { revision: 0, mounts: [] });
  });

  test('unknown record fields are ignored', async (t) => {
    const { store } = await corruptStore(t, v2With({ ...mount, note: 'hand edit' }));
    assert.deepEqual((await store.read()).mounts, [mount]);
  });

  test('reason names the broken record', async (t) => {
    const { store } = await corruptStore(t, v2With({ ...mount, state: 'done' }));
    await assert.rejects(store.read(), (error: unknown) => {
      assert.ok(error instanceof MountCoreError);
      assert.match(String(error.details.reason), /u1:ws1/);
      assert.match(String(error.details.reason), /state/);
      return true;
    });
  });
});
