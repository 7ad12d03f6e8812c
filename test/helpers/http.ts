/** HTTP helpers for tests: serve on 127.0.0.1 port 0 and send raw requests with node:http. */
import { request, type Agent, type IncomingHttpHeaders, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  body: any;
}

export interface SendOptions {
  headers?: Record<string, string | number>;
  body?: string | Buffer;
  /** Body parts written one by one without a Content-Length, so the request is chunked. */
  chunks?: Buffer[];
  /** Connection pool for the request. Default: a new connection closed after the reply. */
  agent?: Agent;
  /** Idle time after which the request fails, in milliseconds. Default: none. */
  timeoutMs?: number;
  /**
   * Ignores EPIPE and ECONNRESET while the body is sent: a server may reply (413, 408) and close
   * before it has read the whole body, and the reply still arrives. Default: false.
   */
  allowEarlyClose?: boolean;
}

/** Listens on 127.0.0.1 port 0, closes the server after the test, and returns its base URL. */
export async function listen(t: TestContext, server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export function send(base: string, method: string, path: string, options: SendOptions = {}): Promise<Reply> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const target = { host: hostname, port, method, path, headers: options.headers, agent: options.agent ?? false, timeout: options.timeoutMs };
    const outgoing = request(target, (incoming: IncomingMessage) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('error', reject);
      incoming.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          body = undefined;
        }
        resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, text, body });
      });
    });
    outgoing.on('timeout', () => outgoing.destroy(new Error(`${method} ${path} timed out`)));
    outgoing.on('error', (error: NodeJS.ErrnoException) => {
      if (options.allowEarlyClose && (error.code === 'EPIPE' || error.code === 'ECONNRESET')) return;
      reject(error);
    });
    if (options.chunks) {
      for (const chunk of options.chunks) outgoing.write(chunk);
      outgoing.end();
    } else {
      outgoing.end(options.body);
    }
  });
}

export function sendJson(base: string, method: string, path: string, value: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  return send(base, method, path, { body: JSON.stringify(value), headers: { 'content-type': 'application/json', ...headers } });
}

/** Sends `body` with `headers` as given, with a 10 s timeout and tolerating a server that closes early. */
export function sendRaw(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string | number> = {},
  body?: string | Buffer,
): Promise<Reply> {
  return send(base, method, path, { headers, body, timeoutMs: 15_000, allowEarlyClose: true });
}
