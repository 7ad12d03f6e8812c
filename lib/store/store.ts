/**
 * The mount store: one JSON file on the volume that the monitor and the proxy
 * share, the desired state of the development container's mounts. The file is
 * longer than most because all mutations share one locked read-change-write
 * path, which is clearer kept beside them.
 *
 * Guarantees:
 * - Writers serialise on the lock file `<file>.lock` (see lock.ts), and each
 *   mutation reads and parses the file under that lock before it changes it.
 *   So a corrupt file stops every mutation with STORE_CORRUPT. It is left
 *   byte for byte as it was and never replaced by an empty store.
 * - Writes replace the file atomically (writeFileAtomic), so readers take no
 *   lock. Where the file is a single bind-mounted file and the write falls
 *   back to in-place, a reader may catch a half-written file; read() then
 *   parses again under the lock before it reports STORE_CORRUPT.
 * - The file is written with mode 0o644, because the monitor and the proxy
 *   may run as different users and both read it. Both replace it by renaming
 *   a new file into the folder, so the folder must be writable by both.
 * - A flat-format file is migrated in memory; its first write stores v2 and
 *   keeps the original text once as `<file>.v1.bak`.
 * - read() reuses its last parse while the file's stats show no change
 *   (read-cache.ts says when that is safe); mutations always parse the file
 *   under the lock.
 */
import { promises as fs } from 'node:fs';
import { ConfigError, hasCode, NotFoundError, ValidationError } from '../errors.js';
import { writeFileAtomic, type RenameFunction } from '../fs/atomic-write.js';
import { mountKey, type Mount, type MountFailure, type ValidMountRequest } from '../types.js';
import { validateId } from '../validation/ids.js';
import { quoteValue } from '../validation/text.js';
import { containerPathFor, validateMountKey, validateWorkspaceRoot } from '../validation/request.js';
import { parseStore, serializeStore, sortMounts, type StoreData } from './format.js';
import { errorCode, readTextAndStats, readTextIfExists, statIfExists, toStoreIoError } from './io.js';
import { isNormalizedHostPath } from './records.js';
import { DEFAULT_LOCK_TIMEOUT_MS, DEFAULT_STALE_LOCK_MS, withLock, type LockOptions } from './lock.js';
import { DEFAULT_READ_CACHE_SETTLE_MS, StoreReadCache } from './read-cache.js';

export interface MountStoreOptions {
  /** Path of the store file. Required. */
  file: string;
  /** Root of mount targets inside the development container, such as `/workspace`. Required. */
  workspaceRoot: string;
  /** How long a mutation waits for the lock, in milliseconds. Default: 5000. */
  lockTimeoutMs?: number;
  /** Age after which another process's lock is taken as abandoned, in milliseconds. Default: 30000. */
  staleLockMs?: number;
  /** Clock for `created_at` and `updated_at`. Default: `() => new Date()`. */
  now?: () => Date;
  /** Rename used by the atomic write, for tests of the in-place fallback. Default: `fs.promises.rename`. */
  rename?: RenameFunction;
  /**
   * Time in milliseconds, by the wall clock, that the file must have been
   * unchanged before read() keeps its parse for the next read. A value below
   * the file system's timestamp granularity can let a read miss a write made
   * in the same tick. Default: 2000.
   */
  readCacheSettleMs?: number;
}

/** All mounts at one revision, sorted by user_id, then workspace_id. */
export interface StoreSnapshot {
  revision: number;
  mounts: Mount[];
}

/** One outcome of an apply, for recordApplyResult. */
export interface ApplyResult {
  /** The mount as the apply saw it. */
  spec: Pick<Mount, 'user_id' | 'workspace_id' | 'local_path' | 'container_path' | 'read_only'>;
  state: 'applied' | 'failed';
  /** Failure reported by the apply; ignored when `state` is `applied`. */
  error?: MountFailure;
}

/** Permission bits of the store file: readable by the other container's user. */
const STORE_FILE_MODE = 0o644;

export class MountStore {
  readonly file: string;
  readonly lockFile: string;
  readonly backupFile: string;
  readonly workspaceRoot: string;
  readonly #lockOptions: LockOptions;
  readonly #now: () => Date;
  readonly #rename: RenameFunction | undefined;
  readonly #readCache: StoreReadCache<StoreSnapshot>;

  /** Checks every option before any I/O; throws ConfigError naming the option. */
  constructor(options: MountStoreOptions) {
    if (typeof options !== 'object' || options === null) {
      throw optionError('options', options, 'store options must be an object');
    }
    const { file, lockTimeoutMs, staleLockMs, now, rename, readCacheSettleMs } = options;
    if (typeof file !== 'string' || file === '' || file.includes('\0')) {
      throw optionError('file', file, 'file must be a non-empty path without NUL');
    }
    this.workspaceRoot = validateWorkspaceRoot(options.workspaceRoot, 'workspaceRoot');
    if (lockTimeoutMs !== undefined && !(Number.isFinite(lockTimeoutMs) && lockTimeoutMs >= 0)) {
      throw optionError('lockTimeoutMs', lockTimeoutMs, 'lockTimeoutMs must be a number of milliseconds >= 0');
    }
    if (staleLockMs !== undefined && !(Number.isFinite(staleLockMs) && staleLockMs > 0)) {
      throw optionError('staleLockMs', staleLockMs, 'staleLockMs must be a number of milliseconds > 0');
    }
    if (now !== undefined && typeof now !== 'function') {
      throw optionError('now', now, 'now must be a function returning a Date');
    }
    if (rename !== undefined && typeof rename !== 'function') {
      throw optionError('rename', rename, 'rename must be a function like fs.promises.rename');
    }
    if (readCacheSettleMs !== undefined && !(Number.isFinite(readCacheSettleMs) && readCacheSettleMs >= 0)) {
      throw optionError('readCacheSettleMs', readCacheSettleMs, 'readCacheSettleMs must be a number of milliseconds >= 0');
    }
    this.file = file;
    this.lockFile = `${file}.lock`;
    this.backupFile = `${file}.v1.bak`;
    this.#lockOptions = { timeoutMs: lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS, staleMs: staleLockMs ?? DEFAULT_STALE_LOCK_MS };
    this.#now = now ?? (() => new Date());
    this.#rename = rename;
    this.#readCache = new StoreReadCache(readCacheSettleMs ?? DEFAULT_READ_CACHE_SETTLE_MS);
  }

  /** Returns every mount and the revision, without taking the lock. */
  async read(): Promise<StoreSnapshot> {
    const snapshot = await this.readShared();
    // Copies, so that a caller can change what it gets.
    return { revision: snapshot.revision, mounts: snapshot.mounts.map(copyMount) };
  }

  /**
   * Returns every mount and the revision without copying them: the same
   * frozen snapshot object for as long as the file is unchanged, so that a
   * caller can keep work derived from it, such as a serialized response.
   */
  async readShared(): Promise<Readonly<StoreSnapshot>> {
    try {
      return await this.#load();
    } catch (error) {
      if (!hasCode(error, 'STORE_CORRUPT')) throw error;
      return this.#loadUnderLock(error);
    }
  }

  /** Returns the mount of `userId`/`workspaceId`, or undefined. Throws ValidationError for invalid ids. */
  async get(userId: string, workspaceId: string): Promise<Mount | undefined> {
    const key = validateMountKey(userId, workspaceId);
    const snapshot = await this.readShared();
    const mount = snapshot.mounts.find((entry) => entry.user_id === key.user_id && entry.workspace_id === key.workspace_id);
    return mount === undefined ? undefined : copyMount(mount);
  }

  /**
   * Adds or replaces the mount of the request's user and workspace: one record
   * per target, so a second request with another path replaces the first.
   * When the stored mount already has the same local_path, container_path,
   * description and read_only, and has not failed, nothing is written and
   * `changed` is false. Otherwise the mount becomes `pending` with its error
   * cleared, keeps created_at, and the revision goes up by one.
   */
  async upsert(request: ValidMountRequest): Promise<{ mount: Mount; changed: boolean; revision: number }> {
    this.#checkRequest(request);
    return this.#mutate<{ mount: Mount; changed: boolean; revision: number }>((data) => {
      const key = mountKey(request.user_id, request.workspace_id);
      const existing = data.mounts.get(key);
      if (existing !== undefined && existing.state !== 'failed' && sameContent(existing, request)) {
        return { result: { mount: existing, changed: false, revision: data.revision }, write: false };
      }
      const time = this.#now().toISOString();
      const mount: Mount = {
        user_id: request.user_id,
        workspace_id: request.workspace_id,
        local_path: request.local_path,
        container_path: request.container_path,
        description: request.description,
        read_only: request.read_only,
        created_at: existing?.created_at ?? time,
        updated_at: time,
        state: 'pending',
      };
      data.mounts.set(key, mount);
      data.revision += 1;
      return { result: { mount, changed: true, revision: data.revision }, write: true };
    });
  }

  /** Removes a mount and bumps the revision; throws NotFoundError MOUNT_NOT_FOUND when there is none. */
  async remove(userId: string, workspaceId: string): Promise<{ mount: Mount; revision: number }> {
    const ids = validateMountKey(userId, workspaceId);
    return this.#mutate((data) => {
      const key = mountKey(ids.user_id, ids.workspace_id);
      const mount = data.mounts.get(key);
      if (mount === undefined) {
        throw new NotFoundError('MOUNT_NOT_FOUND', `no mount for user ${ids.user_id} and workspace ${ids.workspace_id}`, {
          details: { user_id: ids.user_id, workspace_id: ids.workspace_id },
        });
      }
      data.mounts.delete(key);
      data.revision += 1;
      return { result: { mount, revision: data.revision }, write: true };
    });
  }

  /**
   * Stores the state of each applied or failed mount. A result is skipped
   * when its mount was removed, or changed its local_path, container_path or
   * read_only during the apply, because the result describes a mount that no
   * longer exists. The revision stays: it counts changes to desired content,
   * so a watcher can tell new requests from this bookkeeping. Nothing is
   * written when no state changes.
   */
  async recordApplyResult(results: readonly ApplyResult[]): Promise<void> {
    await this.#mutate((data) => {
      let write = false;
      for (const { spec, state, error } of results) {
        const stored = data.mounts.get(mountKey(spec.user_id, spec.workspace_id));
        if (stored === undefined || !sameSpec(stored, spec)) continue;
        const nextError = state === 'failed' ? error : undefined;
        if (stored.state === state && sameFailure(stored.error, nextError)) continue;
        stored.state = state;
        if (nextError === undefined) delete stored.error;
        else stored.error = { ...nextError };
        write = true;
      }
      return { result: undefined, write };
    });
  }

  /**
   * Parses the file again under the lock, after an unlocked read found it
   * corrupt: an in-place write may have been in progress, and a writer that
   * holds the lock has finished it. When the lock cannot be taken (a
   * read-only folder, a stuck writer), the first STORE_CORRUPT is thrown.
   */
  async #loadUnderLock(corruptError: unknown): Promise<StoreSnapshot> {
    try {
      return await withLock(this.lockFile, () => this.#load(), this.#lockOptions);
    } catch (error) {
      if (hasCode(error, 'STORE_CORRUPT')) throw error;
      throw corruptError;
    }
  }

  /** Parses the file into a sorted snapshot, or returns the last one while the file is unchanged. */
  async #load(): Promise<StoreSnapshot> {
    const current = await statIfExists(this.file);
    const cached = current === undefined ? undefined : this.#readCache.lookup(current);
    if (cached !== undefined) return cached;
    const read = await readTextAndStats(this.file);
    const parsed = parseStore(read?.text, this.file, { workspaceRoot: this.workspaceRoot, now: this.#now });
    const snapshot = freezeSnapshot({ revision: parsed.revision, mounts: sortMounts(parsed.mounts.values()) });
    if (read !== undefined) this.#readCache.remember(read.stats, snapshot, Date.now());
    return snapshot;
  }

  /** Runs `change` on the parsed file under the lock, then writes the file if `change` returned `write: true`. */
  async #mutate<T>(change: (data: StoreData) => { result: T; write: boolean }): Promise<T> {
    return withLock(
      this.lockFile,
      async () => {
        const text = await readTextIfExists(this.file);
        const parsed = parseStore(text, this.file, { workspaceRoot: this.workspaceRoot, now: this.#now });
        const { result, write } = change(parsed);
        if (write) {
          if (parsed.legacy && text !== undefined) await this.#keepBackup(text);
          await this.#write(serializeStore(parsed));
        }
        return result;
      },
      this.#lockOptions,
    );
  }

  async #write(text: string): Promise<void> {
    try {
      await writeFileAtomic(this.file, text, { mode: STORE_FILE_MODE, rename: this.#rename });
    } catch (error) {
      throw toStoreIoError(this.file, error);
    }
  }

  /** Saves the flat-format text as `<file>.v1.bak` unless a backup exists already. */
  async #keepBackup(text: string): Promise<void> {
    try {
      await fs.stat(this.backupFile);
      return;
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw toStoreIoError(this.backupFile, error);
    }
    try {
      await writeFileAtomic(this.backupFile, text, { mode: STORE_FILE_MODE });
    } catch (error) {
      throw toStoreIoError(this.backupFile, error);
    }
  }

  /**
   * Checks a request that should come from validateMountRequest, so that the
   * store never writes a record it would later reject as corrupt, nor a
   * target built for another workspace root.
   */
  #checkRequest(request: ValidMountRequest): void {
    validateId('user_id', request.user_id);
    validateId('workspace_id', request.workspace_id);
    if (!isNormalizedHostPath(request.local_path)) {
      throw new ValidationError('INVALID_LOCAL_PATH', `invalid local_path "${quoteValue(String(request.local_path))}": pass it through normalizeHostPath first`, {
        details: { field: 'local_path', reason: 'not_absolute' },
      });
    }
    if (typeof request.description !== 'string' || typeof request.read_only !== 'boolean') {
      throw new ValidationError('INVALID_FIELD', 'invalid mount request: description must be a string and read_only a boolean', {
        details: { field: 'request', expected: 'a result of validateMountRequest' },
      });
    }
    const expected = containerPathFor(this.workspaceRoot, request.user_id, request.workspace_id);
    if (request.container_path !== expected) {
      throw optionError(
        'workspaceRoot',
        this.workspaceRoot,
        `the request targets ${request.container_path} but this store's workspace root gives ${expected}; both sides must use the same WORKSPACE_ROOT`,
      );
    }
  }
}

function copyMount(mount: Mount): Mount {
  if (mount.error === undefined) return { ...mount };
  const error = { ...mount.error };
  if (error.details !== undefined) error.details = { ...error.details };
  return { ...mount, error };
}

/** Freezes a snapshot, its mounts and their failures, so that a kept parse cannot be changed by a caller of readShared(). */
function freezeSnapshot(snapshot: StoreSnapshot): StoreSnapshot {
  for (const mount of snapshot.mounts) {
    if (mount.error?.details !== undefined) Object.freeze(mount.error.details);
    if (mount.error !== undefined) Object.freeze(mount.error);
    Object.freeze(mount);
  }
  Object.freeze(snapshot.mounts);
  return Object.freeze(snapshot);
}

function sameContent(mount: Mount, request: ValidMountRequest): boolean {
  return sameSpec(mount, request) && mount.description === request.description;
}

function sameSpec(mount: Mount, spec: ApplyResult['spec']): boolean {
  return mount.local_path === spec.local_path && mount.container_path === spec.container_path && mount.read_only === spec.read_only;
}

function sameFailure(a: MountFailure | undefined, b: MountFailure | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.code === b.code && a.message === b.message && a.step === b.step && JSON.stringify(a.details) === JSON.stringify(b.details);
}

function optionError(option: string, value: unknown, reason: string): ConfigError {
  const quoted = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return new ConfigError(`invalid store option ${option}=${quoted}: ${reason}`, {
    details: { option, value: typeof value === 'string' ? value : String(value), reason },
  });
}
