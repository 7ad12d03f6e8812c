/** Checks of the transform's options, done before the compose text is parsed. */
import { ValidationError } from '../errors.js';
import type { MountSpec } from '../types.js';
import { escapeComposeLiteral, isManagedTarget, normalizeRoot, normalizeTarget } from './entries.js';
import { scalarText } from './render.js';
import type { ComposeSyncOptions, ComposeTargetOptions } from './types.js';

export interface CheckedTargetOptions {
  service: string;
  /** `workspaceRoot` without trailing slashes. */
  root: string;
}

export interface CheckedSyncOptions extends CheckedTargetOptions {
  /** The mounts sorted by `container_path`, the order in which new entries are written. */
  mounts: MountSpec[];
}

function invalid(field: string, expected: string, value: unknown): ValidationError {
  return new ValidationError('INVALID_FIELD', `invalid ${field} ${JSON.stringify(value)}: expected ${expected}`, {
    details: { field, expected, value },
  });
}

/** Throws ValidationError INVALID_FIELD unless `service` and `workspaceRoot` are usable. */
export function checkTargetOptions(options: ComposeTargetOptions): CheckedTargetOptions {
  const { service, workspaceRoot } = options;
  if (typeof service !== 'string' || service.length === 0) {
    throw invalid('service', 'a non-empty service name', service);
  }

  const rootIsNormal =
    typeof workspaceRoot === 'string' &&
    workspaceRoot.startsWith('/') &&
    (workspaceRoot === '/' || normalizeTarget(workspaceRoot) === normalizeRoot(workspaceRoot));
  if (!rootIsNormal) {
    throw invalid('workspaceRoot', 'an absolute, normalised container path such as /workspace', workspaceRoot);
  }

  return { service, root: normalizeRoot(workspaceRoot) };
}

/**
 * Throws ValidationError INVALID_FIELD unless every mount targets a distinct
 * `<workspaceRoot>/<user_id>/<workspace_id>`, has a boolean `read_only`, and has a
 * non-empty `local_path` that can be written as a one-line YAML string.
 */
export function checkSyncOptions(options: ComposeSyncOptions): CheckedSyncOptions {
  const checked = checkTargetOptions(options);
  if (!Array.isArray(options.mounts)) throw invalid('mounts', 'an array of mount specs', options.mounts);

  const seen = new Set<string>();
  options.mounts.forEach((mount, i) => {
    const field = `mounts[${i}]`;
    if (typeof mount.local_path !== 'string' || mount.local_path.length === 0) {
      throw invalid(`${field}.local_path`, 'a non-empty host path', mount.local_path);
    }
    // Throws here, before any parsing, when the path has no one-line YAML form.
    scalarText(escapeComposeLiteral(mount.local_path), `${field}.local_path`);

    const target = mount.container_path;
    if (typeof target !== 'string' || normalizeTarget(target) !== target || !isManagedTarget(target, checked.root)) {
      throw invalid(`${field}.container_path`, `a normalised path ${checked.root}/<user_id>/<workspace_id>`, target);
    }
    if (seen.has(target)) throw invalid(`${field}.container_path`, 'a container path used by one mount only', target);
    seen.add(target);

    if (typeof mount.read_only !== 'boolean') throw invalid(`${field}.read_only`, 'a boolean', mount.read_only);
  });

  const mounts = [...options.mounts].sort((a, b) => compareStrings(a.container_path, b.container_path));
  return { ...checked, mounts };
}

/** Orders strings by UTF-16 code units, the same on every machine and locale. */
function compareStrings(a: string, b: string): number {
  if (a < b) return -1;
  return a > b ? 1 : 0;
}
