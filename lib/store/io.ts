/** File reads and I/O error mapping shared by the store and its lock. */
import { promises as fs, type BigIntStats } from 'node:fs';
import { MountCoreError, StoreError } from '../errors.js';

/** Returns the `code` of a Node system error (`ENOENT`, `EACCES`, …), or `''`. */
export function errorCode(error: unknown): string {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
}

/**
 * Wraps an I/O failure on `file` in StoreError STORE_IO with details
 * `{ file, reason }`, where `reason` is the errno code, and keeps the
 * original as `cause`. A MountCoreError passes through unchanged.
 */
export function toStoreIoError(file: string, error: unknown): MountCoreError {
  if (error instanceof MountCoreError) return error;
  const reason = errorCode(error) || (error instanceof Error ? error.message : String(error));
  return new StoreError('STORE_IO', `store file ${file} cannot be read or written: ${reason}`, {
    details: { file, reason },
    cause: error,
  });
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Returns the text of `file`, or undefined when it does not exist. Bytes that
 * are not valid UTF-8 raise STORE_CORRUPT rather than being replaced by U+FFFD,
 * which a later write would make permanent; other errors become STORE_IO.
 */
export async function readTextIfExists(file: string): Promise<string | undefined> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw toStoreIoError(file, error);
  }
  return decodeText(file, bytes);
}

/**
 * Like readTextIfExists, and also returns the stats of the file that was
 * read, taken on the open file before reading it, so that a write that
 * lands while it is read changes the file's stats after those.
 */
export async function readTextAndStats(file: string): Promise<{ text: string; stats: BigIntStats } | undefined> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, 'r');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw toStoreIoError(file, error);
  }
  let stats: BigIntStats;
  let bytes: Buffer;
  try {
    stats = await handle.stat({ bigint: true });
    bytes = await handle.readFile();
  } catch (error) {
    throw toStoreIoError(file, error);
  } finally {
    await handle.close().catch(() => undefined);
  }
  return { text: decodeText(file, bytes), stats };
}

/** Returns the stats of `file` in nanoseconds, or undefined when it does not exist. */
export async function statIfExists(file: string): Promise<BigIntStats | undefined> {
  try {
    return await fs.stat(file, { bigint: true });
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw toStoreIoError(file, error);
  }
}

function decodeText(file: string, bytes: Buffer): string {
  try {
    return strictUtf8.decode(bytes);
  } catch (error) {
    throw new StoreError('STORE_CORRUPT', `store file ${file} is corrupt: it is not valid UTF-8`, {
      details: { file, reason: 'not valid UTF-8' },
      cause: error,
    });
  }
}
