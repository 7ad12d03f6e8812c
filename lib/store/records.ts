/** Checks on single store records, shared by the v2 parser and the flat-format migration. */
import { ValidationError } from '../errors.js';
import { mountKey } from '../types.js';
import { normalizeHostPath } from '../validation/host-path.js';
import { validateId } from '../validation/ids.js';

/** A problem in one record; parseStore turns it into STORE_CORRUPT naming the file. */
export class RecordProblem extends Error {}

/** Validates both ids of a record and checks that `key` is the key they give. */
export function readIds(where: string, key: string, user: unknown, workspace: unknown): { userId: string; workspaceId: string } {
  const userId = checkValid(where, 'user_id', () => validateId('user_id', user));
  const workspaceId = checkValid(where, 'workspace_id', () => validateId('workspace_id', workspace));
  const expected = mountKey(userId, workspaceId);
  if (key !== expected) {
    throw new RecordProblem(`${where} has the key ${JSON.stringify(key)} but its ids give ${JSON.stringify(expected)}`);
  }
  return { userId, workspaceId };
}

/** Runs a validator and turns its ValidationError into a RecordProblem naming the record and field. */
export function checkValid<T>(where: string, field: string, check: () => T): T {
  try {
    return check();
  } catch (error) {
    throw new RecordProblem(`${where}.${field} is invalid (${reasonOf(error)})`);
  }
}

/** Returns the `reason` of a ValidationError, or the text of any other error. */
export function reasonOf(error: unknown): string {
  return error instanceof ValidationError ? String(error.details.reason) : String(error);
}

/**
 * Converts a time to ISO 8601, or returns undefined. Accepts a date string,
 * or a number of seconds (below 1e11, as Python's time.time() writes) or
 * milliseconds since the epoch.
 */
export function toIsoTime(value: unknown): string | undefined {
  let ms: number;
  if (typeof value === 'string') ms = Date.parse(value);
  else if (typeof value === 'number' && value > 0) ms = value < 1e11 ? value * 1000 : value;
  else return undefined;
  const date = new Date(ms);
  return Number.isFinite(date.getTime()) ? date.toISOString() : undefined;
}

/** Tells whether `value` is a host path already in normalised form, as a POSIX or a Windows path. */
export function isNormalizedHostPath(value: unknown): value is string {
  for (const style of ['posix', 'windows'] as const) {
    try {
      if (normalizeHostPath(value, style) === value) return true;
    } catch {
      // Try the other style.
    }
  }
  return false;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
