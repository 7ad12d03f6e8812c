/**
 * Recreates a container with a new set of managed bind mounts through the
 * Engine API. The steps are here; undoing them is in rollback.ts, the errors
 * callers see are built in failures.ts, and crash repair is in repair.ts.
 *
 * Invariants:
 * 1. The replacement is created, with every mount it needs, before anything
 *    happens to the old container. A create error (a missing bind source
 *    among them) leaves the old container running and untouched. A new bind
 *    source that is a file, not a folder, is found before the old container
 *    stops, while it is parked, and undone as in 3.
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
import { EngineError, RecreateError, type RecreateStep } from '../errors.js';
import type { ContainerCreateBody, ContainerInspect } from '../docker/types.js';
import type { MountSpec } from '../types.js';
import type { RecreateEngine } from './engine.js';
import { toRecreateFailure, toRemoveOldFailure } from './failures.js';
import type { JournalEntry, RecreateJournal, RestartPolicy } from './journal.js';
import { MemoryRecreateJournal } from './journal.js';
import { checkNoDependents, checkRecreatable, type ContainerReferenceCache, type ContainerSummaryLike } from './refusals.js';
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
  /**
   * The caller's own inspect of `container`, taken just before this call,
   * which saves the recreate from inspecting it again. Default: none, so the
   * recreate inspects it.
   */
  inspected?: ContainerInspect;
  /** Remembers other containers' references between recreates, for the dependents check. Default: none. */
  references?: ContainerReferenceCache;
  /**
   * A list of all containers (`GET /containers/json?all=true`) that the
   * caller requested just before this call, for the dependents check.
   * Default: none, so the recreate lists them.
   */
  containers?: Promise<ContainerSummaryLike[]>;
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
  /**
   * Called once the replacement runs (and is ready), at the same time as the
   * old container is removed, for bookkeeping that needs the replacement to
   * run, such as recording the applied mounts. The recreate waits for it and
   * ignores its result, so it must handle its own errors. Default: none.
   */
  onReplacementRunning?: () => Promise<void>;
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

/** Creates the replacement; when a leftover of an interrupted recreate has its name, removes the leftover and creates again. */
async function createReplacement(engine: RecreateEngine, name: string, body: ContainerCreateBody): Promise<{ Id: string; Warnings?: string[] | null }> {
  try {
    return await engine.containerCreate({ name, body });
  } catch (error) {
    if (!(error instanceof EngineError && error.statusCode === 409)) throw error;
    await ignoreMissing(engine.containerRemove({ id: name, force: true }));
    return engine.containerCreate({ name, body });
  }
}

/** Resolves to the error `work` rejected with, or to undefined; it never rejects, so it can run beside other steps. */
export async function settle(work: Promise<unknown> | undefined): Promise<unknown> {
  try {
    await work;
    return undefined;
  } catch (error) {
    return error ?? new Error('rejected without a reason');
  }
}

/** Throws BIND_SOURCE_NOT_DIRECTORY when a new bind source shows as anything but a folder inside the created replacement. */
async function verifySources(engine: RecreateEngine, createdId: string, added: MountSpec[], name: string): Promise<void> {
  const stats = await Promise.all(added.map((mount) => engine.containerArchiveStat({ id: createdId, path: mount.container_path })));
  const notFolder = added.find((_, index) => !stats[index]!.isDirectory);
  if (notFolder) {
    throw new RecreateError('BIND_SOURCE_NOT_DIRECTORY', 'verify-sources', true, `host path ${notFolder.local_path} is not a folder; ${name} was not recreated`, {
      details: { path: notFolder.local_path, container: name },
    });
  }
}

/** Recreates `options.container` with `options.mounts` as its managed mounts, following the invariants above. */
export async function recreateContainer(options: RecreateOptions): Promise<RecreateResult> {
  const { engine } = options;
  const now = options.now ?? Date.now;
  const journal = options.journal ?? new MemoryRecreateJournal();
  const startedAt = now();

  let step = 'inspect' as RecreateStep;
  const old = options.inspected ?? (await engine.containerInspect({ id: options.container }));
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
  // Only reads run beside the dependents check, so a refusal still comes before any change.
  const [, apiVersion, image] = await Promise.all([
    checkNoDependents(engine, old, options.references, options.containers),
    engine.apiVersion(),
    imageReference(engine, old),
  ]);

  let parked = false;
  let policyParked = false;
  let stoppedOld = false;
  let stopRequestedAt = 0;
  try {
    await enter('create');
    const spec = buildReplacementSpec(old, options.mounts, { isManaged: options.isManaged, apiVersion, image });
    const created = await createReplacement(engine, name + NEXT_SUFFIX, spec.body);
    entry.new_id = created.Id;
    await journal.write(entry);

    // A host file would be mounted as a file where a workspace folder belongs: refuse it before anything stops.
    // The check runs while the old container is parked, which is undone like any later failure.
    const added = options.mounts.filter((m) => !managedMountsOf(old, options.isManaged).some((a) => sameMounts([a], [m])));
    let verified: Promise<unknown> = Promise.resolve();
    if (added.length > 0) {
      await enter('verify-sources');
      verified = settle(verifySources(engine, created.Id, added, name));
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
    const verifyError = await verified;
    if (verifyError !== undefined) {
      step = 'verify-sources';
      throw verifyError;
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
    const bookkeeping = settle(options.onReplacementRunning?.());
    try {
      await engine.containerRemove({ id: old.Id, force: true, volumes: false });
      await journal.clear();
    } finally {
      await bookkeeping;
    }
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
