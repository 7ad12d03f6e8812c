/**
 * Options of the container watchdog: the Engine calls it needs, its timings,
 * and the checks that run before any I/O.
 */
import type { EventsOptions } from '../docker/events.js';
import type { ContainerInspect, DockerEvent } from '../docker/types.js';
import { ConfigError } from '../errors.js';

/** The Engine calls the watchdog makes; DockerClient satisfies it. */
export interface WatchdogEngine {
  ping(): Promise<unknown>;
  events(options: EventsOptions): AsyncIterable<DockerEvent>;
  containerInspect(options: { id: string }): Promise<ContainerInspect>;
  containerStart(options: { id: string }): Promise<unknown>;
}

/** Timer functions, replaceable in tests. */
export interface WatchdogTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Options of ContainerWatchdog; `engine` and `container` are required. */
export interface ContainerWatchdogOptions {
  /** Engine client, such as a DockerClient. Required. */
  engine: WatchdogEngine;
  /** Name of the development container. Required. */
  container: string;
  /** True while an apply or restart runs; a due restart waits until it is false. Default: never busy. */
  isBusy?: () => boolean;
  /** Restarts allowed within `windowMs` before the watchdog gives up. Default: 5. */
  maxRestarts?: number;
  /** Length of the sliding window that `maxRestarts` applies to, in milliseconds. Default: 600000. */
  windowMs?: number;
  /** Delay before the first restart in a window, in milliseconds; it doubles with each restart in the window. Default: 1000. */
  initialDelayMs?: number;
  /** Maximum delay before a restart, in milliseconds. Default: 30000. */
  maxDelayMs?: number;
  /** How long a `kill` or `stop` event marks the next `die` of that container as intentional, in milliseconds. Default: 30000. */
  intentWindowMs?: number;
  /** Delays before opening a dropped events stream again, in milliseconds; the last one repeats. Default: 500, 1000, 2000, 5000, 10000. */
  reconnectDelaysMs?: number[];
  /** Interval between checks whether a running apply has finished, in milliseconds. Default: 250. */
  busyPollMs?: number;
  /** Called each time the events stream opens again after it dropped, for a caller that retries work the outage stopped; it must not throw. Default: none. */
  onReconnect?: () => void;
  /** Clock in milliseconds since the epoch. Default: `Date.now`. */
  now?: () => number;
  /** Timer functions. Default: the global `setTimeout` (unreferenced) and `clearTimeout`. */
  timers?: WatchdogTimers;
}

export type ResolvedWatchdogOptions = Required<ContainerWatchdogOptions>;

const DEFAULT_TIMERS: WatchdogTimers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Checks every option and fills in the defaults; throws ConfigError naming the first invalid option. */
export function resolveWatchdogOptions(options: ContainerWatchdogOptions): ResolvedWatchdogOptions {
  if (typeof options !== 'object' || options === null) throw invalid('options', options, 'expected an object');
  const { engine, container } = options;
  const methods = ['ping', 'events', 'containerInspect', 'containerStart'] as const;
  if (typeof engine !== 'object' || engine === null || methods.some((name) => typeof engine[name] !== 'function')) {
    throw invalid('engine', engine, `expected an object with ${methods.join(', ')} (a DockerClient)`);
  }
  if (typeof container !== 'string' || container === '' || container.includes('\0')) {
    throw invalid('container', container, 'expected a non-empty container name');
  }
  const reconnectDelaysMs = options.reconnectDelaysMs ?? [500, 1000, 2000, 5000, 10_000];
  if (!Array.isArray(reconnectDelaysMs) || reconnectDelaysMs.length === 0 || !reconnectDelaysMs.every((ms) => isWhole(ms, 0))) {
    throw invalid('reconnectDelaysMs', reconnectDelaysMs, 'expected a non-empty array of whole milliseconds >= 0');
  }
  for (const name of ['isBusy', 'onReconnect', 'now'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') throw invalid(name, options[name], 'expected a function');
  }
  const resolved: ResolvedWatchdogOptions = {
    engine,
    container,
    isBusy: options.isBusy ?? (() => false),
    maxRestarts: whole(options, 'maxRestarts', 5, 1),
    windowMs: whole(options, 'windowMs', 600_000, 1),
    initialDelayMs: whole(options, 'initialDelayMs', 1000, 0),
    maxDelayMs: whole(options, 'maxDelayMs', 30_000, 0),
    intentWindowMs: whole(options, 'intentWindowMs', 30_000, 0),
    reconnectDelaysMs: [...reconnectDelaysMs],
    busyPollMs: whole(options, 'busyPollMs', 250, 1),
    onReconnect: options.onReconnect ?? (() => undefined),
    now: options.now ?? Date.now,
    timers: options.timers ?? DEFAULT_TIMERS,
  };
  if (resolved.maxDelayMs < resolved.initialDelayMs) {
    throw invalid('maxDelayMs', resolved.maxDelayMs, `expected at least initialDelayMs (${resolved.initialDelayMs})`);
  }
  return resolved;
}

type WholeOption = 'maxRestarts' | 'windowMs' | 'initialDelayMs' | 'maxDelayMs' | 'intentWindowMs' | 'busyPollMs';

function whole(options: ContainerWatchdogOptions, name: WholeOption, fallback: number, min: number): number {
  const value = options[name];
  if (value === undefined) return fallback;
  if (!isWhole(value, min)) throw invalid(name, value, `expected a whole number >= ${min}`);
  return value;
}

function isWhole(value: unknown, min: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min;
}

function invalid(option: string, value: unknown, reason: string): ConfigError {
  const text = typeof value === 'string' || Array.isArray(value) ? JSON.stringify(value) : String(value);
  return new ConfigError(`invalid watchdog option ${option}=${text}: ${reason}`, { details: { option, reason } });
}
