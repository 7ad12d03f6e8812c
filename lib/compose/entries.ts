/**
 * Classification of `volumes:` entries: which ones are managed workspace mounts,
 * which ones only sit on a workspace target, and how an entry compares to a MountSpec.
 */
import { posix } from 'node:path';
import type { MountSpec } from '../types.js';
import { managedTargetTest } from '../validation/index.js';
import { parseShortVolume } from './short-volume.js';
import type { ManagedEntry } from './types.js';

/** A `volumes:` entry, classified by the transform. */
export type VolumeEntry =
  /** A bind mount on `<root>/<user>/<workspace>`, owned by the transform. */
  | { kind: 'managed'; entry: ManagedEntry }
  /** A named, anonymous or tmpfs volume on a workspace target, which the transform never edits. */
  | { kind: 'occupied'; index: number; target: string }
  | { kind: 'other'; index: number };

/** Removes trailing slashes and resolves `.`, `..` and empty segments of an absolute POSIX path. */
export function normalizeTarget(target: string): string {
  if (!target.startsWith('/')) return target;
  const cleaned = posix.normalize(target);
  return cleaned.length > 1 && cleaned.endsWith('/') ? cleaned.slice(0, -1) : cleaned;
}

/** Returns `workspaceRoot` without trailing slashes, so `/` becomes the empty string. */
export function normalizeRoot(workspaceRoot: string): string {
  return workspaceRoot.replace(/\/+$/, '');
}

/**
 * Returns true when a normalised target is exactly two segments under `root` that are
 * valid user and workspace ids, by the same test request validation uses.
 */
export function isManagedTarget(target: string, root: string): boolean {
  return managedTargetTest(root === '' ? '/' : root)(target);
}

/** Classifies the entry at `index` of the service's volumes, given as a plain JS value. */
export function classifyVolume(value: unknown, index: number, root: string): VolumeEntry {
  if (typeof value === 'string') return classifyShort(value, index, root);
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    return classifyLong(value as Record<string, unknown>, index, root);
  }
  return { kind: 'other', index };
}

function classifyShort(text: string, index: number, root: string): VolumeEntry {
  const parsed = parseShortVolume(text);
  if (!parsed.ok) return { kind: 'other', index };

  const { volume } = parsed;
  const target = normalizeTarget(volume.target);
  if (!isManagedTarget(target, root)) return { kind: 'other', index };
  if (volume.type !== 'bind' || volume.source === undefined) return { kind: 'occupied', index, target };

  const entry: ManagedEntry = { index, source: volume.source, target, read_only: volume.read_only, syntax: 'short' };
  return { kind: 'managed', entry };
}

function classifyLong(fields: Record<string, unknown>, index: number, root: string): VolumeEntry {
  if (typeof fields.target !== 'string') return { kind: 'other', index };
  const target = normalizeTarget(fields.target);
  if (!isManagedTarget(target, root)) return { kind: 'other', index };
  if (fields.type !== 'bind') return { kind: 'occupied', index, target };

  const source = typeof fields.source === 'string' ? fields.source : '';
  const entry: ManagedEntry = { index, source, target, read_only: readBoolean(fields.read_only), syntax: 'long' };
  return { kind: 'managed', entry };
}

/** Reads a boolean the way Compose casts one: true, or the strings y, yes, true, on. */
function readBoolean(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value !== 'string') return false;
  return ['y', 'yes', 'true', 'on'].includes(value.toLowerCase());
}

/**
 * Returns the string Compose makes of `text` after interpolation, when that does not
 * depend on the environment: `$$` becomes `$`. Returns undefined when a lone `$` remains.
 */
export function composeLiteral(text: string): string | undefined {
  let literal = '';
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i];
    if (char !== '$') {
      literal += char;
    } else if (text[i + 1] === '$') {
      literal += '$';
      i += 1;
    } else {
      return undefined;
    }
  }
  return literal;
}

/** Escapes `$` as `$$`, so that Compose interpolation yields `path` unchanged. */
export function escapeComposeLiteral(path: string): string {
  return path.replaceAll('$', () => '$$');
}

/** Returns true when a managed entry already mounts `spec` exactly. Sources compare by code point. */
export function entryMatchesSpec(entry: ManagedEntry, spec: MountSpec): boolean {
  return (
    entry.target === spec.container_path &&
    entry.read_only === spec.read_only &&
    composeLiteral(entry.source) === spec.local_path
  );
}
