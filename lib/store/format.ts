/**
 * The store file format and its parser.
 *
 * Current format (v2):
 *   { "format": "mount-core/v2", "revision": 3, "mounts": { "user1:ws1": Mount, … } }
 * `revision` counts changes to the desired mounts; recording apply results
 * does not change it.
 *
 * The original flat format, `{ "user1:ws1": { user_id, workspace_id,
 * local_path, description, created_at }, … }` without a `format` key, is
 * migrated in memory; the store writes it back as v2 on its next change.
 *
 * Nothing here treats a damaged file as empty. A 0-byte file, invalid JSON,
 * an unknown format and any record that fails validation raise STORE_CORRUPT
 * naming the file and the first problem. An invalid record is not dropped,
 * even in a flat file: dropping it would lose a mount at the next write,
 * silently, while a STORE_CORRUPT error keeps the file until someone repairs
 * it. Unknown extra fields in a record are ignored and not written back.
 */
import { StoreError } from '../errors.js';
import { mountKey, type Mount, type MountFailure, type MountState } from '../types.js';
import { containerPathFor } from '../validation/request.js';
import { migrateFlat } from './migrate.js';
import { isNormalizedHostPath, isPlainObject, readIds, RecordProblem, toIsoTime } from './records.js';

export const STORE_FORMAT = 'mount-core/v2';

/** The content of a store file. */
export interface StoreData {
  revision: number;
  /** Mounts by `mountKey(user_id, workspace_id)`. */
  mounts: Map<string, Mount>;
}

export interface ParsedStore extends StoreData {
  /** True when the text was in the original flat format and was migrated in memory. */
  legacy: boolean;
}

export interface ParseStoreOptions {
  /** Root of mount targets; `container_path` is recomputed from it. */
  workspaceRoot: string;
  /** Clock for timestamps that a flat-format record lacks. */
  now: () => Date;
}

const MOUNT_STATES: ReadonlySet<string> = new Set<MountState>(['applied', 'pending', 'failed']);

/**
 * Parses the text of the store file `file`; `undefined` text means the file
 * does not exist and gives an empty store at revision 0.
 *
 * `container_path` is derived data: it is recomputed from `workspaceRoot` and
 * the ids. When the stored value differs (WORKSPACE_ROOT changed), the mount
 * becomes `pending`, because the running container has it elsewhere.
 * Throws StoreError STORE_CORRUPT with details `{ file, reason }`.
 */
export function parseStore(text: string | undefined, file: string, options: ParseStoreOptions): ParsedStore {
  if (text === undefined) {
    return { revision: 0, mounts: new Map(), legacy: false };
  }
  if (text.trim() === '') {
    throw corrupt(file, 'the file is empty');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw corrupt(file, `invalid JSON (${describeJsonError(error, text)})`);
  }
  if (!isPlainObject(value)) {
    throw corrupt(file, 'the top level is not a JSON object');
  }
  try {
    if (!('format' in value)) {
      return { revision: 0, mounts: migrateFlat(value, options.workspaceRoot, options.now), legacy: true };
    }
    if (value.format !== STORE_FORMAT) {
      throw new RecordProblem(`unsupported format ${JSON.stringify(value.format)}, expected "${STORE_FORMAT}"`);
    }
    return { ...parseV2(value, options), legacy: false };
  } catch (error) {
    if (error instanceof RecordProblem) throw corrupt(file, error.message);
    throw error;
  }
}

/** Renders `data` as v2 JSON, 2-space indent, a trailing newline, mounts sorted by user then workspace. */
export function serializeStore(data: StoreData): string {
  const mounts: Record<string, Mount> = {};
  for (const mount of sortMounts(data.mounts.values())) {
    mounts[mountKey(mount.user_id, mount.workspace_id)] = orderFields(mount);
  }
  return `${JSON.stringify({ format: STORE_FORMAT, revision: data.revision, mounts }, null, 2)}\n`;
}

/** Returns the mounts sorted by user_id, then workspace_id, by code unit (no locale rules). */
export function sortMounts(mounts: Iterable<Mount>): Mount[] {
  return [...mounts].sort((a, b) => compareCodeUnits(a.user_id, b.user_id) || compareCodeUnits(a.workspace_id, b.workspace_id));
}

function compareCodeUnits(a: string, b: string): number {
  if (a < b) return -1;
  if (a > b) return 1;
  return 0;
}

function parseV2(value: Record<string, unknown>, options: ParseStoreOptions): StoreData {
  const revision = value.revision;
  if (typeof revision !== 'number' || !Number.isSafeInteger(revision) || revision < 0) {
    throw new RecordProblem('"revision" must be a non-negative integer');
  }
  if (!isPlainObject(value.mounts)) {
    throw new RecordProblem('"mounts" must be a JSON object');
  }
  const mounts = new Map<string, Mount>();
  for (const [key, entry] of Object.entries(value.mounts)) {
    mounts.set(key, readV2Mount(key, entry, options));
  }
  return { revision, mounts };
}

function readV2Mount(key: string, entry: unknown, options: ParseStoreOptions): Mount {
  const where = `mounts[${JSON.stringify(key)}]`;
  if (!isPlainObject(entry)) throw new RecordProblem(`${where} is not a JSON object`);

  const { userId, workspaceId } = readIds(where, key, entry.user_id, entry.workspace_id);
  const localPath = readStoredPath(where, entry.local_path);
  const storedTarget = requireString(where, entry, 'container_path');
  const description = requireString(where, entry, 'description');
  const readOnly = requireBoolean(where, entry, 'read_only');
  const createdAt = requireTime(where, entry, 'created_at');
  const updatedAt = requireTime(where, entry, 'updated_at');
  const state = entry.state;
  if (typeof state !== 'string' || !MOUNT_STATES.has(state)) {
    throw new RecordProblem(`${where}.state must be "applied", "pending" or "failed"`);
  }
  const error = readFailure(where, entry.error);

  const containerPath = containerPathFor(options.workspaceRoot, userId, workspaceId);
  const moved = containerPath !== storedTarget;
  const mount: Mount = {
    user_id: userId,
    workspace_id: workspaceId,
    local_path: localPath,
    container_path: containerPath,
    description,
    read_only: readOnly,
    created_at: createdAt,
    updated_at: updatedAt,
    state: moved ? 'pending' : (state as MountState),
  };
  if (error !== undefined && !moved) mount.error = error;
  return mount;
}

/** A v2 local_path must already be normalised, as a POSIX or a Windows path. */
function readStoredPath(where: string, value: unknown): string {
  if (isNormalizedHostPath(value)) return value;
  throw new RecordProblem(`${where}.local_path is not a normalised absolute path`);
}

function requireString(where: string, entry: Record<string, unknown>, field: string): string {
  const value = entry[field];
  if (typeof value !== 'string') throw new RecordProblem(`${where}.${field} must be a string`);
  return value;
}

function requireBoolean(where: string, entry: Record<string, unknown>, field: string): boolean {
  const value = entry[field];
  if (typeof value !== 'boolean') throw new RecordProblem(`${where}.${field} must be true or false`);
  return value;
}

function requireTime(where: string, entry: Record<string, unknown>, field: string): string {
  const value = entry[field];
  if (typeof value !== 'string' || toIsoTime(value) === undefined) {
    throw new RecordProblem(`${where}.${field} must be an ISO 8601 time`);
  }
  return value;
}

function readFailure(where: string, value: unknown): MountFailure | undefined {
  if (value === undefined) return undefined;
  if (!isPlainObject(value) || typeof value.code !== 'string' || typeof value.message !== 'string') {
    throw new RecordProblem(`${where}.error must be an object with string code and message`);
  }
  if (value.step !== undefined && typeof value.step !== 'string') {
    throw new RecordProblem(`${where}.error.step must be a string`);
  }
  if (value.details !== undefined && !isPlainObject(value.details)) {
    throw new RecordProblem(`${where}.error.details must be an object`);
  }
  const failure: MountFailure = { code: value.code, message: value.message };
  if (value.step !== undefined) failure.step = value.step;
  if (value.details !== undefined) failure.details = value.details as Record<string, unknown>;
  return failure;
}

function orderFields(mount: Mount): Mount {
  const ordered: Mount = {
    user_id: mount.user_id,
    workspace_id: mount.workspace_id,
    local_path: mount.local_path,
    container_path: mount.container_path,
    description: mount.description,
    read_only: mount.read_only,
    created_at: mount.created_at,
    updated_at: mount.updated_at,
    state: mount.state,
  };
  if (mount.error !== undefined) ordered.error = mount.error;
  return ordered;
}

function corrupt(file: string, reason: string): StoreError {
  return new StoreError('STORE_CORRUPT', `store file ${file} is corrupt: ${reason}; it was left unchanged, repair or move it, then retry`, {
    details: { file, reason },
  });
}

/**
 * Describes a JSON.parse failure by position only. The parser's own message
 * quotes part of the text in newer Node versions, and the store's content
 * must not reach API clients through an error.
 */
function describeJsonError(error: unknown, text: string): string {
  const message = error instanceof Error ? error.message : '';
  const position = /at position (\d+)/.exec(message)?.[1];
  if (position !== undefined) return `syntax error at byte offset ${position} of ${text.length}`;
  if (/end of JSON input/i.test(message)) return `the text ends after ${text.length} characters`;
  return 'syntax error';
}
