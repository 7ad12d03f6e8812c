/**
 * The small HTTP/1.1 client of lib/docker/http1.ts against a unix socket
 * server that writes each response byte for byte. The real daemon rarely
 * sends some framing cases: interim responses, trailers, a body that ends
 * with the connection, broken framing. These tests cover them.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { Http1Pool, type Http1Exchange } from '../../lib/docker/http1.js';

interface RawServer {
  pool: Http1Pool;
  /** Request heads received, in order, with the number of the connection each came on. */
  requests: Array<{ head: string; connection: number }>;
}

/** Serves `respond(requestHead, socket)` on a unix socket; each request head is read up to its blank line. */
async function rawServer(t: TestContext, respond: (head: string, socket: Socket) => void): Promise<RawServer> {
  const folder = await mkdtemp(join(tmpdir(), 'mount-core-http1-'));
  const socketPath = join(folder, 'engine.sock');
  const requests: RawServer['requests'] = [];
  let connections = 0;
  const server = createServer((socket) => {
    const connection = ++connections;
    let pending = '';
    socket.on('data', (chunk) => {
      pending += chunk.toString('latin1');
      for (let end = pending.indexOf('\r\n\r\n'); end >= 0; end = pending.indexOf('\r\n\r\n')) {
        const head = pending.slice(0, end);
        const length = Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (pending.length < end + 4 + length) return;
        pending = pending.slice(end + 4 + length);
        requests.push({ head, connection });
        respond(head, socket);
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  const pool = new Http1Pool({ socketPath, host: 'localhost', port: 80, hostHeader: 'docker' });
  t.after(async () => {
    pool.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(folder, { recursive: true, force: true });
  });
  return { pool, requests };
}

const exchange = (): Http1Exchange => ({ timedOut: false, abort: undefined });
const send = (server: RawServer, method = 'GET', path = '/x', payload?: string, errorLimit = 1024) =>
  server.pool.send(method, path, payload, errorLimit, exchange());

test('content-length body and reuse', async (t) => {
  const server = await rawServer(t, (_head, socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"ok":true}'));
  const first = await send(server);
  const second = await send(server);
  assert.equal(first.status, 200);
  assert.equal(first.headers['content-type'], 'application/json');
  assert.equal(first.body.toString(), '{"ok":true}');
  assert.equal(second.body.toString(), '{"ok":true}');
  assert.deepEqual(server.requests.map((request) => request.connection), [1, 1]);
  assert.match(server.requests[0]!.head, /^GET \/x HTTP\/1\.1\r\nHost: docker$/);
});

test('chunked body in pieces with trailers', async (t) => {
  const server = await rawServer(t, (_head, socket) => {
    socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nab');
    setTimeout(() => socket.write('cd\r\n3\r\nefg\r\n0\r\nX-Trailer: 1\r\n\r\n'), 20);
  });
  const response = await send(server);
  assert.equal(response.body.toString(), 'abcdefg');
  assert.equal((await send(server)).body.toString(), 'abcdefg');
  assert.deepEqual(server.requests.map((request) => request.connection), [1, 1]);
});

test('interim response is skipped', async (t) => {
  const server = await rawServer(t, (_head, socket) => socket.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok'));
  const response = await send(server, 'POST', '/create', '{}');
  assert.equal(response.status, 201);
  assert.equal(response.body.toString(), 'ok');
  assert.match(server.requests[0]!.head, /\r\nContent-Type: application\/json\r\nContent-Length: 2$/);
});

test('head, 204 and 304 have no body', async (t) => {
  const replies = ['HTTP/1.1 200 OK\r\nContent-Length: 500\r\nX-Stat: e30=\r\n\r\n', 'HTTP/1.1 204 No Content\r\n\r\n', 'HTTP/1.1 304 Not Modified\r\n\r\n'];
  const server = await rawServer(t, (_head, socket) => socket.write(replies.shift()!));
  const head = await send(server, 'HEAD');
  assert.equal(head.body.length, 0);
  assert.equal(head.headers['x-stat'], 'e30=');
  assert.equal((await send(server, 'POST')).status, 204);
  assert.equal((await send(server, 'POST')).status, 304);
  assert.deepEqual(server.requests.map((request) => request.connection), [1, 1, 1]);
  assert.match(server.requests[1]!.head, /\r\nContent-Length: 0$/);
});

test('body without length ends with the connection', async (t) => {
  const server = await rawServer(t, (_head, socket) => socket.end('HTTP/1.0 200 OK\r\n\r\nuntil close'));
  assert.equal((await send(server)).body.toString(), 'until close');
  assert.equal((await send(server)).body.toString(), 'until close');
  assert.deepEqual(server.requests.map((request) => request.connection), [1, 2]);
});

test('connection close is honoured', async (t) => {
  const server = await rawServer(t, (_head, socket) => socket.write('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx'));
  await send(server);
  await send(server);
  assert.deepEqual(server.requests.map((request) => request.connection), [1, 2]);
});

test('error body is cut at the limit', async (t) => {
  const server = await rawServer(t, (_head, socket) => socket.write(`HTTP/1.1 500 Internal Server Error\r\nContent-Length: 5000\r\n\r\n${'e'.repeat(5000)}`));
  const response = await send(server, 'GET', '/x', undefined, 100);
  assert.equal(response.status, 500);
  assert.equal(response.truncated, true);
  assert.equal(response.body.length, 100);
  await send(server, 'GET', '/x', undefined, 100);
  assert.deepEqual(server.requests.map((request) => request.connection), [1, 2], 'a cut body closes its connection');
});

test('broken framing is EPROTO', async (t) => {
  const replies = ['NOT HTTP\r\n\r\n', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n'];
  const server = await rawServer(t, (_head, socket) => socket.write(replies.shift()!));
  for (let index = 0; index < 3; index++) {
    await assert.rejects(send(server), (error: unknown) => (error as { code?: string }).code === 'EPROTO');
  }
});

test('request path with control characters is rejected', async (t) => {
  const server = await rawServer(t, () => undefined);
  await assert.rejects(send(server, 'GET', '/x\r\nInjected: 1'), TypeError);
  await assert.rejects(send(server, 'GET', '/x y'), TypeError);
  assert.equal(server.requests.length, 0);
});

test('abort closes the connection and rejects', async (t) => {
  const server = await rawServer(t, () => undefined);
  const call = exchange();
  const pending = server.pool.send('GET', '/slow', undefined, 1024, call);
  while (call.abort === undefined) await new Promise((resolve) => setTimeout(resolve, 5));
  call.timedOut = true;
  call.abort();
  await assert.rejects(pending, (error: unknown) => (error as { code?: string }).code === 'ECONNRESET');
});

test('missing socket is ENOENT', async () => {
  const pool = new Http1Pool({ socketPath: join(tmpdir(), 'mount-core-http1-missing', 'engine.sock'), host: 'localhost', port: 80, hostHeader: 'docker' });
  await assert.rejects(pool.send('GET', '/_ping', undefined, 1024, exchange()), (error: unknown) => (error as { code?: string }).code === 'ENOENT');
  pool.destroy();
});
