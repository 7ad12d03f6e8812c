/**
 * Decoding of the `X-Docker-Container-Path-Stat` header that
 * `HEAD /containers/{id}/archive?path=…` returns: base64 of a JSON object
 * whose `mode` is a Go `os.FileMode`.
 */
import { MountCoreError } from '../errors.js';

/** A path inside a container, as the daemon stats it. */
export interface ContainerPathStat {
  /** Base name of the path. */
  name: string;
  /** Size in bytes. */
  size: number;
  /** Go `os.FileMode`: permission bits plus type bits such as ModeDir (1 << 31). */
  mode: number;
  /** RFC 3339 modification time. */
  mtime: string;
  /** Target of a symbolic link, resolved inside the container; empty otherwise. */
  linkTarget: string;
  isDirectory: boolean;
  isSymbolicLink: boolean;
}

export const PATH_STAT_HEADER = 'x-docker-container-path-stat';

/** Go's os.ModeDir and os.ModeSymlink. Above 2^31, so tested with division, not `&`, which works on int32. */
const MODE_DIR = 2 ** 31;
const MODE_SYMLINK = 2 ** 27;

/** Decodes the header value; throws ENGINE_ERROR when it is missing or malformed. */
export function decodePathStat(header: string | string[] | undefined, context: { method: string; path: string }): ContainerPathStat {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value === '') {
    throw malformed(context, 'the X-Docker-Container-Path-Stat header is missing');
  }

  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(value, 'base64').toString('utf8'));
  } catch (error) {
    throw malformed(context, 'the X-Docker-Container-Path-Stat header is not base64 JSON', error);
  }
  if (typeof raw !== 'object' || raw === null) {
    throw malformed(context, 'the X-Docker-Container-Path-Stat header is not a JSON object');
  }

  const fields = raw as Record<string, unknown>;
  const mode = fields.mode;
  if (typeof mode !== 'number' || !Number.isSafeInteger(mode) || mode < 0) {
    throw malformed(context, 'the X-Docker-Container-Path-Stat header has no valid mode');
  }
  return {
    name: typeof fields.name === 'string' ? fields.name : '',
    size: typeof fields.size === 'number' ? fields.size : 0,
    mode,
    mtime: typeof fields.mtime === 'string' ? fields.mtime : '',
    linkTarget: typeof fields.linkTarget === 'string' ? fields.linkTarget : '',
    isDirectory: hasModeBit(mode, MODE_DIR),
    isSymbolicLink: hasModeBit(mode, MODE_SYMLINK),
  };
}

function hasModeBit(mode: number, bit: number): boolean {
  return Math.floor(mode / bit) % 2 === 1;
}

function malformed(context: { method: string; path: string }, reason: string, cause?: unknown): MountCoreError {
  return new MountCoreError('ENGINE_ERROR', 502, `Docker Engine returned a malformed path stat for ${context.method} ${context.path}: ${reason}`, {
    details: { method: context.method, path: context.path, daemon_message: reason },
    cause,
  });
}
