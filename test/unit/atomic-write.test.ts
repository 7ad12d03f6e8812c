import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { writeFileAtomic, type RenameFunction } from '../../lib/fs/atomic-write.js';

async function tempFolder(t: TestContext): Promise<string> {
  const folder = await fs.mkdtemp(path.join(os.tmpdir(), 'mount-core-atomic-'));
  t.after(() => fs.rm(folder, { recursive: true, force: true }));
  return folder;
}

/** Returns a rename that always fails as rename(2) does over a bind-mounted file. */
function failingRename(code: string): RenameFunction {
  return async () => {
    throw Object.assign(new Error(`${code}: rename over a mount point`), { code });
  };
}

test('creates a new file by rename', async (t) => {
  const folder = await tempFolder(t);
  const file = path.join(folder, 'mounts.json');
  assert.equal(await writeFileAtomic(file, '{"a":1}\n'), 'rename');
  assert.equal(await fs.readFile(file, 'utf8'), '{"a":1}\n');
});

test('replaces an existing file by rename', async (t) => {
  const folder = await tempFolder(t);
  const file = path.join(folder, 'mounts.json');
  await fs.writeFile(file, 'old content that is longer than the new one');
  const before = await fs.stat(file);
  assert.equal(await writeFileAtomic(file, 'new'), 'rename');
  assert.equal(await fs.readFile(file, 'utf8'), 'new');
  assert.notEqual((await fs.stat(file)).ino, before.ino);
});

test('leaves no temporary file', async (t) => {
  const folder = await tempFolder(t);
  const file = path.join(folder, 'mounts.json');
  await writeFileAtomic(file, 'one');
  await writeFileAtomic(file, 'two');
  assert.deepEqual(await fs.readdir(folder), ['mounts.json']);
});

test('writes utf-8 bytes exactly', async (t) => {
  const folder = await tempFolder(t);
  const file = path.join(folder, 'mounts.json');
  const text = 'Mu\u0308ller M\u00fcller Δ 挂载\n';
  await writeFileAtomic(file, text);
  assert.deepEqual(await fs.readFile(file), Buffer.from(text, 'utf8'));
});

test('sets the mode despite the umask', async (t) => {
  const folder = await tempFolder(t);
  const file = path.join(folder, 'mounts.json');
  const previous = process.umask(0o077);
  t.after(() => process.umask(previous));
  await writeFileAtomic(file, 'x', { mode: 0o644 });
  assert.equal((await fs.stat(file)).mode & 0o777, 0o644);
});

test('keeps the existing mode by default', async (t) => {
  const folder = await tempFolder(t);
  const file = path.join(folder, 'mounts.json');
  await fs.writeFile(file, 'old');
  await fs.chmod(file, 0o640);
  await writeFileAtomic(file, 'new');
  assert.equal((await fs.stat(file)).mode & 0o777, 0o640);
});

for (const code of ['EBUSY', 'EXDEV', 'EPERM']) {
  test(`falls back to in-place on ${code}`, async (t) => {
    const folder = await tempFolder(t);
    const file = path.join(folder, 'mounts.json');
    await fs.writeFile(file, 'old content that is longer than the new one');
    const before = await fs.stat(file);
    const method = await writeFileAtomic(file, 'new', { rename: failingRename(code) });
    assert.equal(method, 'in-place');
    assert.equal(await fs.readFile(file, 'utf8'), 'new');
    assert.equal((await fs.stat(file)).ino, before.ino);
    assert.deepEqual(await fs.readdir(folder), ['mounts.json']);
  });
}

test('in-place grows a shorter file', async (t) => {
  const folder = await tempFolder(t);
  const file = path.join(folder, 'mounts.json');
  await fs.writeFile(file, 'x');
  const long = 'y'.repeat(100_000);
  await writeFileAtomic(file, long, { rename: failingRename('EBUSY') });
  assert.equal(await fs.readFile(file, 'utf8'), long);
});

test('in-place keeps the file mode', async (t) => {
  const folder = await tempFolder(t);
  const file = path.join(folder, 'mounts.json');
  await fs.writeFile(file, 'old');
  await fs.chmod(file, 0o600);
  await writeFileAtomic(file, 'new', { rename: failingRename('EBUSY'), mode: 0o644 });
  assert.equal((await fs.stat(file)).mode & 0o777, 0o600);
});

test('other rename errors are thrown', async (t) => {
  const folder = await tempFolder(t);
  const file = path.join(folder, 'mounts.json');
  await fs.writeFile(file, 'old');
  await assert.rejects(writeFileAtomic(file, 'new', { rename: failingRename('EACCES') }), { code: 'EACCES' });
  assert.equal(await fs.readFile(file, 'utf8'), 'old');
  assert.deepEqual(await fs.readdir(folder), ['mounts.json']);
});

test('in-place failure is thrown and cleans up', async (t) => {
  const folder = await tempFolder(t);
  const file = path.join(folder, 'missing.json');
  await assert.rejects(writeFileAtomic(file, 'new', { rename: failingRename('EBUSY') }), { code: 'ENOENT' });
  assert.deepEqual(await fs.readdir(folder), []);
});

test('missing folder is thrown', async (t) => {
  const folder = await tempFolder(t);
  await assert.rejects(writeFileAtomic(path.join(folder, 'no', 'such.json'), 'x'), { code: 'ENOENT' });
});

test('temporary file sits beside the target', async (t) => {
  const folder = await tempFolder(t);
  const file = path.join(folder, 'mounts.json');
  const seen: string[] = [];
  const rename: RenameFunction = async (from, to) => {
    seen.push(from, to);
    await fs.rename(from, to);
  };
  await writeFileAtomic(file, 'x', { rename });
  assert.equal(path.dirname(seen[0] ?? ''), folder);
  assert.match(path.basename(seen[0] ?? ''), new RegExp(`^\\.mounts\\.json\\.${process.pid}\\.[0-9a-f]{12}\\.tmp$`));
  assert.equal(seen[1], file);
});

test('non-durable write still replaces whole', async (t) => {
  const folder = await tempFolder(t);
  const file = path.join(folder, 'journal.json');
  await fs.writeFile(file, 'old content that is longer');
  assert.equal(await writeFileAtomic(file, '{"step":"create"}\n', { durable: false }), 'rename');
  assert.equal(await fs.readFile(file, 'utf8'), '{"step":"create"}\n');
  assert.deepEqual((await fs.readdir(folder)).sort(), ['journal.json']);
});
