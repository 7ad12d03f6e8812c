/**
 * Validation of a whole mount request body and of the ids in DELETE and GET
 * routes. Checks run in a fixed order, so one body always yields the same
 * error: body shape, ids, local_path normalisation, description, read_only,
 * the host path policy, then, with a host root, the folder on the host. A
 * policy refusal (403) therefore never hides a malformed field (400).
 */
import { ConfigError, ValidationError } from '../errors.js';
import type { ValidMountRequest } from '../types.js';
import { checkHostPath, type HostPathPolicy } from './host-path-policy.js';
import { normalizeHostPath } from './host-path.js';
import { checkHostFolder, type HostRoot } from './host-root.js';
import { validateId } from './ids.js';
import { CONTROL_CHARACTER, describeType, DISPLAY_SPOOFING, LONE_SURROGATE, quoteValue } from './text.js';

/** Maximum length of a description, in Unicode code points. */
export const DESCRIPTION_MAX_LENGTH = 500;

const REQUIRED_FIELDS = ['user_id', 'workspace_id', 'local_path'] as const;
const OPTIONAL_FIELDS = ['description', 'read_only'] as const;
const KNOWN_FIELDS: ReadonlySet<string> = new Set([...REQUIRED_FIELDS, ...OPTIONAL_FIELDS]);

export interface MountRequestOptions {
  /** Host path policy that `local_path` must pass. */
  policy: HostPathPolicy;
  /** Root of mount targets inside the development container, such as `/workspace`. */
  workspaceRoot: string;
  /**
   * View of the host's file system. When set, `local_path` must also be an
   * existing folder whose real path, after symlinks, passes the policy (see
   * checkHostFolder). Default: none, so only the text of the path is checked.
   */
  hostRoot?: HostRoot;
}

/**
 * Validates a parsed JSON request body and returns the requested mount.
 *
 * A field set to `null` counts as absent. Throws ValidationError with code
 * INVALID_FIELD (body not a JSON object), UNKNOWN_FIELD, MISSING_FIELD,
 * INVALID_USER_ID, INVALID_WORKSPACE_ID, INVALID_LOCAL_PATH,
 * INVALID_DESCRIPTION or INVALID_READ_ONLY; PolicyError when the policy
 * rejects the path; ConfigError when `workspaceRoot` is invalid. With
 * `hostRoot`, also BIND_SOURCE_MISSING or BIND_SOURCE_NOT_DIRECTORY when the
 * path is not an existing folder.
 */
export function validateMountRequest(body: unknown, options: MountRequestOptions): ValidMountRequest {
  const workspaceRoot = validateWorkspaceRoot(options.workspaceRoot);
  const fields = checkShape(body);

  const userId = validateId('user_id', fields.user_id);
  const workspaceId = validateId('workspace_id', fields.workspace_id);
  const localPath = normalizeHostPath(fields.local_path, options.policy.style);
  const description = validateDescription(fields.description);
  const readOnly = validateReadOnly(fields.read_only);
  checkHostPath(localPath, options.policy);
  if (options.hostRoot) checkHostFolder(localPath, options.policy, options.hostRoot);

  return {
    user_id: userId,
    workspace_id: workspaceId,
    local_path: localPath,
    container_path: joinContainerPath(workspaceRoot, userId, workspaceId),
    description,
    read_only: readOnly,
  };
}

/** Checks that `body` is a plain object with only known fields and every required one. */
function checkShape(body: unknown): Record<string, unknown> {
  if (!isPlainObject(body)) {
    throw new ValidationError('INVALID_FIELD', `invalid request body: expected a JSON object, got ${describeType(body)}`, {
      details: { field: 'body', expected: 'a JSON object' },
    });
  }
  for (const key of Object.keys(body)) {
    if (!KNOWN_FIELDS.has(key)) {
      const field = quoteValue(key);
      throw new ValidationError('UNKNOWN_FIELD', `unknown field "${field}"; allowed: ${[...KNOWN_FIELDS].join(', ')}`, {
        details: { field },
      });
    }
  }
  for (const field of REQUIRED_FIELDS) {
    if (body[field] === undefined || body[field] === null) {
      throw new ValidationError('MISSING_FIELD', `missing required field ${field}`, { details: { field } });
    }
  }
  return body;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * Returns the description, `''` when absent. It must be a string of at most
 * 500 code points without control characters: a newline or tab is rejected
 * too, because descriptions end up in one-line logs and listings.
 */
function validateDescription(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') {
    throw invalidDescription('not_string', { type: describeType(value) });
  }
  const length = [...value].length;
  if (length > DESCRIPTION_MAX_LENGTH) {
    throw invalidDescription('too_long', { length, max: DESCRIPTION_MAX_LENGTH });
  }
  if (CONTROL_CHARACTER.test(value)) {
    throw invalidDescription('control_characters', { value: quoteValue(value) });
  }
  if (LONE_SURROGATE.test(value)) {
    throw invalidDescription('invalid_unicode', { value: quoteValue(value) });
  }
  if (DISPLAY_SPOOFING.test(value)) {
    throw invalidDescription('format_characters', { value: quoteValue(value) });
  }
  return value;
}

const DESCRIPTION_REASON_TEXT: Record<string, string> = {
  not_string: 'it must be a string',
  too_long: `it must be at most ${DESCRIPTION_MAX_LENGTH} characters`,
  control_characters: 'it must not contain control characters, including newlines and tabs',
  bad_characters: 'it must be valid Unicode text',
  format_characters: 'it must not contain invisible or direction-changing characters such as U+202E or U+2028',
};

function invalidDescription(reason: string, extra: Record<string, unknown>): ValidationError {
  return new ValidationError('INVALID_DESCRIPTION', `invalid description: ${DESCRIPTION_REASON_TEXT[reason] ?? reason}`, {
    details: { field: 'description', reason, ...extra },
  });
}

/** Returns read_only, `false` when absent. Only JSON booleans pass: the string "true" does not. */
function validateReadOnly(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') {
    throw new ValidationError('INVALID_READ_ONLY', `invalid read_only: it must be true or false, got ${describeType(value)}`, {
      details: { field: 'read_only', reason: 'not_boolean', type: describeType(value) },
    });
  }
  return value;
}

/**
 * Returns the mount target `<workspaceRoot>/<userId>/<workspaceId>`. Checks
 * all three first, so the target always lies one level below a user folder
 * inside `workspaceRoot`.
 */
export function containerPathFor(workspaceRoot: string, userId: string, workspaceId: string): string {
  const root = validateWorkspaceRoot(workspaceRoot);
  return joinContainerPath(root, validateId('user_id', userId), validateId('workspace_id', workspaceId));
}

function joinContainerPath(root: string, userId: string, workspaceId: string): string {
  return `${root}/${userId}/${workspaceId}`;
}

/**
 * Returns `root` when it is a normalised absolute POSIX path other than `/`,
 * else throws ConfigError naming `option` (default `workspaceRoot`).
 */
export function validateWorkspaceRoot(root: unknown, option = 'workspaceRoot'): string {
  let normal: string | undefined;
  try {
    normal = normalizeHostPath(root, 'posix');
  } catch {
    normal = undefined;
  }
  if (normal === undefined || normal !== root || normal === '/') {
    const quoted = typeof root === 'string' ? JSON.stringify(quoteValue(root)) : describeType(root);
    const reason = `${option} must be a normalised absolute POSIX path other than "/", such as "/workspace"`;
    throw new ConfigError(`invalid ${option} ${quoted}: ${reason}`, {
      details: { option, value: typeof root === 'string' ? quoteValue(root) : describeType(root), reason },
    });
  }
  return normal;
}

/**
 * Validates the ids of a DELETE or GET route and returns them. Throws
 * ValidationError INVALID_USER_ID or INVALID_WORKSPACE_ID as validateId does.
 */
export function validateMountKey(userId: unknown, workspaceId: unknown): { user_id: string; workspace_id: string } {
  return { user_id: validateId('user_id', userId), workspace_id: validateId('workspace_id', workspaceId) };
}
