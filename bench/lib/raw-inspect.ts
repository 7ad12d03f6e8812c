/**
 * The minimum work a client can do for one container inspect: a request
 * written once as bytes on a kept unix socket, a response parsed only as far
 * as its length (Content-Length or chunked), and the body parsed as JSON. It
 * has no timeouts, no error mapping and no retries, so it is no product
 * client: it shows how fast any client could go against the same daemon.
 */
import { connect, type Socket } from 'node:net';

const HEADER_END = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');

/** One keep-alive connection that sends GET `path` and resolves with the parsed JSON body, one request at a time. */
export class RawInspectConnection {
  readonly #socket: Socket;
  readonly #request: Buffer;
  #buffer: Buffer = Buffer.alloc(0);
  #pending: { resolve: (value: unknown) => void; reject: (error: Error) => void } | undefined;
  /** True once the socket closed, for example when a server dropped it after an idle timeout. */
  closed = false;

  constructor(socketPath: string, path: string) {
    this.#request = Buffer.from(`GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`, 'latin1');
    this.#socket = connect(socketPath);
    this.#socket.on('data', (chunk: Buffer) => {
      this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
      this.#tryFinish();
    });
    this.#socket.on('error', (error) => this.#fail(error));
    this.#socket.on('close', () => {
      this.closed = true;
      this.#fail(new Error('the daemon closed the connection'));
    });
  }

  /** Sends the inspect and resolves with its parsed body. */
  inspect(): Promise<unknown> {
    if (this.#pending) return Promise.reject(new Error('a request is already in flight on this connection'));
    return new Promise((resolve, reject) => {
      this.#pending = { resolve, reject };
      this.#socket.write(this.#request);
    });
  }

  close(): void {
    this.#socket.destroy();
  }

  #fail(error: Error): void {
    const pending = this.#pending;
    this.#pending = undefined;
    pending?.reject(error);
  }

  /** Completes the pending request once the buffer contains a whole response. */
  #tryFinish(): void {
    const headerEnd = this.#buffer.indexOf(HEADER_END);
    if (headerEnd < 0) return;
    const head = this.#buffer.toString('latin1', 0, headerEnd);
    const status = Number(head.slice(9, 12));
    const bodyStart = headerEnd + HEADER_END.length;
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    let body: Buffer;
    let end: number;
    if (length) {
      end = bodyStart + Number(length[1]);
      if (this.#buffer.length < end) return;
      body = this.#buffer.subarray(bodyStart, end);
    } else if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
      const parts: Buffer[] = [];
      let offset = bodyStart;
      for (;;) {
        const lineEnd = this.#buffer.indexOf(CRLF, offset);
        if (lineEnd < 0) return;
        const size = Number.parseInt(this.#buffer.toString('latin1', offset, lineEnd), 16);
        const dataStart = lineEnd + CRLF.length;
        if (this.#buffer.length < dataStart + size + CRLF.length) return;
        if (size === 0) {
          end = dataStart + CRLF.length;
          break;
        }
        parts.push(this.#buffer.subarray(dataStart, dataStart + size));
        offset = dataStart + size + CRLF.length;
      }
      body = Buffer.concat(parts);
    } else {
      this.#fail(new Error(`response without a length: ${head.split('\r\n')[0]}`));
      return;
    }
    this.#buffer = this.#buffer.subarray(end);
    const pending = this.#pending;
    this.#pending = undefined;
    if (status !== 200) pending?.reject(new Error(`inspect returned ${status}`));
    else pending?.resolve(JSON.parse(body.toString('utf8')));
  }
}

/** Returns an inspect function over `count` raw connections, each used by one caller at a time. */
export function rawInspectPool(socketPath: string, path: string, count: number): { inspect: () => Promise<unknown>; close: () => void } {
  const idle = Array.from({ length: count }, () => new RawInspectConnection(socketPath, path));
  const all = [...idle];
  return {
    async inspect() {
      let connection = idle.pop();
      if (!connection) throw new Error(`more than ${count} inspects in flight`);
      // The stub daemon, a node:http server, closes connections left idle for 5 s between runs.
      if (connection.closed) {
        connection = new RawInspectConnection(socketPath, path);
        all.push(connection);
      }
      try {
        return await connection.inspect();
      } finally {
        idle.push(connection);
      }
    },
    close() {
      for (const connection of all) connection.close();
    },
  };
}
