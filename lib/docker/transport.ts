/**
 * HTTP/1.1 to the Docker daemon: request and response calls through the
 * small client in http1.ts, streams (GET /events) with node:http over one
 * keep-alive Agent. Both have timeouts, capped error bodies, the mapping of
 * failures to mount-core errors, and one diagnostics message per request.
 */
import { Agent, request as sendHttpRequest, type ClientRequest, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type RequestOptions } from 'node:http';
import { EngineError, MountCoreError } from '../errors.js';
import { publishEngineRequest } from './diagnostics.js';
import type { DockerHost } from './docker-host.js';
import { closedClientError, toEngineFailure } from './failures.js';
import { Http1Pool, isStaleConnectionError, type Http1Exchange, type Http1Target } from './http1.js';
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

/** State of one call across its attempts, shared with the timeout and cancel callbacks. */
interface Exchange {
  current: ClientRequest | undefined;
  /** Set by the total timeout before it destroys the request. */
  timedOut: boolean;
  /** Set when the caller's signal or close() ended an event stream. */
  cancelled: boolean;
}

export class EngineTransport {
  readonly #pool: Http1Pool;
  readonly #agent: Agent;
  readonly #target: Http1Target;
  /** Headers of a stream request, shared because node:http only reads them. */
  readonly #streamHeaders: OutgoingHttpHeaders;
  readonly #hostValue: string;
  readonly #timeoutMs: number;
  /** Open streams, aborted by close(). */
  readonly #streams = new Set<AbortController>();
  /** Calls of request() that have not settled, which close() waits for. */
  #inFlight = 0;
  #onDrained: (() => void) | undefined;
  #closing: Promise<void> | undefined;

  constructor(host: DockerHost, hostValue: string, timeoutMs: number) {
    // Idle sockets stay open until the daemon closes them, and the Agent drops a
    // socket once that close arrives. Docker 20.10 and 26.1 kept an idle
    // connection open for at least 90 s. The Agent's `timeout` option would
    // close idle sockets sooner, but it arms a socket timer that every read
    // and write refreshes: about 7 µs more CPU per inspect, 13 %, against
    // bench/children/stub-engine.ts (Node 20, 2 shared cores).
    this.#agent = new Agent({ keepAlive: true });
    this.#target = connectTarget(host);
    this.#pool = new Http1Pool(this.#target);
    this.#streamHeaders = { host: this.#target.hostHeader };
    this.#hostValue = hostValue;
    this.#timeoutMs = timeoutMs;
  }

  /** Sends one request and reads its whole response within the timeout. */
  async request(request: EngineRequest): Promise<EngineResponse> {
    const timeoutMs = request.timeoutMs ?? this.#timeoutMs;
    const started = performance.now();
    const exchange: Http1Exchange = { timedOut: false, abort: undefined };
    // One timer bounds the whole call, retry and body included.
    const timer = setTimeout(expireCall, timeoutMs, exchange);
    let status: number | undefined;
    let failure: Error | undefined;
    this.#inFlight += 1;

    try {
      if (this.#closing !== undefined) throw closedClientError(request, this.#hostValue);
      const payload = request.body === undefined ? undefined : JSON.stringify(request.body);
      const response = await this.#pool.send(request.method, request.path + queryString(request.query), payload, ERROR_BODY_LIMIT, exchange);
      status = response.status;
      const text = response.body.toString('utf8');
      if (isSuccess(status) || request.acceptStatus?.includes(status)) {
        return { status, headers: response.headers, body: parseBody(text, response.headers, request) };
      }
      throw new EngineError(status, request.method, request.path, daemonMessageOf(text, status));
    } catch (error) {
      failure = this.#toEngineFailure(error, request, exchange.timedOut, timeoutMs);
      throw failure;
    } finally {
      clearTimeout(timer);
      this.#inFlight -= 1;
      if (this.#inFlight === 0) this.#onDrained?.();
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
    if (signal?.aborted) return undefined;
    const timeoutMs = request.timeoutMs ?? this.#timeoutMs;
    const started = performance.now();
    const exchange: Exchange = { current: undefined, timedOut: false, cancelled: false };
    const controller = new AbortController();
    controller.signal.addEventListener('abort', () => cancel(exchange), { once: true });
    const abortFromCaller = (): void => controller.abort(signal?.reason);
    signal?.addEventListener('abort', abortFromCaller, { once: true });
    this.#streams.add(controller);
    const release = (): void => {
      signal?.removeEventListener('abort', abortFromCaller);
      this.#streams.delete(controller);
    };
    const timer = setTimeout(expire, timeoutMs, exchange);
    let status: number | undefined;
    let failure: Error | undefined;

    try {
      if (this.#closing !== undefined) throw closedClientError(request, this.#hostValue);
      const response = await this.#send(request, exchange);
      status = response.statusCode ?? 0;
      if (!isSuccess(status)) {
        const text = await readCapped(response, ERROR_BODY_LIMIT);
        throw new EngineError(status, request.method, request.path, daemonMessageOf(text, status));
      }
      clearTimeout(timer);
      response.once('close', release);
      return { status, headers: response.headers, body: response, signal: controller.signal };
    } catch (error) {
      release();
      if (exchange.cancelled && !exchange.timedOut && !(error instanceof MountCoreError)) return undefined;
      failure = this.#toEngineFailure(error, request, exchange.timedOut, timeoutMs);
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

  /**
   * Aborts open streams, rejects new requests with DockerUnavailableError,
   * waits for requests in flight to finish, then closes every socket.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    for (const controller of this.#streams) controller.abort();
    this.#streams.clear();
    if (this.#inFlight > 0) {
      await new Promise<void>((resolve) => {
        this.#onDrained = resolve;
      });
    }
    this.#pool.destroy();
    this.#agent.destroy();
  }

  #toEngineFailure(error: unknown, request: EngineRequest, timedOut: boolean, timeoutMs: number): Error {
    return toEngineFailure(error, { request, timedOut, timeoutMs, hostValue: this.#hostValue });
  }

  /**
   * Sends a stream request, which has no body, with node:http and resolves
   * with the response once its headers arrive. A GET or HEAD that fails with a
   * reset on a reused keep-alive socket before any response is sent once
   * more, because the daemon closed that idle socket before the request
   * reached it. Other methods are never resent, as the daemon may have acted on them.
   */
  #send(request: EngineRequest, exchange: Exchange): Promise<IncomingMessage> {
    const { socketPath, host, port } = this.#target;
    const path = request.path + queryString(request.query);
    const headers = this.#streamHeaders;
    const options: RequestOptions = socketPath !== undefined
      ? { socketPath, agent: this.#agent, method: request.method, path, headers }
      : { host, port, agent: this.#agent, method: request.method, path, headers };
    const mayRetry = request.method === 'GET' || request.method === 'HEAD';

    return new Promise((resolve, reject) => {
      sendAttempt(options, exchange, mayRetry, resolve, reject);
    });
  }
}

/**
 * Sends one attempt of a request. When `mayRetry` is true and a reused
 * socket fails with a reset before any response, sends the request once more
 * with `mayRetry` false. A module function rather than a closure, because it
 * runs for every request.
 */
function sendAttempt(
  options: RequestOptions,
  exchange: Exchange,
  mayRetry: boolean,
  resolve: (response: IncomingMessage) => void,
  reject: (error: unknown) => void,
): void {
  let outgoing: ClientRequest;
  try {
    outgoing = sendHttpRequest(options);
  } catch (error) {
    reject(error);
    return;
  }
  exchange.current = outgoing;
  let settled = false;
  outgoing.on('response', (response) => {
    settled = true;
    resolve(response);
  });
  // Stays attached after the first error, since a socket can report more than one.
  outgoing.on('error', (error) => {
    if (settled) return;
    settled = true;
    if (mayRetry && outgoing.reusedSocket && !exchange.timedOut && !exchange.cancelled && isStaleConnectionError(error)) {
      sendAttempt(options, exchange, false, resolve, reject);
    } else {
      reject(error);
    }
  });
  outgoing.end();
}

/** Marks a request and response call as timed out and closes its connection, when the total timeout fires. */
function expireCall(exchange: Http1Exchange): void {
  exchange.timedOut = true;
  exchange.abort?.();
}

/** Marks `exchange` as timed out and destroys its request on the wire, when the total timeout fires. */
function expire(exchange: Exchange): void {
  exchange.timedOut = true;
  exchange.current?.destroy();
}

function cancel(exchange: Exchange): void {
  exchange.cancelled = true;
  exchange.current?.destroy();
}

function connectTarget(host: DockerHost): Http1Target {
  const url = new URL(host.origin);
  // URL keeps the brackets of an IPv6 host, which node:http expects without them in `host`.
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  // url.host leaves out port 80, as a Host header does.
  return { socketPath: host.kind === 'unix' ? host.socketPath : undefined, host: hostname, port: Number(url.port || 80), hostHeader: url.host };
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
