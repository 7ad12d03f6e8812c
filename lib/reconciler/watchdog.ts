/**
 * ContainerWatchdog: follows the Engine's events for the development container
 * and starts the container again when it dies on its own. It reports on the
 * diagnostics channel `mount-core:watchdog` (see WatchdogMessage) and never
 * logs. The file is longer than most because the event rules, the restart
 * decision and the stream reconnect share the state below.
 *
 * Rules:
 * 1. Only events whose `name` attribute equals the container's name count.
 *    The Engine's `container` filter also matches names that start with the
 *    given one, so the recreate's `<name>-mount-core-next` and
 *    `<name>-mount-core-prev` containers pass the filter and are dropped here.
 * 2. A death is intentional, and never undone, when a `kill` or `stop` event
 *    for the same container came at most `intentWindowMs` before its `die`, or
 *    when one arrives before the restart is due. `docker stop`, `docker kill`,
 *    `docker restart` and `docker rm -f` all send `kill` before `die`; Engine
 *    20.10 sends `stop` after `die`, 26.1 before it. A process that exits by
 *    itself or is killed by the kernel produces a `die` alone.
 * 3. A restart waits for its backoff delay and for a running apply to finish,
 *    then inspects the container by name. It starts the container only when
 *    that name still has the id that died and the container neither runs nor
 *    restarts, so a recreate, the Engine's own restart policy and an
 *    operator's start all win. A removed container is never created again.
 * 4. At most `maxRestarts` restarts within any `windowMs` (RestartBudget). The
 *    death after that makes the watchdog give up until someone else starts
 *    the container.
 * 5. A dropped events stream is opened again with backoff and `since` set to
 *    the last event's time, so deaths during the gap are replayed. Events
 *    received already, and older ones, are skipped.
 */
import { randomBytes } from 'node:crypto';
import { channel } from 'node:diagnostics_channel';
import type { ContainerInspect, DockerEvent } from '../docker/types.js';
import { hasCode, MountCoreError } from '../errors.js';
import { RestartBudget } from './restart-budget.js';
import { resolveWatchdogOptions, type ContainerWatchdogOptions, type ResolvedWatchdogOptions } from './watchdog-options.js';

export type { ContainerWatchdogOptions, WatchdogEngine, WatchdogTimers } from './watchdog-options.js';

export const WATCHDOG_CHANNEL_NAME = 'mount-core:watchdog';
const watchdogChannel = channel(WATCHDOG_CHANNEL_NAME);

/** An error as the watchdog reports it. */
export interface WatchdogFailure {
  code: string;
  message: string;
}

/** Reason a scheduled restart was skipped. */
export type RestartSkipReason = 'stopped' | 'started' | 'removed' | 'replaced' | 'running';

/**
 * Messages on `mount-core:watchdog`. `restart` is published once per restart
 * attempt and `restart-end` with the same `restart_id` when it has finished.
 */
export type WatchdogMessage =
  | { event: 'stream-open'; container: string; since: number | null; reconnect: boolean }
  | { event: 'stream-closed'; container: string; error: WatchdogFailure | null; retry_in_ms: number; attempt: number }
  | {
      event: 'death';
      container: string;
      container_id: string;
      exit_code: number | null;
      reason: string;
      decision: 'restart' | 'intentional' | 'gave-up';
      delay_ms?: number;
    }
  | { event: 'restart'; restart_id: string; container: string; container_id: string; attempt: number; reason: string }
  | { event: 'restart-end'; restart_id: string; container: string; container_id: string; ok: boolean; duration_ms: number; error?: WatchdogFailure }
  | { event: 'restart-skipped'; container: string; container_id: string; reason: RestartSkipReason }
  | { event: 'gave-up'; container: string; container_id: string; restarts: number; window_ms: number; reason: string }
  | { event: 'resumed'; container: string; container_id: string }
  | { event: 'removed'; container: string; container_id: string };

/** The watchdog's counters, for a stats route. Times are ISO 8601. */
export interface WatchdogStats {
  container: string;
  /** True while the events stream is open. */
  following: boolean;
  /** Restart attempts since the watchdog started, failed ones included. */
  restarts: number;
  restart_failures: number;
  restarts_in_window: number;
  max_restarts: number;
  window_ms: number;
  last_reason: string | null;
  last_restart_at: string | null;
  /** True after the cap was reached, until someone else starts the container. */
  gave_up: boolean;
  gave_up_at: string | null;
  /** Times the events stream was opened again after it dropped. */
  stream_reconnects: number;
}

interface PendingRestart {
  id: string;
  reason: string;
  timer: unknown;
  /** True when the last check could not reach the Engine; a reopened stream brings the check forward. */
  waitingForEngine: boolean;
}

export class ContainerWatchdog {
  readonly #options: ResolvedWatchdogOptions;
  readonly #budget: RestartBudget;
  readonly #controller = new AbortController();
  #loop: Promise<void> | undefined;
  #closed = false;
  #pending: PendingRestart | undefined;
  /** Per container id: time of its last `kill` or `stop` event, in milliseconds. */
  readonly #intents = new Map<string, number>();
  /** Container ids whose last event was `oom`. */
  readonly #outOfMemory = new Set<string>();
  /**
   * Time of the last event received, in nanoseconds; before the first event,
   * the time the stream first opened. A reopened stream replays from its
   * second and skips what is older.
   */
  #lastEventNano: number | undefined;
  /** Keys of the events received at `#lastEventNano`, which a replay sends again. */
  #seenAtLast = new Set<string>();
  #following = false;
  #wake: (() => void) | undefined;
  #gaveUpAt: number | undefined;
  #restarts = 0;
  #failures = 0;
  #reconnects = 0;
  #lastReason: string | undefined;
  #lastRestartAt: number | undefined;

  /** Checks every option before any I/O; throws ConfigError naming the first invalid one. */
  constructor(options: ContainerWatchdogOptions) {
    this.#options = resolveWatchdogOptions(options);
    this.#budget = new RestartBudget(this.#options);
  }

  /** Starts following events; calling it again does nothing. */
  start(): void {
    if (this.#loop === undefined && !this.#closed) this.#loop = this.#follow();
  }

  /** Stops following, cancels a scheduled restart, and resolves once the stream is closed. A start call in flight still finishes. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#controller.abort();
    this.#cancelTimer();
    this.#pending = undefined;
    this.#wake?.();
    await this.#loop;
  }

  /** Returns the restart counters and the stream state, for a stats route. */
  stats(): WatchdogStats {
    const now = this.#options.now();
    const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
    return {
      container: this.#options.container,
      following: this.#following,
      restarts: this.#restarts,
      restart_failures: this.#failures,
      restarts_in_window: this.#budget.used(now),
      max_restarts: this.#options.maxRestarts,
      window_ms: this.#options.windowMs,
      last_reason: this.#lastReason ?? null,
      last_restart_at: iso(this.#lastRestartAt),
      gave_up: this.#gaveUpAt !== undefined,
      gave_up_at: iso(this.#gaveUpAt),
      stream_reconnects: this.#reconnects,
    };
  }

  async #follow(): Promise<void> {
    const { engine, container, reconnectDelaysMs } = this.#options;
    let attempt = 0;
    let opened = false;
    while (!this.#closed) {
      let failure: unknown;
      try {
        // The events request gives no sign of life until the first event, so a ping first checks that the Engine responds.
        await engine.ping();
        if (this.#closed) break;
        // NOTE: before the first event the replay point comes from this process's clock, which
        // matches the daemon's on one host but may not for a remote DOCKER_HOST.
        this.#lastEventNano ??= this.#options.now() * 1e6;
        const since = opened ? Math.floor(this.#lastEventNano / 1e9) : undefined;
        this.#following = true;
        if (opened) this.#reconnects += 1;
        this.#publish({ event: 'stream-open', container, since: since ?? null, reconnect: opened });
        opened = true;
        attempt = 0;
        if (this.#pending?.waitingForEngine) {
          this.#pending.waitingForEngine = false;
          this.#schedule(this.#pending, this.#options.initialDelayMs);
        }
        if (since !== undefined) this.#options.onReconnect();
        const filters = { type: ['container'], container: [container] };
        for await (const event of engine.events({ since, filters, signal: this.#controller.signal })) {
          this.#receive(event, since !== undefined);
        }
      } catch (error) {
        failure = error;
      }
      this.#following = false;
      if (this.#closed) break;
      const delay = reconnectDelaysMs[Math.min(attempt, reconnectDelaysMs.length - 1)]!;
      attempt += 1;
      this.#publish({ event: 'stream-closed', container, error: failure === undefined ? null : toFailure(failure), retry_in_ms: delay, attempt });
      await this.#sleep(delay);
    }
  }

  /**
   * Acts on the container's own events. A reopened stream (`replay`) sends
   * again the events of the second it starts at, including ones from before
   * this watchdog followed the container: those older than the last event
   * received, or received already, are skipped.
   */
  #receive(event: DockerEvent, replay: boolean): void {
    const nano = typeof event.timeNano === 'number' ? event.timeNano : event.time * 1e9;
    const key = `${event.timeNano}:${event.Action}:${event.Actor?.ID}`;
    if (replay && this.#lastEventNano !== undefined) {
      if (nano < this.#lastEventNano) return;
      if (nano === this.#lastEventNano && this.#seenAtLast.has(key)) return;
    }
    if (nano !== this.#lastEventNano) {
      this.#lastEventNano = nano;
      this.#seenAtLast = new Set();
    }
    this.#seenAtLast.add(key);

    if (event.Type !== 'container' || event.Actor?.Attributes?.name !== this.#options.container) return;
    const id = event.Actor.ID;
    const at = nano / 1e6;
    switch (event.Action) {
      case 'kill':
      case 'stop':
        this.#intents.set(id, at);
        this.#skipPending(id, 'stopped');
        return;
      case 'oom':
        this.#outOfMemory.add(id);
        return;
      case 'die':
        this.#onDeath(id, event.Actor.Attributes.exitCode, at);
        return;
      case 'start':
        this.#skipPending(id, 'started');
        if (this.#gaveUpAt !== undefined) {
          // Nothing here starts the container after giving up, so this start is someone else's.
          this.#gaveUpAt = undefined;
          this.#budget.clear();
          this.#publish({ event: 'resumed', container: this.#options.container, container_id: id });
        }
        return;
      case 'destroy':
        this.#intents.delete(id);
        this.#outOfMemory.delete(id);
        this.#skipPending(id, 'removed');
        this.#publish({ event: 'removed', container: this.#options.container, container_id: id });
        return;
      default:
        return;
    }
  }

  #onDeath(id: string, exitCodeText: string | undefined, at: number): void {
    const { container, intentWindowMs } = this.#options;
    const exitCode = exitCodeText === undefined || exitCodeText === '' ? null : Number(exitCodeText);
    const reason = this.#outOfMemory.delete(id) ? `killed for lack of memory (exit code ${exitCode})` : `exited with code ${exitCode}`;
    const intentAt = this.#intents.get(id);
    this.#intents.delete(id);
    const death = { event: 'death', container, container_id: id, exit_code: exitCode, reason } as const;

    if (intentAt !== undefined && at - intentAt <= intentWindowMs) {
      this.#publish({ ...death, decision: 'intentional' });
      return;
    }
    if (this.#gaveUpAt !== undefined) {
      this.#publish({ ...death, decision: 'gave-up' });
      return;
    }
    const now = this.#options.now();
    if (this.#budget.exhausted(now)) {
      this.#publish({ ...death, decision: 'gave-up' });
      this.#giveUp(id, reason);
      return;
    }
    const delay = this.#budget.nextDelay(now);
    this.#publish({ ...death, decision: 'restart', delay_ms: delay });
    this.#schedule({ id, reason, timer: undefined, waitingForEngine: false }, delay);
  }

  /** Makes `pending` the scheduled restart, due after `delay` milliseconds. */
  #schedule(pending: PendingRestart, delay: number): void {
    this.#cancelTimer();
    this.#pending = pending;
    pending.timer = this.#options.timers.setTimeout(() => void this.#due(pending), delay);
  }

  async #due(pending: PendingRestart): Promise<void> {
    if (this.#pending !== pending || this.#closed) return;
    if (this.#options.isBusy()) {
      this.#schedule(pending, this.#options.busyPollMs);
      return;
    }
    pending.timer = undefined;
    let current: ContainerInspect;
    try {
      current = await this.#options.engine.containerInspect({ id: this.#options.container });
    } catch (error) {
      if (this.#pending !== pending) return;
      if (hasCode(error, 'CONTAINER_NOT_FOUND')) this.#skipPending(pending.id, 'removed');
      else this.#waitForEngine(pending);
      return;
    }
    // An event that arrived during the inspect may have cancelled this restart, or an apply may have begun.
    if (this.#pending !== pending || this.#closed) return;
    if (this.#options.isBusy()) {
      this.#schedule(pending, this.#options.busyPollMs);
      return;
    }
    if (current.Id !== pending.id) return this.#skipPending(pending.id, 'replaced');
    if (current.State.Running || current.State.Restarting) return this.#skipPending(pending.id, 'running');
    this.#pending = undefined;
    await this.#restart(pending);
  }

  async #restart(pending: PendingRestart): Promise<void> {
    const { engine, container } = this.#options;
    const startedAt = this.#options.now();
    this.#budget.record(startedAt);
    this.#restarts += 1;
    this.#lastReason = pending.reason;
    this.#lastRestartAt = startedAt;
    const restartId = `rs_${randomBytes(6).toString('hex')}`;
    const ids = { restart_id: restartId, container, container_id: pending.id };
    this.#publish({ event: 'restart', ...ids, attempt: this.#budget.used(startedAt), reason: pending.reason });
    try {
      await engine.containerStart({ id: pending.id });
      this.#publish({ event: 'restart-end', ...ids, ok: true, duration_ms: this.#options.now() - startedAt });
      return;
    } catch (error) {
      this.#failures += 1;
      this.#publish({ event: 'restart-end', ...ids, ok: false, duration_ms: this.#options.now() - startedAt, error: toFailure(error) });
      if (this.#closed || hasCode(error, 'CONTAINER_NOT_FOUND') || this.#pending !== undefined) return;
      if (isUnreachable(error)) return this.#waitForEngine(pending);
      // A container that failed to start stays down without a new event, so the failure counts as another death.
      const now = this.#options.now();
      if (this.#gaveUpAt !== undefined) return;
      if (this.#budget.exhausted(now)) return this.#giveUp(pending.id, `start failed: ${toFailure(error).message}`);
      this.#schedule({ ...pending, timer: undefined }, this.#budget.nextDelay(now));
    }
  }

  /** Checks again after `maxDelayMs`, or sooner once the events stream opens again. */
  #waitForEngine(pending: PendingRestart): void {
    pending.waitingForEngine = true;
    this.#schedule(pending, this.#options.maxDelayMs);
  }

  #giveUp(id: string, reason: string): void {
    const now = this.#options.now();
    this.#gaveUpAt = now;
    const { container, windowMs } = this.#options;
    this.#publish({ event: 'gave-up', container, container_id: id, restarts: this.#budget.used(now), window_ms: windowMs, reason });
  }

  /** Cancels the scheduled restart of container `id`, if there is one, and reports why. */
  #skipPending(id: string, reason: RestartSkipReason): void {
    if (this.#pending?.id !== id) return;
    this.#cancelTimer();
    this.#pending = undefined;
    this.#publish({ event: 'restart-skipped', container: this.#options.container, container_id: id, reason });
  }

  #cancelTimer(): void {
    if (this.#pending?.timer !== undefined) this.#options.timers.clearTimeout(this.#pending.timer);
    if (this.#pending) this.#pending.timer = undefined;
  }

  /** Waits `ms`, or less when close() is called. */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.#options.timers.setTimeout(() => {
        this.#wake = undefined;
        resolve();
      }, ms);
      this.#wake = () => {
        this.#options.timers.clearTimeout(timer);
        resolve();
      };
    });
  }

  #publish(message: WatchdogMessage): void {
    if (watchdogChannel.hasSubscribers) watchdogChannel.publish(message);
  }
}

function isUnreachable(error: unknown): boolean {
  return hasCode(error, 'DOCKER_UNAVAILABLE') || hasCode(error, 'ENGINE_TIMEOUT');
}

function toFailure(error: unknown): WatchdogFailure {
  if (error instanceof MountCoreError) return { code: error.code, message: error.message };
  return { code: 'INTERNAL_ERROR', message: error instanceof Error ? error.message : String(error) };
}
