/**
 * The monitor's Prometheus metrics, built from the library's diagnostics
 * channels (`mount-core:reconciler`, `mount-core:engine`) and the watchdog's
 * (`mount-core:watchdog`), plus the HTTP requests the handler reports and the
 * store read at each scrape.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Operation } from '../../lib/reconciler/operations.js';
import type { MountState } from '../../lib/types.js';
import { Counter, gaugeFamily, Histogram, renderFamilies } from '../common/prometheus.js';

export const RECONCILER_CHANNEL = 'mount-core:reconciler';
export const ENGINE_CHANNEL = 'mount-core:engine';
/** Channel of the container watchdog; a message `{ event: 'restart' }` counts one restart. */
export const WATCHDOG_CHANNEL = 'mount-core:watchdog';

const MOUNT_STATES: MountState[] = ['applied', 'pending', 'failed'];

/** Operation durations, in seconds: a lone restart takes about a second, a recreate with a health check up to minutes. */
const OPERATION_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const STEP_BUCKETS = [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export interface MonitorMetricsOptions {
  /** Source of the `mountcore_mounts` gauge, read at each scrape; MountStore satisfies it. */
  store: { read(): Promise<{ mounts: Array<{ state: MountState }> }> };
}

/** Collects the monitor's metrics until `close()`; `render()` returns the text exposition. */
export class MonitorMetrics {
  readonly applies = new Counter('mountcore_applies_total', 'Operations (apply or restart) finished, by result.');
  readonly applyDuration = new Histogram('mountcore_apply_duration_seconds', 'Duration of each finished operation (apply or restart).', OPERATION_BUCKETS);
  readonly stepDuration = new Histogram(
    'mountcore_recreate_step_duration_seconds',
    'Duration of each step of an operation, from its start to the start of the next step or the end of the operation.',
    STEP_BUCKETS,
  );
  readonly httpRequests = new Counter('mountcore_http_requests_total', 'HTTP requests answered, by route pattern, method and status.');
  readonly engineErrors = new Counter('mountcore_engine_errors_total', 'Docker Engine API requests that failed, by error code.');
  readonly containerRestarts = new Counter('mountcore_container_restarts_total', 'Restarts of the development container by the watchdog.');
  private readonly store: MonitorMetricsOptions['store'];
  private readonly subscriptions: Array<[string, (message: unknown) => void]>;

  constructor(options: MonitorMetricsOptions) {
    this.store = options.store;
    this.applies.inc({ result: 'succeeded' }, 0);
    this.applies.inc({ result: 'failed' }, 0);
    this.containerRestarts.inc({}, 0);
    this.subscriptions = [
      [RECONCILER_CHANNEL, (message) => this.onReconciler(message)],
      [ENGINE_CHANNEL, (message) => this.onEngine(message)],
      [WATCHDOG_CHANNEL, (message) => this.onWatchdog(message)],
    ];
    for (const [name, listener] of this.subscriptions) subscribe(name, listener);
  }

  /** Counts one answered request; `route` is the router's pattern, never the raw path, to bound the series. */
  observeRequest(route: string, method: string, status: number): void {
    this.httpRequests.inc({ route, method, status: String(status) });
  }

  /** Renders every family; the mount gauge is left out when the store cannot be read, and `mountcore_store_up` says so. */
  async render(): Promise<string> {
    let mounts: Array<{ state: MountState }> | undefined;
    try {
      mounts = (await this.store.read()).mounts;
    } catch {
      mounts = undefined;
    }
    const gauges = [gaugeFamily('mountcore_store_up', 'Whether the last read of the mount store at scrape time succeeded (1) or failed (0).', [{ labels: {}, value: mounts ? 1 : 0 }])];
    if (mounts) {
      const values = MOUNT_STATES.map((state) => ({ labels: { state }, value: mounts.filter((mount) => mount.state === state).length }));
      gauges.push(gaugeFamily('mountcore_mounts', 'Mounts in the store, by state, read at scrape time.', values));
    }
    return renderFamilies([this.applies, this.applyDuration, this.stepDuration, ...gauges, this.httpRequests, this.engineErrors, this.containerRestarts]);
  }

  close(): void {
    for (const [name, listener] of this.subscriptions) unsubscribe(name, listener);
  }

  private onReconciler(message: unknown): void {
    const event = message as { event?: string; operation?: Operation };
    const operation = event.operation;
    if (event.event !== 'operation-end' || !operation) return;
    this.applies.inc({ result: operation.state === 'succeeded' ? 'succeeded' : 'failed' });
    const durationMs = operation.duration_ms ?? 0;
    this.applyDuration.observe(durationMs / 1000);
    // Each step lasts until the next one starts; the last one until the operation ends.
    operation.steps.forEach((entry, index) => {
      const endMs = operation.steps[index + 1]?.at_ms ?? durationMs;
      this.stepDuration.observe(Math.max(0, endMs - entry.at_ms) / 1000, { step: entry.step });
    });
  }

  private onEngine(message: unknown): void {
    const error = (message as { error?: unknown }).error;
    if (!error) return;
    const code = (error as { code?: unknown }).code;
    this.engineErrors.inc({ code: typeof code === 'string' ? code : 'UNKNOWN' });
  }

  private onWatchdog(message: unknown): void {
    if ((message as { event?: unknown }).event === 'restart') this.containerRestarts.inc();
  }
}

/**
 * Returns a function that maps a request path to the router pattern it
 * matches (`/api/mounts/:userId/:workspaceId`), or `unmatched`. Patterns come
 * from `Router.list()` as `METHOD /pattern`; the method is ignored, so a 405
 * still gets its path's pattern.
 */
export function routeLabeler(routes: string[]): (pathname: string) => string {
  const patterns = [...new Set(routes.map((route) => route.slice(route.indexOf(' ') + 1)))];
  const literals = (segments: string[]) => segments.filter((segment) => !segment.startsWith(':')).length;
  // Patterns with more literal segments win, so `/api/debug/stats` is never labelled `/api/debug/:id`.
  const split = patterns
    .map((pattern) => ({ pattern, segments: pattern.split('/').filter(Boolean) }))
    .sort((a, b) => literals(b.segments) - literals(a.segments));
  return (pathname) => {
    const parts = pathname.split('/').filter(Boolean);
    const found = split.find(
      ({ segments }) => segments.length === parts.length && segments.every((segment, index) => segment.startsWith(':') || segment === parts[index]),
    );
    return found?.pattern ?? 'unmatched';
  };
}
