import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { MountCoreError } from '../../lib/errors.js';
import { acquireLock, withLock } from '../../lib/store/index.js';

async function lockPathIn(t: TestContext): Promise<string> {
  const folder = await fs.mkdtemp(path.join(os.tmpdir(), 'mount-core-lock-'));
  t.after(() => fs.rm(folder, { recursive: true, force: true }));
  return path.join(folder, 'mounts.json.lock');
}

async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then(
    () => true,
    () => false,
  );
}

function hasStoreCode(code: string) {
  return (error: unknown) => error instanceof MountCoreError && error.code === code;
}

test('lock file names its holder', async (t) => {
  const lockPath = await lockPathIn(t);
  const lock = await acquireLock(lockPath);
  const owner = JSON.parse(await fs.readFile(lockPath, 'utf8')) as Record<string, unknown>;
  assert.equal(owner.pid, process.pid);
  assert.equal(owner.hostname, os.hostname());
  assert.equal(typeof owner.acquired_at, 'string');
  assert.ok(!Number.isNaN(Date.parse(String(owner.acquired_at))));
  assert.match(String(owner.token), /^[0-9a-f]{16}$/);
  assert.equal(await fs.readFile(lockPath, 'utf8'), lock.content);
  await lock.release();
  assert.equal(await exists(lockPath), false);
});

test('release twice is harmless', async (t) => {
  const lockPath = await lockPathIn(t);
  const lock = await acquireLock(lockPath);
  await lock.release();
  await lock.release();
  assert.equal(await exists(lockPath), false);
});

test('second holder times out', async (t) => {
  const lockPath = await lockPathIn(t);
  const first = await acquireLock(lockPath);
  t.after(() => first.release());
  const started = Date.now();
  await assert.rejects(acquireLock(lockPath, { timeoutMs: 80 }), (error: unknown) => {
    assert.ok(error instanceof MountCoreError);
    assert.equal(error.code, 'STORE_LOCK_TIMEOUT');
    assert.equal(error.details.lock, lockPath);
    assert.equal(error.details.timeout_ms, 80);
    assert.match(String(error.details.holder), /"pid"/);
    return true;
  });
  assert.ok(Date.now() - started >= 70);
});

test('timeout follows the injected clock', async (t) => {
  const lockPath = await lockPathIn(t);
  const first = await acquireLock(lockPath);
  t.after(() => first.release());
  let clock = Date.now();
  const pauses: number[] = [];
  const options = {
    timeoutMs: 1000,
    now: () => clock,
    sleep: async (ms: number) => {
      pauses.push(ms);
      clock += ms;
    },
    random: () => 0.5,
  };
  await assert.rejects(acquireLock(lockPath, options), hasStoreCode('STORE_LOCK_TIMEOUT'));
  assert.ok(pauses.length > 5);
  assert.ok(pauses.every((ms) => ms > 0 && ms <= 50));
  assert.equal(Math.round(pauses.reduce((sum, ms) => sum + ms, 0)), 1000);
});

test('zero timeout tries once', async (t) => {
  const lockPath = await lockPathIn(t);
  const first = await acquireLock(lockPath);
  t.after(() => first.release());
  await assert.rejects(acquireLock(lockPath, { timeoutMs: 0, sleep: async () => assert.fail('slept') }), hasStoreCode('STORE_LOCK_TIMEOUT'));
});

test('waiter gets the lock after release', async (t) => {
  const lockPath = await lockPathIn(t);
  const first = await acquireLock(lockPath);
  setTimeout(() => void first.release(), 30);
  const second = await acquireLock(lockPath, { timeoutMs: 2000 });
  assert.notEqual(second.content, first.content);
  await second.release();
});

test('stale lock is stolen', async (t) => {
  const lockPath = await lockPathIn(t);
  await fs.writeFile(lockPath, '{"pid":1,"hostname":"crashed","acquired_at":"2020-01-01T00:00:00.000Z"}\n');
  const old = new Date(Date.now() - 60_000);
  await fs.utimes(lockPath, old, old);
  const lock = await acquireLock(lockPath, { timeoutMs: 0, staleMs: 30_000 });
  assert.equal(await fs.readFile(lockPath, 'utf8'), lock.content);
  await lock.release();
  assert.deepEqual(await fs.readdir(path.dirname(lockPath)), []);
});

test('fresh lock is not stolen', async (t) => {
  const lockPath = await lockPathIn(t);
  await fs.writeFile(lockPath, '{"pid":1,"hostname":"other-container"}\n');
  await assert.rejects(acquireLock(lockPath, { timeoutMs: 50, staleMs: 30_000 }), hasStoreCode('STORE_LOCK_TIMEOUT'));
  assert.equal(await fs.readFile(lockPath, 'utf8'), '{"pid":1,"hostname":"other-container"}\n');
});

test('staleness uses the injected clock', async (t) => {
  const lockPath = await lockPathIn(t);
  await fs.writeFile(lockPath, 'held elsewhere\n');
  const lock = await acquireLock(lockPath, { timeoutMs: 0, staleMs: 1000, now: () => Date.now() + 5000 });
  assert.equal(await fs.readFile(lockPath, 'utf8'), lock.content);
  await lock.release();
});

test('release keeps a lock taken over by another process', async (t) => {
  const lockPath = await lockPathIn(t);
  const lock = await acquireLock(lockPath);
  const other = '{"pid":2,"hostname":"other","token":"ffff"}\n';
  await fs.writeFile(lockPath, other);
  await lock.release();
  assert.equal(await fs.readFile(lockPath, 'utf8'), other);
});

test('release tolerates a removed lock file', async (t) => {
  const lockPath = await lockPathIn(t);
  const lock = await acquireLock(lockPath);
  await fs.rm(lockPath);
  await lock.release();
  assert.equal(await exists(lockPath), false);
});

test('missing folder is a store io error', async (t) => {
  const lockPath = await lockPathIn(t);
  const missing = path.join(path.dirname(lockPath), 'no-such-folder', 'x.lock');
  await assert.rejects(acquireLock(missing), (error: unknown) => {
    assert.ok(error instanceof MountCoreError);
    assert.equal(error.code, 'STORE_IO');
    assert.equal(error.details.reason, 'ENOENT');
    assert.equal(error.details.file, missing);
    return true;
  });
});

test('withLock returns the result and releases', async (t) => {
  const lockPath = await lockPathIn(t);
  assert.equal(await withLock(lockPath, async () => 42), 42);
  assert.equal(await exists(lockPath), false);
});

test('withLock releases when fn throws', async (t) => {
  const lockPath = await lockPathIn(t);
  await assert.rejects(
    withLock(lockPath, async () => {
      throw new Error('boom');
    }),
    /boom/,
  );
  assert.equal(await exists(lockPath), false);
});

test('withLock runs callers one at a time', async (t) => {
  const lockPath = await lockPathIn(t);
  let inside = 0;
  let maxInside = 0;
  const order: number[] = [];
  await Promise.all(
    Array.from({ length: 10 }, (_, index) =>
      withLock(
        lockPath,
        async () => {
          inside += 1;
          maxInside = Math.max(maxInside, inside);
          await new Promise((resolve) => setTimeout(resolve, 2));
          order.push(index);
          inside -= 1;
        },
        { timeoutMs: 5000 },
      ),
    ),
  );
  assert.equal(maxInside, 1);
  assert.equal(order.length, 10);
});

test('withLock serves callers of one process in call order', async (t) => {
  const lockPath = await lockPathIn(t);
  const order: number[] = [];
  await Promise.all(
    Array.from({ length: 10 }, (_, index) =>
      withLock(lockPath, async () => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        order.push(index);
      }),
    ),
  );
  assert.deepEqual(order, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test('withLock times out a caller queued behind a slow one', async (t) => {
  const lockPath = await lockPathIn(t);
  const slow = withLock(lockPath, () => new Promise((resolve) => setTimeout(() => resolve('slow'), 200)));
  const impatient = withLock(lockPath, async () => 'impatient', { timeoutMs: 50 });
  const patient = withLock(lockPath, async () => 'patient', { timeoutMs: 5000 });

  await assert.rejects(impatient, (error: unknown) => {
    assert.ok(error instanceof MountCoreError);
    assert.equal(error.code, 'STORE_LOCK_TIMEOUT');
    assert.equal(error.details.lock, lockPath);
    return true;
  });
  assert.equal(await slow, 'slow');
  assert.equal(await patient, 'patient');
  assert.equal(await exists(lockPath), false);
});
