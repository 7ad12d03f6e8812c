/**
 * Log lines for the library's diagnostics channels: each operation as a pair
 * (`operation started`, `operation finished`) with its id, and failed Docker
 * Engine requests at warn, at most one line per error code per window.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Operation } from '../../lib/reconciler/operations.js';
import type { Logger } from '../common/log.js';
import { ENGINE_CHANNEL, RECONCILER_CHANNEL } from './metrics.js';

export interface EventLogOptions {
  /** Window in which repeats of one engine error code are counted instead of logged, in milliseconds. Default: 10000. */
  engineRepeatWindowMs?: number;
  /** Clock in milliseconds. Default: `Date.now`. */
  now?: () => number;
}

interface ReconcilerMessage {
  event?: string;
  operation?: Partial<Operation> & { id: string; kind: string };
  step?: string;
}

interface EngineMessage {
  method?: string;
  path?: string;
  status?: number;
  durationMs?: number;
  error?: Error & { code?: unknown };
}

/** Subscribes the log lines to the channels; returns the function that unsubscribes them. */
export function subscribeEventLog(log: Logger, options: EventLogOptions = {}): () => void {
  const windowMs = options.engineRepeatWindowMs ?? 10_000;
  const now = options.now ?? Date.now;
  // Per error code: when its last line was written, and how many failures were skipped since.
  const engineCodes = new Map<string, { loggedAt: number; suppressed: number }>();

  const onReconciler = (message: unknown) => {
    const { event, operation, step } = message as ReconcilerMessage;
    if (!operation) return;
    const ids = { operation_id: operation.id, kind: operation.kind };
    if (event === 'operation-start') log.info('operation started', ids);
    else if (event === 'step') log.debug('operation step', { ...ids, step });
    else if (event === 'operation-end') {
      const fields = { ...ids, state: operation.state, duration_ms: operation.duration_ms };
      if (operation.state === 'failed') log.error('operation finished', { ...fields, step: operation.step, error: operation.error });
      else log.info('operation finished', { ...fields, result: operation.result });
    }
  };

  const onEngine = (message: unknown) => {
    const { method, path, status, durationMs, error } = message as EngineMessage;
    if (!error) return;
    const code = typeof error.code === 'string' ? error.code : 'UNKNOWN';
    // A 404 is an expected answer where the caller checks whether something exists, such as the
    // start-up look for a leftover replacement; callers that fail on it report it themselves.
    if (status === 404) {
      log.debug('engine request found nothing', { method, path, status, error_code: code });
      return;
    }
    const at = now();
    const previous = engineCodes.get(code);
    if (previous && at - previous.loggedAt < windowMs) {
      previous.suppressed += 1;
      return;
    }
    engineCodes.set(code, { loggedAt: at, suppressed: 0 });
    log.warn('engine request failed', {
      method,
      path,
      status: status ?? null,
      error_code: code,
      error: error.message,
      duration_ms: durationMs === undefined ? undefined : Math.round(durationMs),
      // Failures with this code that were not logged during the previous window.
      suppressed: previous?.suppressed ?? 0,
    });
  };

  subscribe(RECONCILER_CHANNEL, onReconciler);
  subscribe(ENGINE_CHANNEL, onEngine);
  return () => {
    unsubscribe(RECONCILER_CHANNEL, onReconciler);
    unsubscribe(ENGINE_CHANNEL, onEngine);
  };
}
