/**
 * The last parse of the store file, kept so that reads of an unchanged file
 * skip reading and validating every record again. GET /api/mounts reads the
 * whole store on every request, and with 10,000 mounts the parse takes tens
 * of milliseconds.
 *
 * A parse is reused only while the file has the same device, inode, size,
 * mtime and ctime (in nanoseconds) as the file it came from. Every write by
 * any process changes at least one of them: a rename-based write makes a new
 * inode, and an in-place write sets mtime and ctime to the current time. The
 * one gap is the file system's timestamp granularity: on Linux a timestamp
 * comes from a clock that advances once per scheduler tick, so two writes of
 * the same size within one tick can leave identical stats. A parse is
 * therefore kept only when the file's mtime and ctime were already
 * `settleMs` old when it was read, since any later write then gets a
 * later timestamp.
 *
 * NOTE: this relies on the writers' clock (the kernel's, or a network file
 * server's) not lagging the reader's wall clock by more than `settleMs`.
 */
import type { BigIntStats } from 'node:fs';

/** Default age, in milliseconds, that a file's last change must have before its parse is kept. */
export const DEFAULT_READ_CACHE_SETTLE_MS = 2000;

export class StoreReadCache<T> {
  #key: string | undefined;
  #value: T | undefined;

  constructor(private readonly settleMs: number) {}

  /** Returns the kept value when `stats` describe the file it was parsed from, else undefined. */
  lookup(stats: BigIntStats): T | undefined {
    return this.#key !== undefined && this.#key === keyOf(stats) ? this.#value : undefined;
  }

  /**
   * Keeps `value`, parsed from the file that `stats` (taken on the open file
   * before reading it) describe, unless that file changed less than
   * `settleMs` before `nowMs`. Otherwise drops what was kept.
   */
  remember(stats: BigIntStats, value: T, nowMs: number): void {
    const lastChangeMs = Number((stats.mtimeNs > stats.ctimeNs ? stats.mtimeNs : stats.ctimeNs) / 1_000_000n);
    if (nowMs - lastChangeMs >= this.settleMs) {
      this.#key = keyOf(stats);
      this.#value = value;
    } else {
      this.#key = undefined;
      this.#value = undefined;
    }
  }
}

function keyOf(stats: BigIntStats): string {
  return `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeNs}:${stats.ctimeNs}`;
}
