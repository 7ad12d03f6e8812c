/** Containers a recreate must not touch, checked before any change. */
import { EngineError, RecreateRefusedError } from '../errors.js';
import type { ContainerInspect } from '../docker/types.js';
import type { RecreateEngine } from './engine.js';

/** The fields of a container list entry that the dependents check reads. */
export type ContainerSummaryLike = { Id: string; Names?: string[] };

/** How many containers are inspected at once while looking for dependents. */
const INSPECT_BATCH = 8;

function refusal(container: ContainerInspect, reason: string, message: string, details: Record<string, unknown> = {}): RecreateRefusedError {
  const name = container.Name.replace(/^\//, '');
  return new RecreateRefusedError(`refusing to recreate ${name}: ${message}`, { details: { container: name, reason, ...details } });
}

/** Throws RECREATE_REFUSED when recreating `container` could not be done safely. */
export function checkRecreatable(container: ContainerInspect, selfContainerId: string | undefined): void {
  if (selfContainerId && (container.Id === selfContainerId || container.Id.startsWith(selfContainerId))) {
    throw refusal(container, 'self', 'it is the container this monitor runs in, and stopping it would stop the recreate halfway');
  }
  if (container.HostConfig.AutoRemove) {
    throw refusal(container, 'auto_remove', 'it has AutoRemove set, so stopping it would delete it before the replacement runs');
  }
  if (container.State.Paused) {
    throw refusal(container, 'paused', 'it is paused; unpause it first');
  }
  if (container.Config.Labels?.['com.docker.swarm.task.id']) {
    throw refusal(container, 'swarm_task', 'it is a Swarm task; Swarm would replace it on its own');
  }
}

/**
 * Returns the container references in `other`'s HostConfig that point to
 * another container: `container:<ref>` network, IPC and PID modes, and
 * `VolumesFrom` entries (`<ref>[:ro|:rw]`).
 */
function containerReferences(other: ContainerInspect): string[] {
  const host = other.HostConfig;
  const modes = [host.NetworkMode, host.IpcMode, host.PidMode]
    .filter((mode): mode is string => typeof mode === 'string' && mode.startsWith('container:'))
    .map((mode) => mode.slice('container:'.length));
  const volumesFrom = (host.VolumesFrom ?? []).map((entry) => entry.replace(/:(ro|rw)$/, ''));
  return [...modes, ...volumesFrom].map((ref) => ref.replace(/^\//, ''));
}

/** Inspects a container, or returns undefined when it was removed after the list was taken. */
async function inspectIfPresent(engine: RecreateEngine, id: string): Promise<ContainerInspect | undefined> {
  try {
    return await engine.containerInspect({ id });
  } catch (error) {
    if (error instanceof EngineError && error.isNotFound) return undefined;
    throw error;
  }
}

interface KnownReferences {
  name: string;
  references: string[];
}

/**
 * Remembers the container references of each container by id, so that a
 * later dependents check inspects only containers it has not seen. The
 * references cannot change: the Engine fixes the network, IPC and PID modes
 * and VolumesFrom at create time, and ids are never reused. Entries of
 * containers that are gone are dropped at each check.
 */
export class ContainerReferenceCache {
  readonly #known = new Map<string, KnownReferences>();

  get size(): number {
    return this.#known.size;
  }

  /** Returns the names and references of the containers `ids`, inspecting the unknown ones 8 at a time. */
  async lookup(engine: RecreateEngine, ids: string[]): Promise<KnownReferences[]> {
    const present = new Set(ids);
    for (const id of this.#known.keys()) {
      if (!present.has(id)) this.#known.delete(id);
    }
    const unknown = ids.filter((id) => !this.#known.has(id));
    for (let start = 0; start < unknown.length; start += INSPECT_BATCH) {
      const batch = unknown.slice(start, start + INSPECT_BATCH);
      const inspects = await Promise.all(batch.map((id) => inspectIfPresent(engine, id)));
      for (const other of inspects) {
        if (other) this.#known.set(other.Id, { name: other.Name.replace(/^\//, ''), references: containerReferences(other) });
      }
    }
    return ids.flatMap((id) => this.#known.get(id) ?? []);
  }
}

/**
 * Lists the names of other containers, running or not, that share the
 * namespaces or volumes of `target` through a `container:` mode or
 * VolumesFrom. They keep pointing at the old container's id, so removing it
 * would break them. A reference is the full id, the name, or an id prefix
 * that is not also another container's name, as the Engine resolves it.
 * With `cache`, containers seen by an earlier check are not inspected again.
 * `listed` is a list of all containers that the caller requested already.
 */
export async function findDependents(
  engine: RecreateEngine,
  target: ContainerInspect,
  cache = new ContainerReferenceCache(),
  listed?: Promise<ContainerSummaryLike[]>,
): Promise<string[]> {
  const targetName = target.Name.replace(/^\//, '');
  const all = await (listed ?? engine.containerList({ all: true }));
  const names = new Set(all.flatMap((summary) => (summary.Names ?? []).map((name) => name.replace(/^\//, ''))));
  const refersToTarget = (ref: string): boolean =>
    ref === target.Id || ref === targetName || (/^[0-9a-f]+$/.test(ref) && target.Id.startsWith(ref) && !names.has(ref));

  const others = await cache.lookup(engine, all.filter((summary) => summary.Id !== target.Id).map((summary) => summary.Id));
  return others.filter((other) => other.references.some(refersToTarget)).map((other) => other.name).sort();
}

/** Throws RECREATE_REFUSED with `details.dependents` when other containers depend on `target`. */
export async function checkNoDependents(
  engine: RecreateEngine,
  target: ContainerInspect,
  cache?: ContainerReferenceCache,
  listed?: Promise<ContainerSummaryLike[]>,
): Promise<void> {
  const dependents = await findDependents(engine, target, cache, listed);
  if (dependents.length > 0) {
    throw refusal(target, 'dependents', `${dependents.join(', ')} share its namespaces or volumes and would be left pointing at the removed container; remove or recreate them without the reference first`, {
      dependents,
    });
  }
}
