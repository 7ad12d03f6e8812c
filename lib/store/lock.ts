/**
 * A cross-process lock: a lock file created with O_CREAT|O_EXCL (`open(path,
 * 'wx')`) next to the file it guards. It works between processes in
 * different containers as long as they share the folder, because it relies
 * only on the file system.
 *
 * The lock file contains JSON `{ pid, hostname, acquired_at, token }` for
 * people who inspect it; `token` is random, so the whole content identifies
 * one acquisition. A lock whose file's mtime is older than `staleMs` is
 * treated as abandoned by a crashed holder and stolen. There is no check
 * whether `pid` is alive: the holder may run in another container, with
 * another pid namespace, where the same number names a different process or
 * none. So a holder must finish well within `staleMs`.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import { StoreError } from '../errors.js';
import { errorCode, toStoreIoError } from './io.js';

export interface LockOptions {
  /** How long to wait for the lock before STORE_LOCK_TIMEOUT, in milliseconds. Default: 5000. */
  timeoutMs?: number;
  /** Age of a lock file's mtime, in milliseconds, after which the lock is stolen. Default: 30000. */
  staleMs?: number;
  /** Clock in milliseconds since the epoch. Default: `Date.now`. */
  now?: () => number;
  /** Waits between attempts. Default: a `setTimeout` promise. */
  sleep?: (ms: number) => Promise<void>;
  /** Source of jitter in [0, 1). Default: `Math.random`. */
  random?: () => number;
}

/** A lock this process holds. */
export interface HeldLock {
  readonly path: string;
  /** The exact text written to the lock file. */
  readonly content: string;
  /** Removes the lock file if it still holds `content`; calling it again does nothing. */
  release(): Promise<void>;
}

export const DEFAULT_LOCK_TIMEOUT_MS = 5000;
export const DEFAULT_STALE_LOCK_MS = 30_000;

/** First and longest pause between attempts, in milliseconds, before jitter. */
const FIRST_DELAY_MS = 2;
const MAX_DELAY_MS = 50;

/**
 * Creates the lock file `lockPath`, retrying with jittered exponential backoff
 * until `timeoutMs` has passed. Throws StoreError STORE_LOCK_TIMEOUT with
 * details `{ lock, timeout_ms, holder }` on timeout, and STORE_IO when the
 * lock file cannot be created for another reason (missing folder, EACCES).
 */
export async function acquireLock(lockPath: string, options: LockOptions = {}): Promise<HeldLock> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  const staleMs = options.staleMs ?? DEFAULT_STALE_LOCK_MS;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? delay;
  const random = options.random ?? Math.random;
  const deadline = now() + timeoutMs;

  for (let attempt = 0; ; attempt += 1) {
    const content = lockContent(now());
    if (await tryCreate(lockPath, content)) {
      return heldLock(lockPath, content);
    }
    if (await removeIfStale(lockPath, staleMs, now)) {
      continue;
    }
    const remaining = deadline - now();
    if (remaining <= 0) {
      const holder = await readLockFile(lockPath);
      throw new StoreError('STORE_LOCK_TIMEOUT', `timed out after ${timeoutMs} ms waiting for lock ${lockPath}`, {
        details: { lock: lockPath, timeout_ms: timeoutMs, holder: holder ?? null },
      });
    }
    const backoff = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** attempt) * (0.5 + random());
    await sleep(Math.min(backoff, remaining));
  }
}

/** Last caller in each lock path's queue in this process; it resolves when that caller is done. */
const queues = new Map<string, Promise<void>>();

/**
 * Runs `fn` while holding the lock `lockPath` and releases the lock when `fn`
 * settles. An error from `fn` wins over an error from the release.
 *
 * Callers in one process wait in a queue for `lockPath`, in call order, and
 * only the one at its head takes the lock file. So they never poll against
 * each other's backoff, while other processes still contend through the
 * file. `timeoutMs` bounds the wait in the queue and for the file together.
 */
export async function withLock<T>(lockPath: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  const deadline = now() + timeoutMs;
  const ahead = queues.get(lockPath) ?? Promise.resolve();
  let done!: () => void;
  const turn = ahead.then(() => new Promise<void>((resolve) => (done = resolve)));
  queues.set(lockPath, turn);
  try {
    await waitForTurn(ahead, lockPath, timeoutMs);
    const lock = await acquireLock(lockPath, { ...options, timeoutMs: Math.max(0, deadline - now()) });
    let result: T;
    try {
      result = await fn();
    } catch (error) {
      await lock.release().catch(() => undefined);
      throw error;
    }
    await lock.release();
    return result;
  } finally {
    // `done` is set once the callers ahead have finished; a caller that timed out hands over when they do.
    void ahead.then(() => done());
    if (queues.get(lockPath) === turn) queues.delete(lockPath);
  }
}

/** Resolves when `ahead` does; throws STORE_LOCK_TIMEOUT when that takes longer than `timeoutMs`. */
async function waitForTurn(ahead: Promise<void>, lockPath: string, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), timeoutMs);
  });
  const expired = await Promise.race([ahead.then(() => false), timedOut]);
  clearTimeout(timer);
  if (!expired) return;
  const holder = await readLockFile(lockPath);
  throw new StoreError('STORE_LOCK_TIMEOUT', `timed out after ${timeoutMs} ms waiting for lock ${lockPath}`, {
    details: { lock: lockPath, timeout_ms: timeoutMs, holder: holder ?? null },
  });
}

function lockContent(nowMs: number): string {
  const owner = {
    pid: process.pid,
    hostname: os.hostname(),
    acquired_at: new Date(nowMs).toISOString(),
    token: randomBytes(8).toString('hex'),
  };
  return `${JSON.stringify(owner)}\n`;
}

/** Returns true when this call created the lock file, false when it already exists. */
async function tryCreate(lockPath: string, content: string): Promise<boolean> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(lockPath, 'wx', 0o644);
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return false;
    throw toStoreIoError(lockPath, error);
  }
  try {
    await handle.writeFile(content, 'utf8');
    await handle.close();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await fs.rm(lockPath, { force: true }).catch(() => undefined);
    throw toStoreIoError(lockPath, error);
  }
  return true;
}

/**
 * Removes the lock file when its mtime is older than `staleMs`, and returns
 * true when the caller should try to create it again at once.
 *
 * The file is first renamed to a unique name and its age checked again there,
 * so that a fresh lock created between the first check and the removal is
 * put back instead of deleted.
 *
 * NOTE: between that rename and the restoring link another process can create
 * the lock, and two processes then hold it. The window is a few system calls
 * and opens only when a lock has gone stale.
 */
async function removeIfStale(lockPath: string, staleMs: number, now: () => number): Promise<boolean> {
  const age = await lockAge(lockPath, now);
  if (age === undefined) return true;
  if (age <= staleMs) return false;

  const moved = `${lockPath}.stale.${randomBytes(6).toString('hex')}`;
  try {
    await fs.rename(lockPath, moved);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return true;
    throw toStoreIoError(lockPath, error);
  }
  try {
    const movedAge = await lockAge(moved, now);
    if (movedAge !== undefined && movedAge <= staleMs) {
      await fs.link(moved, lockPath).catch((error: unknown) => {
        if (errorCode(error) !== 'EEXIST') throw error;
      });
      return false;
    }
    return true;
  } catch (error) {
    throw toStoreIoError(lockPath, error);
  } finally {
    await fs.rm(moved, { force: true });
  }
}

/** Returns how long ago `file` was modified, in milliseconds, or undefined when it does not exist. */
async function lockAge(file: string, now: () => number): Promise<number | undefined> {
  try {
    const stats = await fs.stat(file);
    return now() - stats.mtimeMs;
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw toStoreIoError(file, error);
  }
}

async function readLockFile(lockPath: string): Promise<string | undefined> {
  try {
    return (await fs.readFile(lockPath, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

function heldLock(lockPath: string, content: string): HeldLock {
  let released = false;
  return {
    path: lockPath,
    content,
    async release() {
      if (released) return;
      released = true;
      let current: string;
      try {
        current = await fs.readFile(lockPath, 'utf8');
      } catch (error) {
        // Gone: another process judged it stale and removed it.
        if (errorCode(error) === 'ENOENT') return;
        throw toStoreIoError(lockPath, error);
      }
      // Another process stole the lock and holds it now; its file must stay.
      if (current !== content) return;
      await fs.rm(lockPath, { force: true }).catch((error: unknown) => {
        throw toStoreIoError(lockPath, error);
      });
    },
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
