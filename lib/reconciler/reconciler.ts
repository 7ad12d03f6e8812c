/**
 * The reconciler turns the store (desired state) and the container's inspect
 * (actual state) into at most one running apply. A request while idle starts
 * an apply at once. Requests while one runs merge into exactly one follow-up,
 * so a burst of changes costs at most two recreates.
 */
import { channel } from 'node:diagnostics_channel';
import { hasCode, MountCoreError, RecreateError } from '../errors.js';
import type { Mount, MountFailure, MountSpec } from '../types.js';
import type { RecreateEngine } from '../recreate/engine.js';
import type { RecreateJournal } from '../recreate/journal.js';
import { recreateContainer, settle, type RecreateOptions } from '../recreate/recreate.js';
import { ContainerReferenceCache } from '../recreate/refusals.js';
import { managedMountsOf, sameMounts, type ManagedTargetTest } from '../recreate/spec.js';
import { newOperationId, OperationLog, type Operation, type OperationKind, type OperationResult } from './operations.js';

/** Diagnostics channel for operation starts, steps and ends. */
export const reconcilerChannel = channel('mount-core:reconciler');

export interface ApplyResultEntry {
  spec: Pick<Mount, 'user_id' | 'workspace_id' | 'local_path' | 'container_path' | 'read_only'>;
  state: 'applied' | 'failed';
  error?: MountFailure;
}

/** The store calls the reconciler makes; MountStore satisfies it. */
export interface ReconcilerStore {
  read(): Promise<{ revision: number; mounts: Mount[] }>;
  recordApplyResult(results: ApplyResultEntry[]): Promise<void>;
}

/** Writes the applied managed mounts into the compose file; returns nothing or throws. */
export type ComposeWriter = (mounts: MountSpec[]) => Promise<void>;

/**
 * Computes the compose file update for `mounts` ahead of time and returns a
 * function that writes it, so that the parse and edit run while the
 * container is stopped and started. Throws like ComposeWriter.
 */
export type ComposePreparer = (mounts: MountSpec[]) => Promise<() => Promise<void>>;

export interface ReconcilerOptions {
  store: ReconcilerStore;
  engine: RecreateEngine;
  /** Name of the development container. */
  container: string;
  isManaged: ManagedTargetTest;
  /** Updates the compose file after a successful apply. Default: none. */
  writeCompose?: ComposeWriter;
  /**
   * Prepares the same update while a recreate stops and starts the
   * container. When the apply ends with the prepared mounts, the prepared
   * result is written instead of calling writeCompose. A failed preparation
   * falls back to writeCompose. Default: none.
   */
  prepareCompose?: ComposePreparer;
  /** Checks a stored mount again before it is applied; a throw marks it failed. Default: none. */
  checkMount?: (mount: Mount) => void;
  journal?: RecreateJournal;
  /** Finishes or undoes an interrupted recreate; runs before the first apply and after a failed rollback. Default: none. */
  repair?: () => Promise<unknown>;
  selfContainerId?: string;
  /** Wait before an apply that starts from idle, to gather a burst. Default: 0. */
  applyDelayMs?: number;
  /**
   * Quiet time a follow-up apply waits for before it reads the store: it starts once no request has
   * arrived for this long, so a burst longer than one apply still costs two recreates. A lone change
   * starts at once. Default: 50.
   */
  followUpQuietMs?: number;
  /** Maximum time a follow-up waits for that quiet time, in milliseconds. Default: 2000. */
  followUpMaxWaitMs?: number;
  /** Recreate timings passed through. Default: those of recreateContainer. */
  recreate?: Pick<RecreateOptions, 'stopTimeoutSeconds' | 'startTimeoutMs' | 'minUptimeMs' | 'pollIntervalMs' | 'onStep'>;
  /** Delays before retrying an apply the Engine could not take. Default: 1, 2, 5, 10 then 30 s. */
  retryDelaysMs?: number[];
  now?: () => Date;
}

const toFailure = (error: unknown): MountFailure => {
  if (error instanceof MountCoreError) {
    const failure: MountFailure = { code: error.code, message: error.message };
    if (error instanceof RecreateError) failure.step = error.step;
    const details = Object.entries(error.details).filter(([, value]) => value !== undefined && typeof value !== 'object');
    if (details.length > 0) failure.details = Object.fromEntries(details);
    return failure;
  }
  return { code: 'INTERNAL_ERROR', message: error instanceof Error ? error.message : String(error) };
};

/**
 * True when the Engine could not be reached: directly, or as the cause of a
 * recreate that stopped part way. Such an apply keeps its mounts pending and
 * is retried with backoff; a repair runs first when the recreate left work.
 */
const engineUnreachable = (error: unknown): boolean => {
  const unreachable = (value: unknown) => hasCode(value, 'DOCKER_UNAVAILABLE') || hasCode(value, 'ENGINE_TIMEOUT');
  return unreachable(error) || (error instanceof RecreateError && unreachable(error.cause));
};

/** A compose update prepared during a recreate: the mounts it is for, and its write, or undefined when preparing failed. */
interface PreparedCompose {
  mounts: MountSpec[];
  write: Promise<(() => Promise<void>) | undefined>;
}

const specOf = (m: MountSpec): MountSpec => ({ local_path: m.local_path, container_path: m.container_path, read_only: m.read_only });
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class Reconciler {
  readonly operations = new OperationLog();
  private running: Operation | undefined;
  /** Store revision the running operation read; undefined until it has read the store. */
  private runningRevision: number | undefined;
  private queued: Operation | undefined;
  private knownRevision = -1;
  private retryIndex = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private lastRequestAt = 0;
  private repaired = false;
  /** Other containers' references, kept between applies so the dependents check inspects only new containers. */
  private readonly references = new ContainerReferenceCache();
  private readonly now: () => Date;

  constructor(private readonly options: ReconcilerOptions) {
    this.now = options.now ?? (() => new Date());
  }

  /** Starts an apply, or returns the follow-up that the running one will be followed by. */
  request(kind: OperationKind, revision?: number): Operation {
    this.lastRequestAt = Date.now();
    if (revision !== undefined) this.knownRevision = Math.max(this.knownRevision, revision);
    // The running operation covers a change it has read, or will read because it has not read the store yet.
    if (kind === 'apply' && this.running && (this.runningRevision === undefined || (revision !== undefined && this.runningRevision >= revision))) {
      return this.running;
    }
    if (this.queued) {
      if (kind === 'restart') this.queued.kind = 'restart';
      return this.queued;
    }
    const operation = this.operations.add({ id: newOperationId(), kind, state: 'queued', steps: [], created_at: this.now().toISOString() });
    if (this.running) this.queued = operation;
    else this.launch(operation);
    return operation;
  }

  /** Requests an apply when the store contains a revision this reconciler has not seen. */
  noticeRevision(revision: number): Operation | undefined {
    if (revision <= this.knownRevision) return undefined;
    return this.request('apply', revision);
  }

  operation(id: string): Operation | undefined {
    return this.operations.get(id);
  }

  settled(operation: Operation): Promise<Operation> {
    return this.operations.settled(operation);
  }

  /** Returns the running and the queued operation, for health and stats. */
  status(): { running?: Operation; queued?: Operation } {
    return { running: this.running, queued: this.queued };
  }

  /** True while an operation runs; the monitor's event follower ignores deaths then. */
  get busy(): boolean {
    return this.running !== undefined;
  }

  /**
   * Runs a pending retry now instead of after its backoff delay, for a caller
   * that learns that the Engine responds again. Returns the operation, or
   * undefined when no retry was pending.
   */
  retryNow(): Operation | undefined {
    if (this.stopped || !this.retryTimer) return undefined;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    return this.request('apply');
  }

  /** Stops retries; a running operation finishes on its own. */
  close(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
  }

  private launch(operation: Operation, followUp = false): void {
    this.running = operation;
    this.runningRevision = undefined;
    void this.run(operation, followUp).finally(() => {
      this.running = undefined;
      const next = this.queued;
      this.queued = undefined;
      if (next && !this.stopped) this.launch(next, true);
    });
  }

  /** Waits until no request has arrived for followUpQuietMs, or followUpMaxWaitMs has passed. */
  private async quietPeriod(): Promise<void> {
    const quietMs = this.options.followUpQuietMs ?? 50;
    const deadline = Date.now() + (this.options.followUpMaxWaitMs ?? 2000);
    for (;;) {
      const remaining = this.lastRequestAt + quietMs - Date.now();
      if (remaining <= 0 || Date.now() >= deadline) return;
      await sleep(Math.min(remaining, deadline - Date.now()));
    }
  }

  private async run(operation: Operation, followUp: boolean): Promise<void> {
    const startedMs = Date.now();
    operation.state = 'running';
    operation.started_at = this.now().toISOString();
    reconcilerChannel.publish({ event: 'operation-start', operation: { id: operation.id, kind: operation.kind } });
    try {
      if (this.options.applyDelayMs) await sleep(this.options.applyDelayMs);
      // Until this apply reads the store, new requests join it (see request()).
      if (followUp) await this.quietPeriod();
      operation.result = await this.apply(operation, startedMs);
      operation.state = 'succeeded';
      this.retryIndex = 0;
    } catch (error) {
      operation.state = 'failed';
      operation.error = toFailure(error);
      if (engineUnreachable(error)) this.scheduleRetry();
    } finally {
      operation.finished_at = this.now().toISOString();
      operation.duration_ms = Date.now() - startedMs;
      reconcilerChannel.publish({ event: 'operation-end', operation });
      this.operations.finish(operation);
    }
  }

  private scheduleRetry(): void {
    if (this.stopped || this.retryTimer) return;
    const delays = this.options.retryDelaysMs ?? [1000, 2000, 5000, 10_000, 30_000];
    const delay = delays[Math.min(this.retryIndex, delays.length - 1)] ?? 30_000;
    this.retryIndex += 1;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.stopped) this.request('apply');
    }, delay);
    this.retryTimer.unref();
  }

  private async apply(operation: Operation, startedMs: number): Promise<OperationResult> {
    const { store, engine, isManaged } = this.options;
    const mark = (step: string) => {
      operation.step = step;
      operation.steps.push({ step, at_ms: Date.now() - startedMs });
      reconcilerChannel.publish({ event: 'step', operation: { id: operation.id, kind: operation.kind }, step });
    };

    if (this.options.repair && !this.repaired) {
      mark('repair');
      await this.options.repair();
      this.repaired = true;
    }

    mark('read-store');
    const snapshot = await store.read();
    this.runningRevision = snapshot.revision;
    this.knownRevision = Math.max(this.knownRevision, snapshot.revision);
    const candidates: Mount[] = [];
    const rejected = new Map<Mount, MountFailure>();
    for (const mount of snapshot.mounts) {
      try {
        this.options.checkMount?.(mount);
        candidates.push(mount);
      } catch (error) {
        rejected.set(mount, toFailure(error));
      }
    }

    mark('inspect');
    // The dependents check of a recreate needs a list of all containers: request it beside the inspect.
    // A rejection is seen by the recreate that awaits it; without a recreate it is dropped.
    const containers = engine.containerList({ all: true });
    containers.catch(() => undefined);
    const current = await engine.containerInspect({ id: this.options.container });
    const actual = managedMountsOf(current, isManaged);
    const result: OperationResult = { recreated: false, restarted: false, mounts_applied: 0, mounts_failed: 0, warnings: [] };
    // Recording the result and writing the compose file; once started (while a recreate removes the old container), it is not run again.
    let finishing: Promise<unknown> | undefined;
    // The compose update prepared during the last recreate attempt, for the mounts it was prepared for.
    let prepared: PreparedCompose | undefined;
    const finish = () => (finishing ??= settle(this.finish(candidates, rejected, result, mark, prepared)));

    try {
      for (;;) {
        const desired = candidates.map(specOf);
        if (sameMounts(desired, actual)) {
          if (operation.kind === 'restart') {
            mark('restart');
            if (current.State.Running) {
              await engine.containerRestart({ id: current.Id, timeoutSeconds: this.options.recreate?.stopTimeoutSeconds ?? current.Config.StopTimeout ?? 10 });
            }
            else await engine.containerStart({ id: current.Id });
            result.restarted = true;
          }
          result.container_id = current.Id;
          break;
        }
        try {
          const recreated = await recreateContainer({
            ...this.options.recreate,
            engine,
            container: current.Id,
            inspected: current,
            references: this.references,
            containers,
            mounts: desired,
            isManaged,
            operationId: operation.id,
            selfContainerId: this.options.selfContainerId,
            journal: this.options.journal,
            onStep: async (step, entry) => {
              mark(step);
              if (step === 'stop-old' && this.options.prepareCompose) {
                prepared = { mounts: desired, write: this.options.prepareCompose(desired).catch(() => undefined) };
              }
              await this.options.recreate?.onStep?.(step, entry);
            },
            // The replacement runs with `desired`: record it while the old container is removed.
            onReplacementRunning: async () => {
              await finish();
            },
          });
          Object.assign(result, { recreated: true, container_id: recreated.newId, downtime_ms: recreated.downtimeMs, ready_ms: recreated.readyMs });
          result.warnings.push(...recreated.warnings);
          break;
        } catch (error) {
          // A missing host folder, or a file, fails before anything stops: drop those mounts and try the rest.
          const sourceError = error instanceof RecreateError && (error.code === 'BIND_SOURCE_MISSING' || error.code === 'BIND_SOURCE_NOT_DIRECTORY');
          const missing = sourceError ? String(error.details.path) : undefined;
          const dropped = missing === undefined ? [] : candidates.filter((m) => m.local_path === missing);
          if (dropped.length === 0) throw error;
          for (const mount of dropped) {
            rejected.set(mount, toFailure(error));
            candidates.splice(candidates.indexOf(mount), 1);
          }
        }
      }
    } catch (error) {
      // The old container was kept: mounts it already has stay applied, the others failed.
      // A recreate that could not restore or clean up leaves work for the repair before the next apply.
      if (error instanceof RecreateError && !error.restored) this.repaired = false;
      const failure = toFailure(error);
      // Past wait-running the replacement runs with the new mounts, and they are recorded as applied.
      if (finishing) {
        await finishing;
        throw error;
      }
      if (!engineUnreachable(error)) {
        const kept = (m: Mount) => actual.some((a) => sameMounts([specOf(m)], [a]));
        await store.recordApplyResult([
          ...candidates.map((m) => (kept(m) ? { spec: m, state: 'applied' as const } : { spec: m, state: 'failed' as const, error: failure })),
          ...[...rejected].map(([m, e]) => ({ spec: m, state: 'failed' as const, error: e })),
        ]);
      }
      throw error;
    }

    const finishError = await finish();
    if (finishError !== undefined) throw finishError;
    operation.step = undefined;
    return result;
  }

  /**
   * Records the mounts the container now has as applied and the rejected ones
   * as failed, and writes the compose file at the same time: both describe
   * the running container, so neither waits for the other.
   */
  private async finish(
    candidates: Mount[],
    rejected: Map<Mount, MountFailure>,
    result: OperationResult,
    mark: (step: string) => void,
    prepared: PreparedCompose | undefined,
  ): Promise<void> {
    mark('record');
    const recorded = this.options.store.recordApplyResult([
      ...candidates.map((m) => ({ spec: m, state: 'applied' as const })),
      ...[...rejected].map(([m, e]) => ({ spec: m, state: 'failed' as const, error: e })),
    ]);
    let composed: Promise<void> | undefined;
    const { writeCompose } = this.options;
    if (writeCompose) {
      mark('write-compose');
      const mounts = candidates.map(specOf);
      const write = async (): Promise<void> => {
        const preparedWrite = prepared && sameMounts(prepared.mounts, mounts) ? await prepared.write : undefined;
        await (preparedWrite ? preparedWrite() : writeCompose(mounts));
      };
      composed = write().catch((error: unknown) => {
        result.compose_error = toFailure(error);
      });
    }
    try {
      await recorded;
    } finally {
      await composed;
    }
    result.mounts_applied = candidates.length;
    result.mounts_failed = rejected.size;
  }

}
