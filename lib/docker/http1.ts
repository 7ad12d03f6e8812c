/**
 * A small HTTP/1.1 client for the Docker daemon's socket: one request at a
 * time per kept connection, the response read whole into memory. It does only
 * what the Engine's request and response calls need (no streaming, no
 * pipelining, no upgrades). Against a stub daemon it made 1.3 times the
 * inspects per second of node:http at concurrency 1 and 2.1 times at 16
 * (docs/benchmarks.md). GET /events streams, so it stays on node:http.
 *
 * A response ends by its Content-Length, by chunked framing, or, with
 * neither, when the daemon closes the connection. HEAD, 204 and 304
 * responses have no body. Interim 1xx responses are skipped.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { connect, type Socket } from 'node:net';

/** Address of the connections, and the Host header that names it. */
export interface Http1Target {
  /** Unix socket path; undefined for TCP. */
  socketPath: string | undefined;
  /** TCP host name or address, without IPv6 brackets. */
  host: string;
  port: number;
  hostHeader: string;
}

export interface Http1Response {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** True when the body was cut at the caller's limit; the connection was then closed. */
  truncated: boolean;
}

/** State of one call, shared with the caller's timer. */
export interface Http1Exchange {
  /** Set by the caller when its time limit passed; a call that timed out is not sent again. */
  timedOut: boolean;
  /** Cuts the call short by destroying its connection, so that it rejects. Set while the call is on a connection. */
  abort: (() => void) | undefined;
}

/** Largest response head accepted, in bytes. */
const MAX_HEAD_BYTES = 64 * 1024;
/** Largest success body accepted, in bytes; the daemon's largest replies (container lists) stay far below it. */
const MAX_BODY_BYTES = 256 * 1024 * 1024;
/** Errors by which a reused connection shows that the daemon closed it before the request arrived. */
const STALE_CONNECTION_CODES = new Set(['ECONNRESET', 'EPIPE']);
/** Characters a request path must not contain, because they would end the request line. */
const UNSAFE_PATH = /[\s\u0000-\u001f\u007f]/;

const HEAD_END = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');

/** An error of the HTTP framing itself, with the errno-style code EPROTO. */
export class Http1ProtocolError extends Error {
  readonly code = 'EPROTO';
}

/** Keeps idle connections to one target and sends each request on one of them. */
export class Http1Pool {
  readonly #target: Http1Target;
  readonly #idle: Http1Connection[] = [];
  readonly #all = new Set<Http1Connection>();

  constructor(target: Http1Target) {
    this.#target = target;
  }

  /**
   * Sends one request and resolves with the whole response. A body of a
   * status outside 2xx is cut at `errorBodyLimit` bytes. A GET or HEAD that
   * fails on a reused connection with a reset before any response byte is
   * sent once more on a new connection. The daemon closed that idle
   * connection before the request reached it. Other methods are not resent.
   */
  async send(method: string, path: string, payload: string | undefined, errorBodyLimit: number, exchange: Http1Exchange): Promise<Http1Response> {
    if (UNSAFE_PATH.test(path)) throw new TypeError(`request path ${JSON.stringify(path)} contains whitespace or control characters`);
    const request = this.#requestBytes(method, path, payload);
    const connection = this.#idle.pop() ?? this.#open();
    try {
      return await connection.send(request, method, errorBodyLimit, exchange);
    } catch (error) {
      const retry = connection.reused && (method === 'GET' || method === 'HEAD') && connection.receivedNothing && isStaleConnectionError(error) && !exchange.timedOut;
      if (!retry) throw error;
      return this.#open().send(request, method, errorBodyLimit, exchange);
    }
  }

  /** Closes every connection, idle or busy. */
  destroy(): void {
    for (const connection of this.#all) connection.destroy();
    this.#all.clear();
    this.#idle.length = 0;
  }

  #requestBytes(method: string, path: string, payload: string | undefined): Buffer {
    let head = `${method} ${path} HTTP/1.1\r\nHost: ${this.#target.hostHeader}\r\n`;
    if (payload !== undefined) head += `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(payload)}\r\n\r\n`;
    else if (method === 'POST' || method === 'DELETE') head += 'Content-Length: 0\r\n\r\n';
    else head += '\r\n';
    return payload === undefined ? Buffer.from(head, 'latin1') : Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from(payload, 'utf8')]);
  }

  #open(): Http1Connection {
    const { socketPath, host, port } = this.#target;
    const socket = socketPath !== undefined ? connect(socketPath) : connect(port, host);
    const connection = new Http1Connection(socket, {
      onIdle: (idle) => {
        this.#idle.push(idle);
      },
      onClosed: (closed) => {
        this.#all.delete(closed);
        const index = this.#idle.indexOf(closed);
        if (index >= 0) this.#idle.splice(index, 1);
      },
    });
    this.#all.add(connection);
    return connection;
  }
}

interface PoolHooks {
  /** Called when the connection finished a response and can take the next request. */
  onIdle(connection: Http1Connection): void;
  /** Called once when the connection closed. */
  onClosed(connection: Http1Connection): void;
}

interface Pending {
  method: string;
  errorBodyLimit: number;
  resolve(response: Http1Response): void;
  reject(error: Error): void;
}

type Phase = 'head' | 'length' | 'chunk-size' | 'chunk-data' | 'chunk-end' | 'trailers' | 'until-close';

/** One socket and the parse of the response to the request in flight on it. */
class Http1Connection {
  /** True once a response has completed on this connection, so the next request reuses it. */
  reused = false;
  /** True until the first byte of the current response arrives. */
  receivedNothing = true;
  readonly #socket: Socket;
  readonly #hooks: PoolHooks;
  #pending: Pending | undefined;
  #closed = false;
  // Parse state of the current response.
  #buffer: Buffer = Buffer.alloc(0);
  #phase: Phase = 'head';
  #status = 0;
  #headers: IncomingHttpHeaders = {};
  #parts: Buffer[] = [];
  #bodyLength = 0;
  #remaining = 0;
  #limit = MAX_BODY_BYTES;
  #keepAlive = true;

  constructor(socket: Socket, hooks: PoolHooks) {
    this.#socket = socket;
    this.#hooks = hooks;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () => this.#onEnd());
    socket.on('error', (error) => this.#onClose(error));
    socket.on('close', () => this.#onClose(undefined));
  }

  send(request: Buffer, method: string, errorBodyLimit: number, exchange: Http1Exchange): Promise<Http1Response> {
    if (this.#closed) return Promise.reject(connectionClosed());
    return new Promise((resolve, reject) => {
      this.#pending = { method, errorBodyLimit, resolve, reject };
      this.#resetParse();
      this.receivedNothing = true;
      exchange.abort = () => this.destroy();
      this.#socket.ref();
      this.#socket.write(request);
    });
  }

  destroy(): void {
    this.#socket.destroy();
  }

  #resetParse(): void {
    this.#buffer = Buffer.alloc(0);
    this.#phase = 'head';
    this.#status = 0;
    this.#headers = {};
    this.#parts = [];
    this.#bodyLength = 0;
    this.#remaining = 0;
    this.#limit = MAX_BODY_BYTES;
    this.#keepAlive = true;
  }

  #onData(chunk: Buffer): void {
    if (this.#pending === undefined) {
      // Bytes while no request is in flight break the framing: drop the connection.
      this.destroy();
      return;
    }
    this.receivedNothing = false;
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    try {
      this.#parse();
    } catch (error) {
      this.#fail(error as Error);
      this.destroy();
    }
  }

  #onEnd(): void {
    if (this.#pending !== undefined && this.#phase === 'until-close') this.#finish(false);
  }

  #onClose(error: Error | undefined): void {
    if (!this.#closed) {
      this.#closed = true;
      this.#hooks.onClosed(this);
    }
    this.#fail(error ?? connectionClosed());
  }

  #fail(error: Error): void {
    const pending = this.#pending;
    this.#pending = undefined;
    pending?.reject(error);
  }

  /** Consumes as much of the buffer as the current phase allows. */
  #parse(): void {
    for (;;) {
      switch (this.#phase) {
        case 'head':
          if (!this.#parseHead()) return;
          break;
        case 'length': {
          const take = Math.min(this.#remaining, this.#buffer.length);
          if (take === 0 && this.#remaining > 0) return;
          this.#addBody(this.#buffer.subarray(0, take));
          this.#buffer = this.#buffer.subarray(take);
          this.#remaining -= take;
          if (this.#remaining > 0) return;
          this.#finish(false);
          return;
        }
        case 'chunk-size': {
          const end = this.#buffer.indexOf(CRLF);
          if (end < 0) {
            if (this.#buffer.length > 1024) throw new Http1ProtocolError('chunk size line longer than 1024 bytes');
            return;
          }
          const line = this.#buffer.toString('latin1', 0, end);
          const size = Number.parseInt(line, 16);
          if (!/^[0-9a-fA-F]+/.test(line) || !Number.isSafeInteger(size)) throw new Http1ProtocolError(`invalid chunk size line ${JSON.stringify(line.slice(0, 40))}`);
          this.#buffer = this.#buffer.subarray(end + CRLF.length);
          this.#remaining = size;
          this.#phase = size === 0 ? 'trailers' : 'chunk-data';
          break;
        }
        case 'chunk-data': {
          const take = Math.min(this.#remaining, this.#buffer.length);
          if (take === 0) return;
          this.#addBody(this.#buffer.subarray(0, take));
          this.#buffer = this.#buffer.subarray(take);
          this.#remaining -= take;
          if (this.#remaining > 0) return;
          this.#phase = 'chunk-end';
          break;
        }
        case 'chunk-end':
          if (this.#buffer.length < CRLF.length) return;
          if (!this.#buffer.subarray(0, CRLF.length).equals(CRLF)) throw new Http1ProtocolError('chunk data not followed by CRLF');
          this.#buffer = this.#buffer.subarray(CRLF.length);
          this.#phase = 'chunk-size';
          break;
        case 'trailers': {
          const end = this.#buffer.indexOf(CRLF);
          if (end < 0) return;
          this.#buffer = this.#buffer.subarray(end + CRLF.length);
          // An empty line ends the trailers, and with them the response.
          if (end === 0) {
            this.#finish(false);
            return;
          }
          break;
        }
        case 'until-close':
          this.#addBody(this.#buffer);
          this.#buffer = Buffer.alloc(0);
          return;
      }
      if (this.#pending === undefined) return;
    }
  }

  /** Parses the status line and headers once they have all arrived; returns false to wait for more. */
  #parseHead(): boolean {
    const end = this.#buffer.indexOf(HEAD_END);
    if (end < 0) {
      if (this.#buffer.length > MAX_HEAD_BYTES) throw new Http1ProtocolError(`response head longer than ${MAX_HEAD_BYTES} bytes`);
      return false;
    }
    const lines = this.#buffer.toString('latin1', 0, end).split('\r\n');
    this.#buffer = this.#buffer.subarray(end + HEAD_END.length);
    const statusLine = /^HTTP\/1\.([01]) (\d{3})(?: |$)/.exec(lines[0]!);
    if (!statusLine) throw new Http1ProtocolError(`invalid status line ${JSON.stringify(lines[0]!.slice(0, 40))}`);
    const status = Number(statusLine[2]);
    if (status >= 100 && status < 200) return true; // An interim response: the real one follows.

    const headers: IncomingHttpHeaders = {};
    for (let index = 1; index < lines.length; index++) {
      const line = lines[index]!;
      const colon = line.indexOf(':');
      if (colon <= 0) throw new Http1ProtocolError(`invalid header line ${JSON.stringify(line.slice(0, 40))}`);
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      const previous = headers[name];
      headers[name] = previous === undefined ? value : `${String(previous)}, ${value}`;
    }
    this.#status = status;
    this.#headers = headers;
    const connection = String(headers.connection ?? '').toLowerCase();
    this.#keepAlive = statusLine[1] === '1' ? connection !== 'close' : connection === 'keep-alive';
    const pending = this.#pending!;
    if (status < 200 || status >= 300) this.#limit = pending.errorBodyLimit;

    if (pending.method === 'HEAD' || status === 204 || status === 304) {
      this.#finish(false);
      return true;
    }
    if (String(headers['transfer-encoding'] ?? '').toLowerCase().includes('chunked')) {
      this.#phase = 'chunk-size';
    } else if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length']);
      if (!Number.isSafeInteger(length) || length < 0) throw new Http1ProtocolError(`invalid Content-Length ${JSON.stringify(headers['content-length'])}`);
      this.#phase = 'length';
      this.#remaining = length;
    } else {
      this.#phase = 'until-close';
      this.#keepAlive = false;
    }
    return true;
  }

  #addBody(part: Buffer): void {
    if (part.length === 0) return;
    const room = this.#limit - this.#bodyLength;
    if (part.length <= room) {
      this.#parts.push(part);
      this.#bodyLength += part.length;
      return;
    }
    if (this.#limit === MAX_BODY_BYTES) throw new Http1ProtocolError(`response body larger than ${MAX_BODY_BYTES} bytes`);
    // An error body past its limit: keep what fits and drop the rest with the connection.
    this.#parts.push(part.subarray(0, room));
    this.#bodyLength += room;
    this.#finish(true);
  }

  /** Resolves the pending request with the parsed response and returns the connection to the pool or closes it. */
  #finish(truncated: boolean): void {
    const pending = this.#pending;
    if (pending === undefined) return;
    this.#pending = undefined;
    const body = this.#parts.length === 1 ? this.#parts[0]! : Buffer.concat(this.#parts, this.#bodyLength);
    const reusable = this.#keepAlive && !truncated && this.#buffer.length === 0 && !this.#closed;
    const response: Http1Response = { status: this.#status, headers: this.#headers, body, truncated };
    this.#resetParse();
    if (reusable) {
      this.reused = true;
      this.#socket.unref();
      this.#hooks.onIdle(this);
    } else {
      this.destroy();
    }
    pending.resolve(response);
  }
}

function connectionClosed(): Error {
  return Object.assign(new Error('the Docker daemon closed the connection before the response ended'), { code: 'ECONNRESET' });
}

/** Returns true for the errors by which a reused keep-alive connection shows that the daemon closed it first. */
export function isStaleConnectionError(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' && STALE_CONNECTION_CODES.has(code);
}
