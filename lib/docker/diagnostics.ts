/**
 * Request reports on `node:diagnostics_channel`. The library does not log, so
 * a server that wants one log line per Engine request subscribes here:
 * `diagnostics_channel.subscribe('mount-core:engine', (message) => ...)`.
 */
import diagnosticsChannel from 'node:diagnostics_channel';

export const ENGINE_CHANNEL_NAME = 'mount-core:engine';

/** One message per Engine request, published when it ends. */
export interface EngineRequestMessage {
  method: string;
  /** Request path with the `/v1.xx` prefix and without the query string. */
  path: string;
  /** HTTP status, absent when no response arrived. */
  status?: number;
  /**
   * Milliseconds from sending the request to reading the whole response. For
   * the events stream, to receiving its headers, because the body has no end.
   */
  durationMs: number;
  /** The error the request was rejected with: a MountCoreError for Engine and socket failures. */
  error?: Error;
}

const engineChannel = diagnosticsChannel.channel(ENGINE_CHANNEL_NAME);

/** Publishes `message` when someone subscribes; costs one check otherwise. */
export function publishEngineRequest(message: EngineRequestMessage): void {
  if (engineChannel.hasSubscribers) {
    engineChannel.publish(message);
  }
}
