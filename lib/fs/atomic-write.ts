/**
 * Replacing a file so that readers see either the old or the new content,
 * never a mix, even across a crash.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';

/** Method writeFileAtomic used to replace the file. */
export type WriteMethod = 'rename' | 'in-place';

/** Signature of `fs.promises.rename`. */
export type RenameFunction = (oldPath: string, newPath: string) => Promise<void>;

export interface WriteFileAtomicOptions {
  /**
   * Permission bits of the file, set with chmod so that the umask does not
   * narrow them. Default: the mode of the file being replaced, or 0o644 for a
   * new file. The in-place fallback keeps the file's own mode.
   */
  mode?: number;
  /** Renames the temporary file over the target. Default: `fs.promises.rename`. */
  rename?: RenameFunction;
  /**
   * Fsyncs the file and its folder, so that the new content survives a crash
   * of the machine. Without it the replace is still atomic for every process,
   * and survives a killed process, but not a power loss. Default: true.
   */
  durable?: boolean;
}

/**
 * rename(2) fails with these codes when the target is a mount point, as a
 * single file bind-mounted into a container is: EBUSY on Linux, EXDEV or EPERM
 * on some storage drivers and on Docker Desktop's file sharing.
 */
const RENAME_OVER_MOUNT_ERRORS: ReadonlySet<string> = new Set(['EBUSY', 'EXDEV', 'EPERM']);

/**
 * Writes `data` (UTF-8) to `file` and returns how the file was replaced.
 *
 * The normal way, `'rename'`: write a temporary file `.<name>.<pid>.<random>.tmp`
 * in the same folder, fsync it, rename it over `file`, then fsync the folder
 * so the rename itself survives a crash.
 *
 * The fallback, `'in-place'`, runs when the rename fails with EBUSY, EXDEV or
 * EPERM: it opens `file` itself, writes from the start, truncates to the new
 * length and fsyncs. It is NOT atomic: a crash or a reader in the middle of it
 * can see a mix of old and new bytes, so writers must hold a lock and readers
 * must treat a parse failure as possibly transient. The temporary file is
 * removed in every case. Node errors are thrown unchanged.
 */
export async function writeFileAtomic(file: string, data: string, options: WriteFileAtomicOptions = {}): Promise<WriteMethod> {
  const rename = options.rename ?? fs.rename;
  const bytes = Buffer.from(data, 'utf8');
  const folder = path.dirname(file);
  const temp = path.join(folder, `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const existing = await currentStat(file);
  const mode = options.mode ?? existing?.mode ?? 0o644;

  try {
    const durable = options.durable ?? true;
    await writeNewFile(temp, bytes, mode, existing, durable);
    try {
      await rename(temp, file);
    } catch (error) {
      if (!RENAME_OVER_MOUNT_ERRORS.has(errorCode(error))) throw error;
      await overwriteInPlace(file, bytes);
      return 'in-place';
    }
    if (durable) await syncFolder(folder);
    return 'rename';
  } finally {
    // After a successful rename the temporary name no longer exists.
    await fs.rm(temp, { force: true });
  }
}

async function writeNewFile(
  temp: string,
  bytes: Buffer,
  mode: number,
  owner: { uid: number; gid: number } | undefined,
  durable: boolean,
): Promise<void> {
  const handle = await fs.open(temp, 'wx', mode);
  try {
    await handle.chmod(mode);
    // A monitor running as root replaces a file in the user's checkout: keep the file's owner, where allowed.
    if (owner) await handle.chown(owner.uid, owner.gid).catch((error: unknown) => {
      if (errorCode(error) !== 'EPERM') throw error;
    });
    await writeAll(handle, bytes);
    if (durable) await handle.sync();
  } finally {
    await handle.close();
  }
}

async function overwriteInPlace(file: string, bytes: Buffer): Promise<void> {
  const handle = await fs.open(file, 'r+');
  try {
    await writeAll(handle, bytes);
    await handle.truncate(bytes.length);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes every byte from offset 0, looping because one write may be partial. */
async function writeAll(handle: fs.FileHandle, bytes: Buffer): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset, offset);
    offset += bytesWritten;
  }
}

/**
 * Fsyncs a folder so that a rename in it is durable. Some platforms cannot
 * open or fsync a folder (EISDIR, EINVAL, EPERM). There the rename is only as
 * durable as the file system makes it.
 */
async function syncFolder(folder: string): Promise<void> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(folder, 'r');
    await handle.sync();
  } catch (error) {
    if (!['EISDIR', 'EINVAL', 'EPERM'].includes(errorCode(error))) throw error;
  } finally {
    await handle?.close();
  }
}

async function currentStat(file: string): Promise<{ mode: number; uid: number; gid: number } | undefined> {
  try {
    const stat = await fs.stat(file);
    return { mode: stat.mode & 0o7777, uid: stat.uid, gid: stat.gid };
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

function errorCode(error: unknown): string {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
}
