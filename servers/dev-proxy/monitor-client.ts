/**
 * Requests from the dev proxy to the monitor's API over node:http, or
 * node:https for an https URL, through one keep-alive Agent. Each response
 * body is read in full before the caller sees it, so that a monitor that
 * fails halfway through still yields a clean error response.
 */
import { Agent, request as httpRequest, type ClientRequest, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type RequestOptions } from 'node:http';
import { createRequire } from 'node:module';

/**
 * Idle time after which the client's own Agent drops a free keep-alive
 * socket, in milliseconds. The monitor's server (servers/common/http-server.ts)
 * has a keepAliveTimeout of 5 s and sends `Keep-Alive: timeout=5`, and Node
 * 20's http server closes such a socket after 6 s idle (lib/_http_server.js
 * adds a 1 s margin). Dropping the socket 2 s earlier means that a POST or
 * DELETE does not go out on a socket the monitor is closing at that moment,
 * which could fail it with ECONNRESET after the monitor acted on it. Only an
 * event loop stalled for about 2 s would still allow that race.
 *
 * Node 20's Agent (keepSocketAlive in lib/_http_agent.js) also reads the
 * server's `timeout=N` hint and lowers the idle time to N − 1 s. It does so
 * only when the Agent has a `timeout`, so this value also brings in the hint
 * for a monitor whose server closes idle connections sooner.
 */
export const FREE_SOCKET_TIMEOUT_MS = 4000;

/** Sockets the client's own Agent opens to the monitor at most; further requests wait in the Agent's queue. */
const MAX_SOCKETS = 16;

/** The monitor's response, read to its end. */
export interface MonitorResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body as the chunks arrived, not joined, so that relaying it copies nothing. */
  chunks: Buffer[];
  /** Length of the body in bytes. */
  length: number;
}

/** A request to the monitor that failed or timed out before its response ended. */
export class MonitorRequestError extends Error {
  /**
   * False when the monitor cannot have received the request: the connection
   * was refused, the host was not found, no socket was connected before the
   * timeout, or the connection was reset before any response came. True
   * after a timeout on a connected socket, or a failure during the response,
   * because the monitor may then have carried the request out.
   */
  readonly reached: boolean;
  readonly timedOut: boolean;

  constructor(message: string, options: { reached: boolean; timedOut: boolean; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.name = 'MonitorRequestError';
    this.reached = options.reached;
    this.timedOut = options.timedOut;
  }
}

export interface MonitorClientOptions {
  /** The monitor's API base URL, already checked: http or https, no credentials, query or fragment. */
  base: URL;
  /** Total time for each request, from sending it to the end of the response body, in milliseconds. */
  timeoutMs: number;
  /** Caller's Agent; close() leaves it open. Default: a keep-alive Agent owned by the client. */
  agent?: Agent;
}

type RequestFunction = (options: RequestOptions, callback?: (response: IncomingMessage) => void) => ClientRequest;

export class MonitorClient {
  readonly #timeoutMs: number;
  readonly #request: RequestFunction;
  readonly #ownAgent: Agent | undefined;
  /** Options shared by every request; each request copies them and adds its method, path and headers. */
  readonly #target: RequestOptions;
  /** The base URL's path without a trailing slash, such as `/api`. */
  readonly #basePath: string;

  constructor(options: MonitorClientOptions) {
    const { base } = options;
    const https = base.protocol === 'https:';
    // node:https loads node:tls, about 1.4 MiB of RSS on Node 20, so it is only loaded for an https monitor.
    const module: { Agent: typeof Agent; request: RequestFunction } = https ? createRequire(import.meta.url)('node:https') : { Agent, request: httpRequest };
    this.#timeoutMs = options.timeoutMs;
    this.#request = module.request;
    this.#ownAgent = options.agent ? undefined : new module.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS, maxFreeSockets: MAX_SOCKETS, timeout: FREE_SOCKET_TIMEOUT_MS });
    this.#target = {
      protocol: base.protocol,
      // URL keeps the brackets of an IPv6 address, which node:http does not accept in `hostname`.
      hostname: base.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: base.port === '' ? undefined : Number(base.port),
      agent: options.agent ?? this.#ownAgent,
    };
    this.#basePath = base.pathname.replace(/\/+$/, '');
  }

  /**
   * Sends one request to `path` below the base URL and resolves with the
   * whole response. A GET that fails with ECONNRESET on a reused keep-alive
   * socket, before any response, is sent once more within the same time
   * limit, because the monitor closed that idle socket as the request went
   * out. Rejects with MonitorRequestError, or with the error of
   * node:http's request() itself, such as an invalid header value.
   */
  send(method: 'GET' | 'POST' | 'DELETE', path: string, headers: OutgoingHttpHeaders, body?: Buffer): Promise<MonitorResponse> {
    return new Promise((resolve, reject) => {
      let settled = false;
      let current: ClientRequest;
      let responded = false;
      let retried = false;

      const fail = (error: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(error);
      };
      // One timer bounds both attempts and the body, so the caller waits at most timeoutMs in total.
      const timer = setTimeout(() => {
        const socket = current.socket;
        const connected = socket !== null && socket !== undefined && !socket.connecting;
        fail(new MonitorRequestError(`${method} ${path} timed out after ${this.#timeoutMs} ms`, { reached: responded || connected, timedOut: true }));
        current.destroy();
      }, this.#timeoutMs);

      const attempt = () => {
        let outgoing: ClientRequest;
        try {
          outgoing = this.#request({ ...this.#target, method, path: this.#basePath + path, headers });
        } catch (error) {
          fail(error);
          return;
        }
        current = outgoing;
        outgoing.on('response', (incoming: IncomingMessage) => {
          responded = true;
          const chunks: Buffer[] = [];
          let length = 0;
          let failure: unknown;
          incoming.on('data', (chunk: Buffer) => {
            chunks.push(chunk);
            length += chunk.length;
          });
          incoming.on('end', () => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            resolve({ status: incoming.statusCode ?? 502, headers: incoming.headers, chunks, length });
          });
          incoming.on('error', (error) => {
            failure = error;
          });
          incoming.on('close', () => {
            if (!incoming.complete) fail(new MonitorRequestError(`${method} ${path}: the connection closed before the end of the response`, { reached: true, timedOut: false, cause: failure }));
          });
        });
        outgoing.on('error', (error: NodeJS.ErrnoException) => {
          if (!responded && !retried && method === 'GET' && outgoing.reusedSocket && error.code === 'ECONNRESET') {
            retried = true;
            attempt();
            return;
          }
          fail(new MonitorRequestError(`${method} ${path} failed: ${error.message}`, { reached: responded, timedOut: false, cause: error }));
        });
        outgoing.end(body);
      };
      attempt();
    });
  }

  /** Destroys the client's own Agent and its sockets, including any request still in flight; a caller's Agent stays open. */
  close(): void {
    this.#ownAgent?.destroy();
  }
}
