/**
 * Checks of a host path through a view of the host's file system: HOST_ROOT,
 * a read-only bind of the host's `/` into the monitor, such as `/host`.
 *
 * Symlinks are resolved one component at a time as the host's kernel would,
 * with HOST_ROOT standing for `/`: an absolute link target starts again at
 * HOST_ROOT, and `..` at the top stays at the top. fs.realpath would instead
 * follow an absolute target such as `/etc` into the monitor's own file
 * system. The host path policy then applies to the real path as well as to
 * the requested one, so a symlink inside an allowed folder cannot lead to a
 * denied one. A missing folder or a file is reported before any Engine call.
 *
 * NOTE: checking and mounting are two steps. A symlink swapped in between by
 * someone who can write to the host folder is not caught here. The monitor
 * checks again just before each apply, which narrows that window but does not
 * close it.
 */
import { lstatSync, readlinkSync } from 'node:fs';
import { ConfigError, PolicyError, ValidationError } from '../errors.js';
import { checkHostPath, type HostPathPolicy } from './host-path-policy.js';
import { normalizeHostPath } from './host-path.js';
import { quoteValue } from './text.js';

/** Maximum symlinks followed while resolving one path, as Linux allows (MAXSYMLINKS). */
export const MAX_SYMLINKS = 40;

/** The file system calls the resolver makes; both throw Node errors with a `code`, as node:fs does. */
export interface HostRootFs {
  lstat(path: string): { isDirectory(): boolean; isSymbolicLink(): boolean };
  readlink(path: string): string;
}

export interface HostRootOptions {
  /** Normalised absolute path that shows the host's `/`, such as `/host`, or `/` when the code runs on the host. Required. */
  root: string;
  /** File system calls. Default: lstatSync and readlinkSync of node:fs. */
  fs?: HostRootFs;
}

/** A checked host-root view; build it with createHostRoot. */
export interface HostRoot {
  readonly root: string;
  readonly fs: HostRootFs;
}

/** A host path after its symlinks were resolved under a HostRoot. */
export interface ResolvedHostPath {
  /** The real path in the host's terms, starting at the host's `/`. */
  path: string;
  isDirectory: boolean;
}

const nodeFs: HostRootFs = { lstat: (path) => lstatSync(path), readlink: (path) => readlinkSync(path, 'utf8') };

/** Checks `options` and returns a HostRoot. Throws ConfigError when `root` is not a normalised absolute POSIX path. */
export function createHostRoot(options: HostRootOptions): HostRoot {
  let normal: string | undefined;
  try {
    normal = normalizeHostPath(options.root, 'posix');
  } catch {
    normal = undefined;
  }
  if (normal === undefined || normal !== options.root) {
    const value = typeof options.root === 'string' ? quoteValue(options.root) : String(options.root);
    const reason = 'root must be a normalised absolute POSIX path, such as "/host"';
    throw new ConfigError(`invalid host root ${JSON.stringify(value)}: ${reason}`, { details: { option: 'root', value, reason } });
  }
  return Object.freeze({ root: normal, fs: options.fs ?? nodeFs });
}

/**
 * Resolves every symlink in the normalised host path `path` under
 * `hostRoot` and returns the real path. Throws ValidationError
 * BIND_SOURCE_MISSING when a component does not exist, INVALID_LOCAL_PATH
 * (reason `symlink_loop`) after MAX_SYMLINKS links, and PolicyError
 * (reason `unverifiable`) when the file system refuses a lookup.
 */
export function resolveHostPath(path: string, hostRoot: HostRoot): ResolvedHostPath {
  const pending = path.split('/').filter(Boolean);
  // Components of the real path so far; none of them is a symlink.
  const resolved: string[] = [];
  let links = 0;
  let isDirectory = true;

  while (pending.length > 0) {
    const name = pending.shift()!;
    if (name === '.') continue;
    if (name === '..') {
      // Only a link target can bring ".." here. Every resolved component is a real folder, so dropping one is exact.
      resolved.pop();
      isDirectory = true;
      continue;
    }
    const physical = physicalPath(hostRoot.root, [...resolved, name]);
    const stats = lookUp(() => hostRoot.fs.lstat(physical), path, resolved, name);
    if (stats.isSymbolicLink()) {
      links += 1;
      if (links > MAX_SYMLINKS) throw symlinkLoop(path);
      const target = lookUp(() => hostRoot.fs.readlink(physical), path, resolved, name);
      if (target.startsWith('/')) resolved.length = 0;
      pending.unshift(...target.split('/').filter(Boolean));
      continue;
    }
    isDirectory = stats.isDirectory();
    if (!isDirectory && pending.length > 0) {
      // A file where a folder is needed makes the kernel return ENOTDIR, so the path does not exist.
      throw missing(path, `/${[...resolved, name].join('/')}`);
    }
    resolved.push(name);
  }
  return { path: `/${resolved.join('/')}`, isDirectory };
}

/**
 * Checks a host path as the monitor does with a host-root view and returns
 * its real path: the policy on the normalised path, then on the real path,
 * then that it is an existing folder. Throws what normalizeHostPath,
 * checkHostPath and resolveHostPath throw, PolicyError with `real_path` when
 * only the real path is denied, and ValidationError BIND_SOURCE_NOT_DIRECTORY
 * for anything but a folder.
 */
export function checkHostFolder(path: string, policy: HostPathPolicy, hostRoot: HostRoot): string {
  if (policy.style !== 'posix') {
    throw new ConfigError('a host root works only with POSIX host paths, not with style "windows"', {
      details: { option: 'style', value: policy.style, reason: 'a host root needs style "posix"' },
    });
  }
  const normal = normalizeHostPath(path, 'posix');
  checkHostPath(normal, policy);
  const real = resolveHostPath(normal, hostRoot);
  if (real.path !== normal) {
    try {
      checkHostPath(real.path, policy);
    } catch (error) {
      if (!(error instanceof PolicyError)) throw error;
      throw new PolicyError(`host path "${normal}" resolves to "${real.path}", which must not be mounted: ${error.message}`, {
        details: { ...error.details, path: normal, real_path: real.path },
      });
    }
  }
  if (!real.isDirectory) {
    throw new ValidationError('BIND_SOURCE_NOT_DIRECTORY', `host path "${normal}" is not a folder; only folders can be mounted as workspaces`, {
      details: { field: 'local_path', path: normal, real_path: real.path },
    });
  }
  return real.path;
}

function physicalPath(root: string, components: string[]): string {
  if (components.length === 0) return root;
  return root === '/' ? `/${components.join('/')}` : `${root}/${components.join('/')}`;
}

/** Runs one file system call, turning "does not exist" into BIND_SOURCE_MISSING and any other failure into `unverifiable`. */
function lookUp<T>(call: () => T, path: string, resolved: string[], name: string): T {
  try {
    return call();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw missing(path, `/${[...resolved, name].join('/')}`);
    const errorCode = typeof code === 'string' ? code : 'unknown';
    throw new PolicyError(`host path "${path}" cannot be checked under the host root (${errorCode}), so it is not mounted`, {
      details: { path, reason: 'unverifiable', error_code: errorCode },
    });
  }
}

function missing(path: string, missingPath: string): ValidationError {
  return new ValidationError('BIND_SOURCE_MISSING', `host path "${path}" does not exist: "${missingPath}" is missing; create the folder on the host first`, {
    details: { field: 'local_path', path, missing: missingPath },
  });
}

function symlinkLoop(path: string): ValidationError {
  return new ValidationError('INVALID_LOCAL_PATH', `invalid local_path "${path}": more than ${MAX_SYMLINKS} symlinks, or a symlink loop`, {
    details: { field: 'local_path', reason: 'symlink_loop', value: path, max_symlinks: MAX_SYMLINKS },
  });
}
