/**
 * Recreates a container with a new set of managed bind mounts through the
 * Engine API. The steps are here; undoing them is in rollback.ts, the errors
 * callers see are built in failures.ts, and crash repair is in repair.ts.
 *
 * Invariants:
 * 1. The replacement is created, with every mount it needs, before anything
 *    happens to the old container. A create error (a missing bind source
 *    among them) leaves the old container running and untouched.
 * 2. The old container is never removed before the replacement runs (and is
 *    healthy, where it has a healthcheck) for `minUptimeMs`. Until then it is
 *    parked: renamed to `<name>-mount-core-prev`, restart policy `no`, so an
 *    engine restart cannot start two copies.
 * 3. Any failure after parking restores the old container as it was: its
 *    name, its restart policy, and running when it was running.
 * 4. Each step is recorded in the journal before it runs, so that a crash at
 *    any point can be finished or undone by `repairRecreate`.
 * 5. The replacement runs the same image id as the old container, even when
 *    the tag has since moved to another image.
 * 6. A container that cannot be recreated safely is refused with
 *    RECREATE_REFUSED before the journal is written or anything changes. That
 *    is the caller's own container, one with AutoRemove, a paused one, a Swarm
 *    task, and one that other containers reference through a `container:`
 *    mode or VolumesFrom.
 */
import { RecreateError, type RecreateStep } from '../errors.js';
import type { ContainerInspect } from '../docker/types.js';
import type { MountSpec } from '../types.js';
import type { RecreateEngine } from './engine.js';
import { toRecreateFailure, toRemoveOldFailure } from './failures.js';
import type { JournalEntry, RecreateJournal, RestartPolicy } from './journal.js';
import { MemoryRecreateJournal } from './journal.js';
import { checkNoDependents, checkRecreatable } from './refusals.js';
import { ignoreMissing, rollBack } from './rollback.js';
import { buildReplacementSpec, managedMountsOf, sameMounts, type ManagedTargetTest } from './spec.js';
import { waitUntilRunning } from './wait.js';

export { missingBindSource } from './failures.js';

export const NEXT_SUFFIX = '-mount-core-next';
export const PREV_SUFFIX = '-mount-core-prev';

export interface RecreateOptions {
  engine: RecreateEngine;
  /** Name or id of the container to recreate. */
  container: string;
  /** The managed mounts the replacement must have; every other mount is carried over. */
  mounts: MountSpec[];
  isManaged: ManagedTargetTest;
  /** Id of this operation, recorded in the journal. */
  operationId: string;
  /** Id of the container the caller runs in, which it must never recreate. Default: none. */
  selfContainerId?: string;
  /** Seconds the old container gets to stop. Default: its own StopTimeout, else 10. */
  stopTimeoutSeconds?: number;
  /** How long the replacement may take to run, and become healthy where it has a healthcheck. Default: 60000. */
  startTimeoutMs?: number;
  /** How long the replacement must keep running before the old one is removed. Default: 1000. */
  minUptimeMs?: number;
  /** Interval between inspects while waiting. Default: 100. */
  pollIntervalMs?: number;
  /** Storage of the progress, for crash repair. Default: in memory only. */
  journal?: RecreateJournal;
  /** Called as each step starts; an exception thrown here fails the recreate at that step. Default: none. */
  onStep?: (step: RecreateStep, entry: JournalEntry) => void | Promise<void>;
  /** Clock in milliseconds. Default: `Date.now`. */
  now?: () => number;
}

export interface RecreateResult {
  name: string;
  oldId: string;
  newId: string;
  /** From the old container's stop request to the replacement running, in milliseconds. */
  downtimeMs: number;
  /** From the old container's stop request to the replacement running and healthy (equal to downtimeMs without a healthcheck), in milliseconds. */
  readyMs: number;
  durationMs: number;
  warnings: string[];
}

/** Picks the tag when it still names the old container's image id, else the id itself. */
async function imageReference(engine: RecreateEngine, old: ContainerInspect): Promise<string> {
  const tag = old.Config.Image;
  if (!tag || tag.startsWith('sha256:')) return old.Image;
  const image = await ignoreMissing(engine.imageInspect({ id: tag }));
  return image?.Id === old.Image ? tag : old.Image;
}

/** Recreates `options.container` with `options.mounts` as its managed mounts, following the invariants above. */
export async function recreateContainer(options: RecreateOptions): Promise<RecreateResult> {
  const { engine } = options;
  const now = options.now ?? Date.now;
  const journal = options.journal ?? new MemoryRecreateJournal();
  const startedAt = now();

  let step = 'inspect' as RecreateStep;
  const old = await engine.containerInspect({ id: options.container });
  const name = old.Name.replace(/^\//, '');
  const oldPolicy: RestartPolicy = { ...(old.HostConfig.RestartPolicy ?? { Name: 'no' }) };
  const entry: JournalEntry = {
    operation_id: options.operationId,
    name,
    old_id: old.Id,
    old_restart_policy: oldPolicy,
    old_running: old.State.Running,
    step,
  };
  const enter = async (next: RecreateStep): Promise<void> => {
    step = next;
    entry.step = next;
    await journal.write(entry);
    await options.onStep?.(next, { ...entry });
  };

  step = 'check' as RecreateStep;
  await options.onStep?.('check', { ...entry });
  checkRecreatable(old, options.selfContainerId);
  await checkNoDependents(engine, old);

  let parked = false;
  let policyParked = false;
  let stoppedOld = false;
  let stopRequestedAt = 0;
  try {
    await enter('create');
    const apiVersion = await engine.apiVersion();
    const image = await imageReference(engine, old);
    const spec = buildReplacementSpec(old, options.mounts, { isManaged: options.isManaged, apiVersion, image });
    await ignoreMissing(engine.containerRemove({ id: name + NEXT_SUFFIX, force: true }));
    const created = await engine.containerCreate({ name: name + NEXT_SUFFIX, body: spec.body });
    entry.new_id = created.Id;
    await journal.write(entry);

    // A host file would be mounted as a file where a workspace folder belongs: refuse it before anything stops.
    const added = options.mounts.filter((m) => !managedMountsOf(old, options.isManaged).some((a) => sameMounts([a], [m])));
    if (added.length > 0) {
      await enter('verify-sources');
      for (const mount of added) {
        const stat = await engine.containerArchiveStat({ id: created.Id, path: mount.container_path });
        if (!stat.isDirectory) {
          throw new RecreateError('BIND_SOURCE_NOT_DIRECTORY', 'verify-sources', true, `host path ${mount.local_path} is not a folder; ${name} was not recreated`, {
            details: { path: mount.local_path, container: name },
          });
        }
      }
    }

    if (spec.laterNetworks.length > 0) {
      await enter('connect-networks');
      for (const { network, endpointConfig } of spec.laterNetworks) {
        await engine.networkConnect({ network, container: created.Id, endpointConfig });
      }
    }

    await enter('park-old');
    await engine.containerRename({ id: old.Id, name: name + PREV_SUFFIX });
    parked = true;
    if (oldPolicy.Name && oldPolicy.Name !== 'no') {
      await engine.containerUpdate({ id: old.Id, body: { RestartPolicy: { Name: 'no', MaximumRetryCount: 0 } } });
      policyParked = true;
    }

    await enter('stop-old');
    stopRequestedAt = now();
    stoppedOld = old.State.Running;
    await engine.containerStop({ id: old.Id, timeoutSeconds: options.stopTimeoutSeconds ?? old.Config.StopTimeout ?? 10 });

    await enter('rename-new');
    await engine.containerRename({ id: created.Id, name });

    await enter('start-new');
    await engine.containerStart({ id: created.Id });

    await enter('wait-running');
    const { runningAt, readyAt } = await waitUntilRunning(engine, created.Id, {
      timeoutMs: options.startTimeoutMs ?? 60_000,
      minUptimeMs: options.minUptimeMs ?? 1000,
      pollIntervalMs: options.pollIntervalMs ?? 100,
      now,
    });

    await enter('remove-old');
    await engine.containerRemove({ id: old.Id, force: true, volumes: false });
    await journal.clear();
    return {
      name,
      oldId: old.Id,
      newId: created.Id,
      downtimeMs: runningAt - stopRequestedAt,
      readyMs: readyAt - stopRequestedAt,
      durationMs: now() - startedAt,
      warnings: created.Warnings ?? [],
    };
  } catch (error) {
    // The replacement runs; only the parked old container is left over, and repair removes it later.
    if (step === 'remove-old') throw toRemoveOldFailure(error, name, entry.new_id);
    let rollbackError: unknown;
    const restored = await rollBack(engine, entry, { parked, policyParked, stoppedOld }).then(
      () => true,
      (caught: unknown) => {
        rollbackError = caught;
        return false;
      },
    );
    // A failed rollback keeps the journal, so that repairRecreate can finish the job.
    if (restored) await journal.clear();
    throw toRecreateFailure(error, step, restored, name, rollbackError);
  }
}
