/**
 * Host path policy: the rules that decide which normalised host paths may be
 * mounted.
 *
 * A deny entry denies the path itself and every path below it, except the
 * entry for a file-system root (`/`, `C:\`), which denies exactly the root.
 * A path that is an ancestor of a deny entry is denied too, because mounting
 * it would expose the denied entry below it: `/var` contains
 * `/var/run/docker.sock` and `/var/lib/docker`, and `/home` contains any
 * `/home/dev/.ssh` an operator adds. Deny entries from options add to the
 * built-in list and cannot remove from it. When an allow list is set, a path
 * must also lie within one of its entries, and the deny list still wins.
 *
 * Paths compare on whole components, case-sensitively for POSIX and
 * case-insensitively for Windows. The built-in POSIX list does not apply to
 * Windows-style paths, which get their own short built-in list.
 */
import { ConfigError, PolicyError } from '../errors.js';
import { isWithin, normalizeHostPath, type HostPathStyle } from './host-path.js';

/**
 * Built-in deny list for a Linux host: the root, system trees, the Engine's
 * and containerd's data, root's home and the Docker socket at both of its
 * usual paths. The socket entries come first so that they are the rule named
 * for the socket and for its ancestors.
 */
export const DEFAULT_DENY: readonly string[] = Object.freeze([
  '/var/run/docker.sock',
  '/run/docker.sock',
  '/',
  '/etc',
  '/proc',
  '/sys',
  '/dev',
  '/boot',
  '/run',
  '/var/run',
  '/var/lib/docker',
  '/var/lib/containerd',
  '/usr',
  '/bin',
  '/sbin',
  '/lib',
  '/lib32',
  '/lib64',
  '/libx32',
  '/root',
]);

/**
 * Built-in deny list for Docker Desktop on Windows: the root of drive C, the
 * Windows folder and Docker Desktop's data. Other drives' roots are not listed.
 */
export const DEFAULT_WINDOWS_DENY: readonly string[] = Object.freeze([
  'C:\\',
  'C:\\Windows',
  'C:\\ProgramData\\Docker',
  'C:\\ProgramData\\DockerDesktop',
]);

export interface HostPathPolicyOptions {
  /**
   * Folders that mounts must lie within, as normalised absolute paths in
   * `style`. Default: `[]`, which allows every path the deny list does not deny.
   */
  allow?: string[];
  /**
   * Further denied paths, as normalised absolute paths in `style`, added to
   * the built-in list for that style. Default: `[]`.
   */
  deny?: string[];
  /** Path syntax of the host. Default: `'posix'`. */
  style?: HostPathStyle;
}

/** A checked host path policy; build it with createHostPathPolicy. */
export interface HostPathPolicy {
  readonly style: HostPathStyle;
  /** Allowed folders; empty when every path outside the deny list is allowed. */
  readonly allow: readonly string[];
  /** The built-in deny list for `style`, then the entries from options. */
  readonly deny: readonly string[];
}

/**
 * Checks `options` and returns a policy. Throws ConfigError naming the option
 * and quoting the value when `style` is unknown, when an entry is not a
 * normalised absolute path, or when an allow entry lies inside a denied tree
 * (no path in it could ever be mounted).
 */
export function createHostPathPolicy(options: HostPathPolicyOptions = {}): HostPathPolicy {
  if (typeof options !== 'object' || options === null) {
    throw configError('options', options, 'host path policy options must be an object');
  }
  const style = options.style ?? 'posix';
  if (style !== 'posix' && style !== 'windows') {
    throw configError('style', style, 'style must be "posix" or "windows"');
  }
  const extraDeny = checkEntries('deny', options.deny, style);
  const allow = checkEntries('allow', options.allow, style);
  const builtIn = style === 'windows' ? DEFAULT_WINDOWS_DENY : DEFAULT_DENY;
  const deny = [...builtIn, ...extraDeny.filter((entry) => !builtIn.includes(entry))];

  // A root entry denies only the root, so an allow entry of "/" still allows what lies below it.
  allow.forEach((entry, index) => {
    const rule = deny.find((denied) => !isFileSystemRoot(denied) && isWithin(entry, denied, style));
    if (rule !== undefined) {
      throw configError(`allow[${index}]`, entry, `it lies inside the denied path "${rule}", so nothing in it can be mounted`);
    }
  });

  return Object.freeze({ style, allow: Object.freeze(allow), deny: Object.freeze(deny) });
}

/**
 * Throws PolicyError (code PATH_NOT_ALLOWED) unless `policy` allows mounting
 * `path`. Details are `{ path, reason, rule }`: `reason` is `denied` with
 * `rule` the deny entry that matched, or `outside_allow` with `rule` the allow
 * list joined by commas. `path` is normalised in the policy's style first, so
 * a non-normalised path cannot slip past a rule; an invalid one throws the
 * ValidationError of normalizeHostPath.
 */
export function checkHostPath(path: string, policy: HostPathPolicy): void {
  const normal = normalizeHostPath(path, policy.style);
  const rule = findDenyRule(normal, policy);
  if (rule !== undefined) {
    throw new PolicyError(`host path "${normal}" must not be mounted: it is or contains the denied path "${rule}"`, {
      details: { path: normal, reason: 'denied', rule },
    });
  }
  if (policy.allow.length > 0 && !policy.allow.some((root) => isWithin(normal, root, policy.style))) {
    const allowed = policy.allow.join(',');
    throw new PolicyError(`host path "${normal}" is outside the allowed folders: ${allowed}`, {
      details: { path: normal, reason: 'outside_allow', rule: allowed },
    });
  }
}

/** Returns the deny entry that denies `path` (equal, inside, or an ancestor of it), or undefined. */
function findDenyRule(path: string, policy: HostPathPolicy): string | undefined {
  const inside = policy.deny.find((entry) => isInsideDenied(path, entry, policy.style));
  if (inside !== undefined) return inside;
  return policy.deny.find((entry) => isWithin(entry, path, policy.style));
}

/** Tells whether `entry` denies `path`. A root entry denies only the root itself, any other entry its whole tree. */
function isInsideDenied(path: string, entry: string, style: HostPathStyle): boolean {
  if (isFileSystemRoot(entry)) {
    return style === 'windows' ? path.toLowerCase() === entry.toLowerCase() : path === entry;
  }
  return isWithin(path, entry, style);
}

function isFileSystemRoot(path: string): boolean {
  return path === '/' || /^[A-Za-z]:\\$/.test(path);
}

function checkEntries(option: 'allow' | 'deny', entries: unknown, style: HostPathStyle): string[] {
  if (entries === undefined) return [];
  if (!Array.isArray(entries)) {
    throw configError(option, entries, `${option} must be an array of absolute paths`);
  }
  return entries.map((entry: unknown, index) => {
    const name = `${option}[${index}]`;
    let normal: string;
    try {
      normal = normalizeHostPath(entry, style);
    } catch {
      throw configError(name, entry, `it must be an absolute ${style} path without ".." segments`);
    }
    if (normal !== entry) {
      throw configError(name, entry, `it must be written in normalised form, "${normal}"`);
    }
    return normal;
  });
}

function configError(option: string, value: unknown, reason: string): ConfigError {
  const quoted = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return new ConfigError(`invalid host path policy option ${option}=${quoted}: ${reason}`, {
    details: { option, value: typeof value === 'string' ? value : String(value), reason },
  });
}
