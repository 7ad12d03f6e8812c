/**
 * Normalisation of host paths, the `local_path` of a mount request.
 *
 * Rules, for both styles:
 * - The input is a string of at most 4096 UTF-8 bytes (Linux PATH_MAX) without
 *   control characters, NUL, or the invisible and direction-changing
 *   characters of DISPLAY_SPOOFING.
 * - It is absolute. Repeated separators and `.` segments are dropped, and so is
 *   a trailing separator. A `..` segment is rejected, never resolved: resolving
 *   it lexically could differ from what the kernel does through symlinks, and
 *   no honest request needs one.
 * - Every other byte of every name is kept exactly. There is no Unicode
 *   normalisation: on Linux "Müller" in NFC (ü as one code point) and in NFD
 *   (u plus a combining diaeresis) are two different names, and changing one
 *   into the other would name a different folder, or none.
 *
 * Style `posix` (a Linux host, the default) treats Windows forms (`C:\…`,
 * `C:/…`, `\\server\share`) as errors, and `/c/…` or `/mnt/c/…` as ordinary
 * POSIX paths. Style `windows` (Docker Desktop) maps `C:\…`, `C:/…`, `/c/…` and
 * `/mnt/c/…` to one canonical form, `C:\Users\dev\proj`: upper-case drive
 * letter and backslashes.
 *
 * Symlinks are not resolved: this code runs in a container that cannot see
 * the host's filesystem.
 */
import { ConfigError, ValidationError } from '../errors.js';
import { CONTROL_CHARACTER, describeType, DISPLAY_SPOOFING, LONE_SURROGATE, quoteValue } from './text.js';

/** Path syntax of the host: `posix` for a Linux host, `windows` for Docker Desktop on Windows. */
export type HostPathStyle = 'posix' | 'windows';

/** Maximum length of a host path in UTF-8 bytes, the Linux PATH_MAX. */
export const HOST_PATH_MAX_BYTES = 4096;

/** A drive letter and colon at the start: `C:`, `c:\`, `D:/`. */
const WINDOWS_DRIVE = /^[A-Za-z]:/;

/** Characters that Windows forbids in file names; `:` would also name an NTFS alternate data stream. */
const WINDOWS_FORBIDDEN = /[<>:"|?*]/;

/** Device names that Windows resolves to a device in any folder, with or without an extension. */
const WINDOWS_DEVICE_NAME = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;

/**
 * Returns the normalised form of the host path `input` in `style`.
 *
 * Throws ValidationError with code INVALID_LOCAL_PATH and details
 * `{ field: 'local_path', reason, value }`, where `reason` is `missing`,
 * `not_string`, `too_long`, `control_characters`, `bad_characters`,
 * `format_characters`, `not_absolute`, `traversal` or `windows_path`.
 */
export function normalizeHostPath(input: unknown, style: HostPathStyle = 'posix'): string {
  if (style !== 'posix' && style !== 'windows') {
    throw new ConfigError(`host path style must be "posix" or "windows", got ${JSON.stringify(style)}`, {
      details: { option: 'style', value: String(style), reason: 'style must be "posix" or "windows"' },
    });
  }
  if (input === undefined || input === null || input === '') {
    throw invalidPath('missing', undefined);
  }
  if (typeof input !== 'string') {
    throw invalidPath('not_string', undefined, { type: describeType(input) });
  }
  // The code-unit check first keeps a huge string from being encoded just to measure it.
  if (input.length > HOST_PATH_MAX_BYTES || Buffer.byteLength(input, 'utf8') > HOST_PATH_MAX_BYTES) {
    throw invalidPath('too_long', input, { max_bytes: HOST_PATH_MAX_BYTES });
  }
  if (CONTROL_CHARACTER.test(input)) {
    throw invalidPath('control_characters', input);
  }
  if (LONE_SURROGATE.test(input)) {
    throw invalidPath('invalid_unicode', input);
  }
  if (DISPLAY_SPOOFING.test(input)) {
    throw invalidPath('format_characters', input);
  }
  return style === 'windows' ? normalizeWindowsPath(input) : normalizePosixPath(input);
}

function normalizePosixPath(input: string): string {
  if (WINDOWS_DRIVE.test(input) || input.startsWith('\\')) {
    throw invalidPath('windows_path', input, { style: 'posix' });
  }
  if (!input.startsWith('/')) {
    throw invalidPath('not_absolute', input);
  }
  return `/${splitSegments(input, input).join('/')}`;
}

function normalizeWindowsPath(input: string): string {
  // A backslash is a separator on Windows and cannot occur in a name.
  const slashed = input.replaceAll('\\', '/');
  if (slashed.startsWith('//')) {
    // NOTE: UNC shares and device paths (\\server\share, \\.\pipe\docker_engine)
    // are not supported. No reason key names them yet, so this uses not_absolute.
    throw invalidPath('not_absolute', input, { style: 'windows', form: 'unc' });
  }

  let drive: string;
  let segments: string[];
  const driveMatch = /^([A-Za-z]):(.*)$/s.exec(slashed);
  if (driveMatch) {
    const rest = driveMatch[2] ?? '';
    // "C:" alone and "C:proj" are relative to the current folder of drive C.
    if (!rest.startsWith('/')) {
      throw invalidPath('not_absolute', input, { style: 'windows' });
    }
    drive = driveMatch[1] ?? '';
    segments = splitSegments(rest, input);
  } else if (slashed.startsWith('/')) {
    // Git Bash writes drive C as /c/…, WSL as /mnt/c/….
    const all = splitSegments(slashed, input);
    const mounted = all[0] === 'mnt' && isDriveLetter(all[1]);
    const driveIndex = mounted ? 1 : 0;
    if (!isDriveLetter(all[driveIndex])) {
      throw invalidPath('not_absolute', input, { style: 'windows' });
    }
    drive = all[driveIndex] ?? '';
    segments = all.slice(driveIndex + 1);
  } else {
    throw invalidPath('not_absolute', input, { style: 'windows' });
  }

  for (const segment of segments) {
    if (!isValidWindowsName(segment)) {
      throw invalidPath('bad_characters', input, { style: 'windows', segment: quoteValue(segment) });
    }
  }
  return `${drive.toUpperCase()}:\\${segments.join('\\')}`;
}

/** Splits on `/`, dropping empty and `.` segments; throws on a `..` segment. */
function splitSegments(path: string, input: string): string[] {
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      throw invalidPath('traversal', input);
    }
    segments.push(segment);
  }
  return segments;
}

function isDriveLetter(segment: string | undefined): boolean {
  return segment !== undefined && /^[A-Za-z]$/.test(segment);
}

/**
 * Windows strips trailing dots and spaces from names, so `proj.` and `proj`
 * would be one folder under two paths; such names are rejected.
 */
function isValidWindowsName(segment: string): boolean {
  if (WINDOWS_FORBIDDEN.test(segment)) return false;
  if (segment.endsWith('.') || segment.endsWith(' ')) return false;
  return !WINDOWS_DEVICE_NAME.test(segment);
}

/**
 * Tells whether `path` is `root` or lies below it, comparing whole path
 * components: `/home/dev/projects-secrets` is not within `/home/dev/projects`.
 * Both arguments must already be normalised in `style`. Windows paths compare
 * case-insensitively.
 */
export function isWithin(path: string, root: string, style: HostPathStyle = 'posix'): boolean {
  const separator = style === 'windows' ? '\\' : '/';
  // NOTE: toLowerCase only approximates the NTFS upcase table. A few letters
  // whose case mapping changes length (such as "İ") may compare differently.
  const left = style === 'windows' ? path.toLowerCase() : path;
  const right = style === 'windows' ? root.toLowerCase() : root;
  if (left === right) return true;
  const prefix = right.endsWith(separator) ? right : right + separator;
  return left.startsWith(prefix);
}

const PATH_REASON_TEXT: Record<string, string> = {
  missing: 'it is required and must not be empty',
  not_string: 'it must be a string',
  too_long: `it must be at most ${HOST_PATH_MAX_BYTES} bytes in UTF-8`,
  control_characters: 'it must not contain control characters or NUL',
  bad_characters: 'it contains characters that cannot be part of a file name',
  format_characters: 'it must not contain invisible or direction-changing characters such as U+202E or U+2028',
  not_absolute: 'it must be an absolute path',
  traversal: 'it must not contain a ".." segment',
  windows_path: 'it is a Windows path but the host is Linux; give the path as the Linux host sees it',
};

function invalidPath(reason: string, input: string | undefined, extra: Record<string, unknown> = {}): ValidationError {
  const value = input === undefined ? undefined : quoteValue(input);
  const quoted = value === undefined ? '' : ` "${value}"`;
  return new ValidationError('INVALID_LOCAL_PATH', `invalid local_path${quoted}: ${PATH_REASON_TEXT[reason] ?? reason}`, {
    details: { field: 'local_path', reason, ...(value === undefined ? {} : { value }), ...extra },
  });
}
