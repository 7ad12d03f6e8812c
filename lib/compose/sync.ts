/** The compose transform: string in, string out, no I/O. */
import type { MountSpec } from '../types.js';
import { locateService, parseCompose } from './document.js';
import { buildEdits } from './edit.js';
import { classifyVolume } from './entries.js';
import { checkSyncOptions, checkTargetOptions } from './options.js';
import { isEmptyPlan, planSync } from './plan.js';
import { applyEdits, detectEol } from './text.js';
import type { ComposeSyncOptions, ComposeSyncResult, ComposeTargetOptions, ManagedEntry } from './types.js';
import { verifySync } from './verify.js';

/**
 * Edits the service's `volumes:` so that its managed entries are exactly
 * `options.mounts`, and returns the new text. Entries that already match stay as
 * written; changed ones are rewritten in place and new ones appended, in long syntax
 * with `create_host_path: false`. Every other byte of `source` is kept.
 *
 * Throws ValidationError INVALID_FIELD for unusable options. Throws ComposeError
 * COMPOSE_INVALID when the text does not parse, lacks the service, or its volumes
 * cannot be edited safely (see `buildEdits`), with the places in its problems.
 */
export function syncComposeMounts(source: string, options: ComposeSyncOptions): ComposeSyncResult {
  const checked = checkSyncOptions(options);
  const eol = detectEol(source);
  // Line edits assume a final line break. One added here is taken off again below.
  const text = source.endsWith('\n') ? source : source + eol;

  const doc = parseCompose(text);
  const location = locateService(doc, checked.service);
  const entries = location.entries.map((value, index) => classifyVolume(value, index, checked.root));
  const plan = planSync(entries, checked.mounts, location.volumesPath);
  if (isEmptyPlan(plan)) return { text: source, changed: false, added: [], removed: [], problems: plan.problems };

  const fieldOf = (spec: MountSpec): string => `mounts[${options.mounts.indexOf(spec)}]`;
  const edits = buildEdits({ text, eol, doc, location, fieldOf }, plan);
  let edited = applyEdits(text, edits);
  if (!source.endsWith('\n') && edited.endsWith(eol)) edited = edited.slice(0, -eol.length);
  verifySync(location, entries, edited, checked);

  const added = [...plan.replace.map((change) => change.spec), ...plan.add];
  const removed = [...plan.replace.map((change) => change.entry), ...plan.remove];
  return {
    text: edited,
    changed: edited !== source,
    added: added.sort((a, b) => (a.container_path < b.container_path ? -1 : 1)),
    removed: removed.sort((a, b) => a.index - b.index),
    problems: plan.problems,
  };
}

/**
 * Returns the managed entries of the service's effective volumes, in file order,
 * including entries reached through aliases and merge keys. Throws like
 * `syncComposeMounts` when the text or the service cannot be read.
 */
export function readManagedMounts(source: string, options: ComposeTargetOptions): ManagedEntry[] {
  const checked = checkTargetOptions(options);
  const location = locateService(parseCompose(source), checked.service);
  const managed: ManagedEntry[] = [];
  location.entries.forEach((value, index) => {
    const entry = classifyVolume(value, index, checked.root);
    if (entry.kind === 'managed') managed.push(entry.entry);
  });
  return managed;
}
