/** Decision of which managed entries to keep, replace, remove or add. */
import type { ComposeProblem } from '../errors.js';
import type { MountSpec } from '../types.js';
import { entryMatchesSpec, type VolumeEntry } from './entries.js';
import { invalidCompose } from './problems.js';
import type { ManagedEntry } from './types.js';

export interface SyncPlan {
  /** Entries rewritten in place in the long syntax of `spec`, because their spec differs. */
  replace: { entry: ManagedEntry; spec: MountSpec }[];
  /** Entries deleted, in file order: mounts no longer requested and duplicates. */
  remove: ManagedEntry[];
  /** Mounts without an entry, in `container_path` order. */
  add: MountSpec[];
  /** One problem per duplicate entry removed. */
  problems: ComposeProblem[];
}

/** Returns true when the plan leaves the file as it is. */
export function isEmptyPlan(plan: SyncPlan): boolean {
  return plan.replace.length === 0 && plan.remove.length === 0 && plan.add.length === 0;
}

/**
 * Plans the edits that leave exactly one entry per mount. Of several entries for one
 * target, the first that already matches the mount is kept, else the first one; the
 * others are removed and reported. Throws ComposeError COMPOSE_INVALID when a named,
 * anonymous or tmpfs volume sits on the target of a wanted mount, because removing a
 * volume the user wrote is not the transform's call.
 */
export function planSync(entries: VolumeEntry[], mounts: MountSpec[], volumesPath: (string | number)[]): SyncPlan {
  const managed = new Map<string, ManagedEntry[]>();
  const occupied = new Map<string, number>();
  for (const entry of entries) {
    if (entry.kind === 'managed') {
      const list = managed.get(entry.entry.target) ?? [];
      list.push(entry.entry);
      managed.set(entry.entry.target, list);
    } else if (entry.kind === 'occupied' && !occupied.has(entry.target)) {
      occupied.set(entry.target, entry.index);
    }
  }

  const conflicts: ComposeProblem[] = [];
  for (const mount of mounts) {
    const index = occupied.get(mount.container_path);
    if (index === undefined) continue;
    conflicts.push({
      path: [...volumesPath, index],
      message: `a volume that is not a bind mount is mounted at ${mount.container_path}, where ${mount.local_path} must go. Remove or move that entry`,
    });
  }
  if (conflicts.length > 0) throw invalidCompose('a workspace target is taken by a volume that is not a bind mount', conflicts);

  const requested = new Map(mounts.map((mount) => [mount.container_path, mount]));
  const plan: SyncPlan = { replace: [], remove: [], add: [], problems: [] };

  for (const [target, list] of managed) {
    const spec = requested.get(target);
    const primary = (spec && list.find((entry) => entryMatchesSpec(entry, spec))) ?? list[0];
    if (primary === undefined) continue;

    for (const duplicate of list) {
      if (duplicate === primary) continue;
      plan.remove.push(duplicate);
      const message =
        spec === undefined
          ? `duplicate entry for ${target} was removed together with entry ${primary.index}, because no mount targets it any more`
          : `duplicate entry for ${target} was removed, because entry ${primary.index} is kept for this target`;
      plan.problems.push({ path: [...volumesPath, duplicate.index], message });
    }

    if (spec === undefined) plan.remove.push(primary);
    else if (!entryMatchesSpec(primary, spec)) plan.replace.push({ entry: primary, spec });
  }

  plan.add = mounts.filter((mount) => !managed.has(mount.container_path));
  plan.remove.sort((a, b) => a.index - b.index);
  plan.problems.sort((a, b) => Number(a.path.at(-1)) - Number(b.path.at(-1)));
  return plan;
}
