/**
 * HTTP/1.1 to the Docker daemon over one keep-alive undici Pool: timeouts,
 * JSON bodies, capped error bodies, the mapping of failures to mount-core
 * errors, and one diagnostics message per request.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { Pool } from 'undici';
import { EngineError, MountCoreError } from '../errors.js';
import { publishEngineRequest } from './diagnostics.js';
import type { DockerHost } from './docker-host.js';
import { toEngineFailure } from './failures.js';
import { daemonMessageOf, ERROR_BODY_LIMIT, parseBody, readCapped } from './response-body.js';

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'DELETE';

export type QueryValue = string | number | boolean | undefined;

export interface EngineRequest {
  method: HttpMethod;
  /** Path including the `/v1.xx` prefix when the endpoint is versioned. */
  path: string;
  /** Query parameters; undefined values are left out. */
  query?: Record<string, QueryValue>;
  /** Sent as JSON when defined. */
  body?: unknown;
  /** Overrides the client's per-request timeout, in milliseconds. */
  timeoutMs?: number;
  /** Non-2xx statuses returned instead of thrown, such as 304 from start and stop. */
  acceptStatus?: readonly number[];
}

export interface EngineResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** Parsed JSON, the text of a non-JSON body, or undefined when the body is empty. */
  body: unknown;
}

export interface EngineStream {
  status: number;
  headers: IncomingHttpHeaders;
  body: AsyncIterable<Uint8Array>;
  /** Aborted when the caller's signal fires or the transport closes. */
  signal: AbortSignal;
}

export class EngineTransport {
  readonly #pool: Pool;
  readonly #hostValue: string;
  readonly #timeoutMs: number;
  /** Open streams, aborted by close() because Pool.close() waits for them otherwise. */
  readonly #streams = new Set<AbortController>();

  constructor(host: DockerHost, hostValue: string, timeoutMs: number) {
    this.#pool = host.kind === 'unix' ? new Pool(host.origin, { connect: { socketPath: host.socketPath } }) : new Pool(host.origin);
    this.#hostValue = hostValue;
    this.#timeoutMs = timeoutMs;
  }

  /** Sends one request and reads its whole response within the timeout. */
  async request(request: EngineRequest): Promise<EngineResponse> {
    const timeoutMs = request.timeoutMs ?? this.#timeoutMs;
    const started = performance.now();
    const controller = new AbortController();
    let timedOut = false;
    // undici 7 checks headersTimeout and bodyTimeout with about 1 s resolution, and
    // bodyTimeout bounds only the gap between chunks, so this timer enforces the total.
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    let status: number | undefined;
    let failure: Error | undefined;

    try {
      const response = await this.#pool.request({
        method: request.method,
        path: request.path + queryString(request.query),
        headers: request.body === undefined ? {} : { 'content-type': 'application/json' },
        body: request.body === undefined ? null : JSON.stringify(request.body),
        signal: controller.signal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      status = response.statusCode;

      if (isSuccess(status) || request.acceptStatus?.includes(status)) {
        const text = await response.body.text();
        return { status, headers: response.headers, body: parseBody(text, response.headers, request) };
      }
      const text = await readCapped(response.body, ERROR_BODY_LIMIT);
      throw new EngineError(status, request.method, request.path, daemonMessageOf(text, status));
    } catch (error) {
      failure = this.#toEngineFailure(error, request, timedOut, timeoutMs);
      throw failure;
    } finally {
      clearTimeout(timer);
      publishEngineRequest({ method: request.method, path: request.path, status, durationMs: performance.now() - started, error: failure });
    }
  }

  /**
   * Opens a response whose body streams without an idle limit, such as GET
   * /events. Only the wait for the headers is bounded by the timeout. A 2xx
   * status is required and any other one throws EngineError. Resolves to
   * undefined when `signal` or close() aborts the request before its headers.
   */
  async openStream(request: EngineRequest, signal?: AbortSignal): Promise<EngineStream | undefined> {
    const timeoutMs = request.timeoutMs ?? this.#timeoutMs;
    const started = performance.now();
    const controller = new AbortController();
    const abortFromCaller = (): void => controller.abort(signal?.reason);
    signal?.addEventListener('abort', abortFromCaller, { once: true });
    this.#streams.add(controller);
    const release = (): void => {
      signal?.removeEventListener('abort', abortFromCaller);
      this.#streams.delete(controller);
    };
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    let status: number | undefined;
    let failure: Error | undefined;

    try {
      if (signal?.aborted) controller.abort(signal.reason);
      const response = await this.#pool.request({
        method: request.method,
        path: request.path + queryString(request.query),
        signal: controller.signal,
        headersTimeout: timeoutMs,
        bodyTimeout: 0,
      });
      status = response.statusCode;
      if (!isSuccess(status)) {
        const text = await readCapped(response.body, ERROR_BODY_LIMIT);
        throw new EngineError(status, request.method, request.path, daemonMessageOf(text, status));
      }
      clearTimeout(timer);
      response.body.once('close', release);
      return { status, headers: response.headers, body: response.body, signal: controller.signal };
    } catch (error) {
      release();
      if (controller.signal.aborted && !timedOut && !(error instanceof MountCoreError)) return undefined;
      failure = this.#toEngineFailure(error, request, timedOut, timeoutMs);
      throw failure;
    } finally {
      clearTimeout(timer);
      publishEngineRequest({ method: request.method, path: request.path, status, durationMs: performance.now() - started, error: failure });
    }
  }

  /** Maps a socket or stream error to DockerUnavailableError or EngineTimeoutError with the cause kept. */
  toEngineFailure(error: unknown, request: EngineRequest): Error {
    return this.#toEngineFailure(error, request, false, request.timeoutMs ?? this.#timeoutMs);
  }

  #toEngineFailure(error: unknown, request: EngineRequest, timedOut: boolean, timeoutMs: number): Error {
    return toEngineFailure(error, { request, timedOut, timeoutMs, hostValue: this.#hostValue });
  }

  /** Aborts open streams and closes the pool once other requests have finished. */
  async close(): Promise<void> {
    for (const controller of this.#streams) controller.abort();
    this.#streams.clear();
    await this.#pool.close();
  }
}

function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}

function queryString(query: Record<string, QueryValue> | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined) params.append(name, String(value));
  }
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}
