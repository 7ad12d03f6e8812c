/** node:http server settings that bound how long a client may take to send its request. */
import type { ServerOptions } from 'node:http';
import { ConfigError } from '../../lib/errors.js';
import { readInteger, type Env } from './env.js';

export interface RequestTimeouts {
  /** Time a client has to send the request headers, in milliseconds (HEADERS_TIMEOUT_MS). */
  headersTimeoutMs: number;
  /** Time a client has to send the whole request, body included, in milliseconds (REQUEST_TIMEOUT_MS). */
  requestTimeoutMs: number;
}

/** Reads HEADERS_TIMEOUT_MS and REQUEST_TIMEOUT_MS; the first must not exceed the second, as node:http requires. */
export function readRequestTimeouts(env: Env, defaults: RequestTimeouts): RequestTimeouts {
  const headersTimeoutMs = readInteger(env, 'HEADERS_TIMEOUT_MS', defaults.headersTimeoutMs, 100, 600_000);
  const requestTimeoutMs = readInteger(env, 'REQUEST_TIMEOUT_MS', defaults.requestTimeoutMs, 100, 3_600_000);
  if (headersTimeoutMs > requestTimeoutMs) {
    throw new ConfigError(`HEADERS_TIMEOUT_MS=${headersTimeoutMs} is invalid: it must not exceed REQUEST_TIMEOUT_MS=${requestTimeoutMs}`, {
      details: { reason: 'HEADERS_TIMEOUT_MS: must not exceed REQUEST_TIMEOUT_MS' },
    });
  }
  return { headersTimeoutMs, requestTimeoutMs };
}

/**
 * Returns createServer options for `timeouts`. node:http looks for expired
 * requests only every `connectionsCheckingInterval`, 30 s by default in
 * Node 20, so the interval is cut to at most 1 s. A client that sends its
 * headers byte by byte is then cut off within about a second of the timeout.
 */
export function serverOptions(timeouts: RequestTimeouts): ServerOptions {
  return {
    headersTimeout: timeouts.headersTimeoutMs,
    requestTimeout: timeouts.requestTimeoutMs,
    keepAliveTimeout: 5000,
    connectionsCheckingInterval: Math.min(1000, timeouts.headersTimeoutMs),
  };
}
