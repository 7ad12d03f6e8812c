/**
 * User and workspace ids. Both become path segments of the mount target
 * (`WORKSPACE_ROOT/<user_id>/<workspace_id>`) and parts of the store key, so
 * they are held to a strict ASCII pattern: no separators, no dot segments, no
 * whitespace, no look-alike letters from other scripts.
 */
import { ValidationError } from '../errors.js';
import { CONTROL_CHARACTER, describeType, quoteValue } from './text.js';

/**
 * An ASCII letter or digit, then up to 63 letters, digits, dots, underscores
 * or hyphens: 64 characters at most. `.` and `..` cannot match because the
 * first character must be a letter or digit.
 */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Maximum length of an id, in characters. */
export const ID_MAX_LENGTH = 64;

/** The two request fields that hold ids. */
export type IdField = 'user_id' | 'workspace_id';

/**
 * Checks that `value` is a valid id and returns it unchanged.
 *
 * Throws ValidationError with code INVALID_USER_ID or INVALID_WORKSPACE_ID and
 * details `{ field, reason }`, where `reason` is `missing` (undefined, null or
 * empty), `not_string`, `too_long`, `dot_segment`, `control_characters` or
 * `bad_characters`. Details quote the rejected value with control characters
 * escaped.
 */
export function validateId(field: IdField, value: unknown): string {
  if (value === undefined || value === null || value === '') {
    throw invalidId(field, 'missing', {});
  }
  if (typeof value !== 'string') {
    throw invalidId(field, 'not_string', { type: describeType(value) });
  }
  if (value.length > ID_MAX_LENGTH) {
    throw invalidId(field, 'too_long', { value: quoteValue(value), length: value.length, max: ID_MAX_LENGTH });
  }
  if (value === '.' || value === '..') {
    throw invalidId(field, 'dot_segment', { value });
  }
  if (CONTROL_CHARACTER.test(value)) {
    throw invalidId(field, 'control_characters', { value: quoteValue(value) });
  }
  if (!ID_PATTERN.test(value)) {
    throw invalidId(field, 'bad_characters', { value: quoteValue(value) });
  }
  return value;
}

function invalidId(field: IdField, reason: string, extra: Record<string, unknown>): ValidationError {
  const code = field === 'user_id' ? 'INVALID_USER_ID' : 'INVALID_WORKSPACE_ID';
  const quoted = typeof extra.value === 'string' ? ` "${extra.value}"` : '';
  return new ValidationError(code, `invalid ${field}${quoted}: ${ID_REASON_TEXT[reason] ?? reason}`, {
    details: { field, reason, ...extra },
  });
}

const ID_REASON_TEXT: Record<string, string> = {
  missing: 'it is required and must not be empty',
  not_string: 'it must be a string',
  too_long: `it must be at most ${ID_MAX_LENGTH} characters`,
  dot_segment: 'it must not be "." or ".."',
  control_characters: 'it must not contain control characters',
  bad_characters: 'use ASCII letters, digits, ".", "_" and "-", starting with a letter or digit',
};
