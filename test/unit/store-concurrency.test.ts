import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test, type TestContext } from 'node:test';
import { MountStore } from '../../lib/store/index.js';

const WRITER = fileURLToPath(new URL('../fixtures/store-writer.ts', import.meta.url));

async function storeFileIn(t: TestContext): Promise<string> {
  const folder = await fs.mkdtemp(path.join(os.tmpdir(), 'mount-core-concurrency-'));
  t.after(() => fs.rm(folder, { recursive: true, force: true }));
  return path.join(folder, 'mounts.json');
}

/** Runs the writer fixture in a child process and resolves with its exit code and stderr. */
function runWriter(file: string, userId: string, count: number): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, file, userId, String(count)], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

test('two processes write 200 mounts', async (t) => {
  const file = await storeFileIn(t);
  let writersDone = false;
  const writers = Promise.all([runWriter(file, 'alpha', 100), runWriter(file, 'beta', 100)]).finally(() => {
    writersDone = true;
  });

  // Read the raw file as fast as possible while the writers run; every read must be whole JSON.
  let reads = 0;
  let lastRevision = 0;
  while (!writersDone) {
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    const parsed = JSON.parse(text) as { revision: number };
    assert.ok(parsed.revision >= lastRevision, 'revision went backwards');
    lastRevision = parsed.revision;
    reads += 1;
  }

  for (const { code, stderr } of await writers) {
    assert.equal(code, 0, stderr);
  }
  assert.ok(reads > 0, 'the file was never read while the writers ran');

  const store = new MountStore({ file, workspaceRoot: '/workspace' });
  const snapshot = await store.read();
  assert.equal(snapshot.revision, 200);
  assert.equal(snapshot.mounts.length, 200);
  for (const user of ['alpha', 'beta']) {
    for (let index = 0; index < 100; index += 1) {
      assert.ok(
        snapshot.mounts.some((mount) => mount.user_id === user && mount.workspace_id === `ws${index}`),
        `missing ${user}/ws${index}`,
      );
    }
  }
  assert.deepEqual((await fs.readdir(path.dirname(file))).sort(), ['mounts.json']);
});

test('parallel upserts in one process all land', async (t) => {
  const file = await storeFileIn(t);
  const stores = [new MountStore({ file, workspaceRoot: '/workspace' }), new MountStore({ file, workspaceRoot: '/workspace' })];
  const results = await Promise.all(
    Array.from({ length: 20 }, (_, index) =>
      stores[index % 2]?.upsert({
        user_id: 'u1',
        workspace_id: `ws${index}`,
        local_path: `/home/dev/${index}`,
        container_path: `/workspace/u1/ws${index}`,
        description: '',
        read_only: false,
      }),
    ),
  );
  const revisions = results.map((result) => result?.revision).sort((a = 0, b = 0) => a - b);
  assert.deepEqual(revisions, Array.from({ length: 20 }, (_, index) => index + 1));
  const snapshot = await stores[0]?.read();
  assert.equal(snapshot?.revision, 20);
  assert.equal(snapshot?.mounts.length, 20);
});
