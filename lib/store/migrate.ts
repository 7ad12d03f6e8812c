/**
 * Migration of the original flat store format,
 * `{ "user1:ws1": { user_id, workspace_id, local_path, description, created_at }, … }`,
 * which has no `format` key. Records may lack container_path, read_only,
 * updated_at and state. Each record becomes a v2 mount: container_path
 * computed from the workspace root, read_only false unless set, state
 * `pending` (no record shows it was applied), updated_at from created_at.
 */
import { ValidationError } from '../errors.js';
import type { Mount } from '../types.js';
import { normalizeHostPath } from '../validation/host-path.js';
import { containerPathFor } from '../validation/request.js';
import { checkValid, isPlainObject, readIds, reasonOf, RecordProblem, toIsoTime } from './records.js';

/**
 * Returns the mounts of a flat-format file by store key. Every record must be
 * valid; the first invalid one throws a RecordProblem.
 */
export function migrateFlat(value: Record<string, unknown>, workspaceRoot: string, now: () => Date): Map<string, Mount> {
  const mounts = new Map<string, Mount>();
  for (const [key, entry] of Object.entries(value)) {
    const where = `record ${JSON.stringify(key)}`;
    if (!isPlainObject(entry)) throw new RecordProblem(`${where} is not a JSON object`);

    // Old records always had ids; taking a missing one from the key loses nothing.
    const separator = key.indexOf(':');
    const fromKey = separator < 0 ? [undefined, undefined] : [key.slice(0, separator), key.slice(separator + 1)];
    const { userId, workspaceId } = readIds(where, key, entry.user_id ?? fromKey[0], entry.workspace_id ?? fromKey[1]);
    const localPath = migratePath(where, entry.local_path);

    const description = entry.description ?? '';
    if (typeof description !== 'string') throw new RecordProblem(`${where}.description must be a string`);
    const readOnly = entry.read_only ?? false;
    if (typeof readOnly !== 'boolean') throw new RecordProblem(`${where}.read_only must be true or false`);

    // A missing or unreadable time is replaced rather than rejected: it carries no mount.
    const createdAt = toIsoTime(entry.created_at) ?? now().toISOString();
    const updatedAt = toIsoTime(entry.updated_at) ?? createdAt;
    mounts.set(key, {
      user_id: userId,
      workspace_id: workspaceId,
      local_path: localPath,
      container_path: containerPathFor(workspaceRoot, userId, workspaceId),
      description,
      read_only: readOnly,
      created_at: createdAt,
      updated_at: updatedAt,
      state: 'pending',
    });
  }
  return mounts;
}

/**
 * Normalises a flat-format local_path. The original service ran on Linux, so
 * POSIX comes first; a Windows drive path is kept in its canonical form.
 */
function migratePath(where: string, value: unknown): string {
  try {
    return normalizeHostPath(value, 'posix');
  } catch (error) {
    if (!(error instanceof ValidationError) || error.details.reason !== 'windows_path') {
      throw new RecordProblem(`${where}.local_path is invalid (${reasonOf(error)})`);
    }
  }
  return checkValid(where, 'local_path', () => normalizeHostPath(value, 'windows'));
}
