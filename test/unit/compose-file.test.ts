import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { prepareComposeFile, syncComposeFile } from '../../lib/compose/index.js';
import { ComposeError } from '../../lib/errors.js';
import type { MountSpec } from '../../lib/types.js';

const SOURCE = '# dev stack\nservices:\n  dev:\n    image: node:20\n    volumes:\n      - ./src:/src   # sources\n';
const REQUESTED: MountSpec[] = [{ local_path: '/home/dev/a', container_path: '/workspace/u1/a', read_only: false }];

async function tempFolder(t: TestContext): Promise<string> {
  const folder = await fs.mkdtemp(path.join(os.tmpdir(), 'mount-core-compose-'));
  t.after(() => fs.rm(folder, { recursive: true, force: true }));
  return folder;
}

async function composeFile(t: TestContext, content: string | Uint8Array, name = 'docker-compose.dev.yml'): Promise<string> {
  const file = path.join(await tempFolder(t), name);
  await fs.writeFile(file, content);
  return file;
}

function syncFile(file: string, mounts: MountSpec[] = REQUESTED) {
  return syncComposeFile(file, { service: 'dev', workspaceRoot: '/workspace', mounts });
}

/** Asserts that `promise` rejects with ComposeError `code` and returns the error. */
async function composeError(promise: Promise<unknown>, code: 'COMPOSE_IO' | 'COMPOSE_INVALID'): Promise<ComposeError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ComposeError, `expected a ComposeError, got ${String(error)}`);
    assert.equal(error.code, code);
    return error;
  }
  assert.fail(`expected ${code}`);
}

test('writes the file when mounts change', async (t) => {
  const file = await composeFile(t, SOURCE);
  const result = await syncFile(file);
  assert.equal(result.wrote, true);
  assert.equal(result.changed, true);
  assert.equal(await fs.readFile(file, 'utf8'), result.text);
  assert.ok(result.text.startsWith(SOURCE));
});

test('leaves an unchanged file untouched', async (t) => {
  const file = await composeFile(t, SOURCE);
  const past = new Date('2020-01-01T00:00:00Z');
  await fs.utimes(file, past, past);
  const before = await fs.stat(file);

  const result = await syncFile(file, []);
  assert.equal(result.wrote, false);
  assert.equal(result.changed, false);
  const after = await fs.stat(file);
  assert.equal(after.mtimeMs, before.mtimeMs);
  assert.equal(after.ino, before.ino);
});

test('add then remove restores the file', async (t) => {
  const file = await composeFile(t, SOURCE);
  await syncFile(file);
  const removed = await syncFile(file, []);
  assert.equal(removed.wrote, true);
  assert.equal(await fs.readFile(file, 'utf8'), SOURCE);
});

test('keeps a byte order mark', async (t) => {
  const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(SOURCE)]);
  const file = await composeFile(t, bytes);
  await syncFile(file);
  await syncFile(file, []);
  assert.deepEqual(await fs.readFile(file), bytes);
});

test('missing file is an io error', async (t) => {
  const file = path.join(await tempFolder(t), 'missing.yml');
  const error = await composeError(syncFile(file), 'COMPOSE_IO');
  assert.equal(error.details.file, file);
  assert.equal(error.details.reason, 'ENOENT');
});

test('folder instead of file is an io error', async (t) => {
  const folder = await tempFolder(t);
  const error = await composeError(syncFile(folder), 'COMPOSE_IO');
  assert.equal(error.details.reason, 'EISDIR');
});

test('failed write is an io error', async (t) => {
  // A 250-character name is valid, but the temporary file name built from it exceeds NAME_MAX.
  const file = await composeFile(t, SOURCE, `${'c'.repeat(246)}.yml`);
  const error = await composeError(syncFile(file), 'COMPOSE_IO');
  assert.equal(error.details.file, file);
  assert.equal(error.details.reason, 'ENAMETOOLONG');
  assert.equal(await fs.readFile(file, 'utf8'), SOURCE);
});

test('invalid utf-8 is rejected unchanged', async (t) => {
  const bytes = Buffer.concat([Buffer.from(SOURCE), Buffer.from([0xff, 0xfe, 0x0a])]);
  const file = await composeFile(t, bytes);
  const error = await composeError(syncFile(file), 'COMPOSE_INVALID');
  assert.equal(error.details.file, file);
  assert.deepEqual(await fs.readFile(file), bytes);
});

test('invalid content names the file', async (t) => {
  const file = await composeFile(t, 'services:\n  web:\n    image: x\n');
  const error = await composeError(syncFile(file), 'COMPOSE_INVALID');
  assert.equal(error.details.file, file);
  assert.deepEqual(error.problems[0]?.path, ['services', 'dev']);
  assert.ok(error.cause instanceof ComposeError);
});

test('prepared sync writes on commit', async (t) => {
  const file = await composeFile(t, SOURCE);
  const prepared = await prepareComposeFile(file, { service: 'dev', workspaceRoot: '/workspace', mounts: REQUESTED });
  assert.equal(await fs.readFile(file, 'utf8'), SOURCE, 'preparing writes nothing');
  const result = await prepared.commit();
  assert.equal(result.wrote, true);
  assert.equal(result.text, prepared.result.text);
  assert.equal(await fs.readFile(file, 'utf8'), prepared.result.text);
});

test('prepared sync keeps an edit made meanwhile', async (t) => {
  const file = await composeFile(t, SOURCE);
  const prepared = await prepareComposeFile(file, { service: 'dev', workspaceRoot: '/workspace', mounts: REQUESTED });
  // Someone edits the file between the preparation and the commit.
  const edited = SOURCE.replace('# dev stack', '# dev stack, edited');
  await fs.writeFile(file, edited);
  const result = await prepared.commit();
  const text = await fs.readFile(file, 'utf8');
  assert.equal(result.wrote, true);
  assert.equal(text, result.text);
  assert.ok(text.startsWith('# dev stack, edited\n'), text);
  assert.match(text, /\/workspace\/u1\/a/);
});

test('prepared sync of a removed file is an io error', async (t) => {
  const file = await composeFile(t, SOURCE);
  const prepared = await prepareComposeFile(file, { service: 'dev', workspaceRoot: '/workspace', mounts: REQUESTED });
  await fs.rm(file);
  const error = await composeError(prepared.commit(), 'COMPOSE_IO');
  assert.equal(error.details.reason, 'ENOENT');
});
