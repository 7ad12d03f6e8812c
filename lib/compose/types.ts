/** Options and results of the compose transform. */
import type { ComposeProblem } from '../errors.js';
import type { MountSpec } from '../types.js';

/** Service and workspace root that identify the managed entries. */
export interface ComposeTargetOptions {
  /** Name of the development service under `services:`. */
  service: string;
  /** Absolute path of the workspace root inside the container, for example `/workspace`. */
  workspaceRoot: string;
}

export interface ComposeSyncOptions extends ComposeTargetOptions {
  /** The managed mounts the service must have after the sync, and no others. */
  mounts: MountSpec[];
}

/**
 * A bind mount in the service's `volumes:` whose target is
 * `<workspaceRoot>/<user_id>/<workspace_id>`.
 */
export interface ManagedEntry {
  /** Position of the entry in the service's `volumes:` list, from 0. */
  index: number;
  /** Host path as written in the file, before Compose interpolation and `$$` unescaping. */
  source: string;
  /** Container path, normalised: no trailing slash, no `.` or empty segments. */
  target: string;
  read_only: boolean;
  syntax: 'short' | 'long';
}

export interface ComposeSyncResult {
  /** The edited file text; the same string as the input when `changed` is false. */
  text: string;
  changed: boolean;
  /** Mounts written as new entries, including replacements of entries whose spec differed. */
  added: MountSpec[];
  /** Entries taken out of the file, including replaced ones and removed duplicates. */
  removed: ManagedEntry[];
  /** Findings the caller should report, for example duplicate entries that were removed. */
  problems: ComposeProblem[];
}

/** `syncComposeFile` result: the sync result plus whether the file was written. */
export interface ComposeFileSyncResult extends ComposeSyncResult {
  wrote: boolean;
}
