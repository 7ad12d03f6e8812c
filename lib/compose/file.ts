/** The compose transform applied to a file on disk. */
import { readFile } from 'node:fs/promises';
import { ComposeError, MountCoreError } from '../errors.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { syncComposeMounts } from './sync.js';
import type { ComposeFileSyncResult, ComposeSyncOptions } from './types.js';

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

  if (!result.changed) return { ...result, wrote: false };
  try {
    await writeFileAtomic(file, result.text);
  } catch (error) {
    throw ioError('write', file, error);
  }
  return { ...result, wrote: true };
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
