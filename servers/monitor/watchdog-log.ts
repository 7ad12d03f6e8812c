/**
 * Log lines for the container watchdog's diagnostics channel: each restart as
 * a pair (`container restart started`, `container restart finished`) with its
 * restart id, deaths and their decision, and the events stream's losses. Of a
 * run of failed reconnects only the first is logged at warn; the reopen line
 * carries their count.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { WATCHDOG_CHANNEL_NAME, type WatchdogMessage } from '../../lib/reconciler/watchdog.js';
import type { Logger } from '../common/log.js';

/** Subscribes the log lines to the watchdog channel; returns the function that unsubscribes them. */
export function subscribeWatchdogLog(log: Logger): () => void {
  let failedReconnects = 0;

  const onMessage = (raw: unknown) => {
    const message = raw as WatchdogMessage;
    const container = message.container;
    switch (message.event) {
      case 'stream-open':
        if (message.reconnect) log.info('container events stream reopened', { container, since: message.since, failed_attempts: failedReconnects });
        else log.info('following container events', { container });
        failedReconnects = 0;
        return;
      case 'stream-closed':
        if (failedReconnects === 0) {
          log.warn('container events stream lost', { container, error_code: message.error?.code ?? null, error: message.error?.message ?? null, retry_in_ms: message.retry_in_ms });
        } else {
          log.debug('container events stream still down', { container, attempt: message.attempt, error_code: message.error?.code ?? null, retry_in_ms: message.retry_in_ms });
        }
        failedReconnects += 1;
        return;
      case 'death': {
        const fields = { container, container_id: message.container_id, exit_code: message.exit_code, reason: message.reason };
        if (message.decision === 'restart') log.warn('development container died', { ...fields, restart_in_ms: message.delay_ms });
        else if (message.decision === 'intentional') log.info('development container stopped on request', fields);
        else log.error('development container died and is not restarted: the watchdog gave up', fields);
        return;
      }
      case 'restart':
        log.info('container restart started', { restart_id: message.restart_id, container, container_id: message.container_id, attempt: message.attempt, reason: message.reason });
        return;
      case 'restart-end': {
        const fields = { restart_id: message.restart_id, container, container_id: message.container_id, duration_ms: message.duration_ms };
        if (message.ok) log.info('container restart finished', fields);
        else log.error('container restart failed', { ...fields, error_code: message.error?.code, error: message.error?.message });
        return;
      }
      case 'restart-skipped':
        log.info('container restart skipped', { container, container_id: message.container_id, reason: message.reason });
        return;
      case 'gave-up':
        log.error('container watchdog gave up; start the container by hand once the cause is fixed', {
          container,
          container_id: message.container_id,
          restarts: message.restarts,
          window_ms: message.window_ms,
          reason: message.reason,
        });
        return;
      case 'resumed':
        log.info('container watchdog resumed after a start by someone else', { container, container_id: message.container_id });
        return;
      case 'removed':
        log.warn('development container removed', { container, container_id: message.container_id });
        return;
    }
  };

  subscribe(WATCHDOG_CHANNEL_NAME, onMessage);
  return () => unsubscribe(WATCHDOG_CHANNEL_NAME, onMessage);
}
