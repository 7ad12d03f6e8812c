/** The compose transform applied to a file on disk. */
import type { BigIntStats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { ComposeError, MountCoreError } from '../errors.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { syncComposeMounts } from './sync.js';
import type { ComposeFileSyncResult, ComposeSyncOptions, ComposeSyncResult } from './types.js';

/** A sync computed ahead of time by prepareComposeFile, to be written later. */
export interface PreparedComposeFile {
  /** The result computed from the file as it was read. */
  result: ComposeSyncResult;
  /**
   * Writes the prepared text when the file is unchanged since it was read
   * (same inode, size, mtime and ctime), else syncs the file again from its
   * current text. Resolves and throws like syncComposeFile.
   */
  commit(): Promise<ComposeFileSyncResult>;
}

/**
 * Reads `file`, syncs its managed entries with `options.mounts` and writes it back
 * with writeFileAtomic only when the text changed, so an unchanged file keeps its
 * mtime. Throws ComposeError COMPOSE_IO with details `{ file, reason }` (reason is
 * the errno code) when reading or writing fails, COMPOSE_INVALID with `file` added to
 * the details when the content is not UTF-8 or cannot be edited, and ValidationError
 * INVALID_FIELD for unusable options.
 *
 * NOTE: an edit saved to the file between the read and the write is lost. Callers run
 * one sync at a time, and nothing guards against a person editing the file meanwhile.
 */
export async function syncComposeFile(file: string, options: ComposeSyncOptions): Promise<ComposeFileSyncResult> {
  return (await prepareComposeFile(file, options)).commit();
}

/**
 * Reads `file` and computes its sync with `options.mounts` without writing
 * it, so that the parse and edit can run ahead, while something slower
 * happens, and commit() writes the result later. Throws like syncComposeFile.
 */
export async function prepareComposeFile(file: string, options: ComposeSyncOptions): Promise<PreparedComposeFile> {
  const before = await statCompose(file);
  const source = decodeUtf8(file, await readCompose(file));

  let result;
  try {
    result = syncComposeMounts(source, options);
  } catch (error) {
    if (error instanceof ComposeError) {
      throw new ComposeError(error.code as 'COMPOSE_INVALID' | 'COMPOSE_IO', `${file}: ${error.message}`, error.problems, { details: { ...error.details, file }, cause: error });
    }
    throw error;
  }

  const prepared = result;
  return {
    result: prepared,
    async commit() {
      const now = await statCompose(file);
      if (!sameFile(before, now)) return (await prepareComposeFile(file, options)).commit();
      if (!prepared.changed) return { ...prepared, wrote: false };
      try {
        await writeFileAtomic(file, prepared.text);
      } catch (error) {
        throw ioError('write', file, error);
      }
      return { ...prepared, wrote: true };
    },
  };
}

async function statCompose(file: string): Promise<BigIntStats> {
  try {
    return await stat(file, { bigint: true });
  } catch (error) {
    throw ioError('read', file, error);
  }
}

/** True when two stats of a path describe the same, unchanged file. */
function sameFile(a: BigIntStats, b: BigIntStats): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
}

async function readCompose(file: string): Promise<Uint8Array> {
  try {
    return await readFile(file);
  } catch (error) {
    throw ioError('read', file, error);
  }
}

/** Decodes strictly and keeps a byte order mark, so the file is written back as it was. */
function decodeUtf8(file: string, bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (error) {
    const reason = 'the file is not valid UTF-8';
    throw new ComposeError('COMPOSE_INVALID', `${file}: ${reason}`, [{ path: [], message: reason }], { details: { file, reason }, cause: error });
  }
}

function ioError(action: 'read' | 'write', file: string, error: unknown): ComposeError {
  const reason = errorReason(error);
  return new ComposeError('COMPOSE_IO', `failed to ${action} compose file ${file}: ${reason}`, [], { details: { file, reason }, cause: error });
}

/** Returns the errno code of a Node error (`ENOENT`), the code of a library error, or `unknown`. */
function errorReason(error: unknown): string {
  if (error instanceof MountCoreError) return error.code;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'unknown';
}
