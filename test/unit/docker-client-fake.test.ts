/**
 * DockerClient against fake engines: node:http servers on a unix socket in a
 * temp folder or on 127.0.0.1 port 0. They produce the faults a real daemon
 * cannot produce on demand (old API versions, hung replies, huge or broken
 * error bodies, odd event chunking, dropped connections).
 */
import assert from 'node:assert/strict';
import diagnosticsChannel from 'node:diagnostics_channel';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { EngineError, MountCoreError } from '../../lib/errors.js';
import {
  DockerClient, ENGINE_CHANNEL_NAME, ERROR_BODY_LIMIT, type ContainerCreateBody, type DockerClientOptions, type DockerEvent, type EngineRequestMessage,
} from '../../lib/docker/index.js';

interface FakeRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** Number of the connection the request arrived on, counted from 1. */
  connection: number;
}

type Route = (request: FakeRequest, response: ServerResponse) => void | Promise<void>;

interface FakeEngine {
  host: string;
  requests: FakeRequest[];
  server: Server;
}

async function listen(server: Server, where: 'unix' | 'tcp', t: TestContext): Promise<string> {
  if (where === 'tcp') {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `tcp://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  const dir = await mkdtemp(join(tmpdir(), 'mount-core-fake-engine-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const socketPath = join(dir, 'docker.sock');
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return `unix://${socketPath}`;
}

/** Starts a fake engine that records every request and hands it to `route`. */
async function fakeEngine(t: TestContext, route: Route, where: 'unix' | 'tcp' = 'unix'): Promise<FakeEngine> {
  const requests: FakeRequest[] = [];
  const connections = new WeakMap<Socket, number>();
  const server = createServer((incoming, response) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const connection = connections.get(incoming.socket) ?? 0;
      const request = { method: incoming.method ?? '', url: incoming.url ?? '', headers: incoming.headers, body, connection };
      requests.push(request);
      void route(request, response);
    });
  });
  let connectionCount = 0;
  server.on('connection', (socket: Socket) => connections.set(socket, ++connectionCount));
  const host = await listen(server, where, t);
  t.after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { host, requests, server };
}

/** Responds to /_ping with an `API-Version: apiVersion` header (none for null) and passes other requests to `route`. */
function withPing(apiVersion: string | null, route: Route = (_request, response) => json(response, 200, {})): Route {
  return (request, response) => {
    if (request.url === '/_ping') {
      if (apiVersion !== null) response.setHeader('API-Version', apiVersion);
      response.setHeader('OSType', 'linux');
      response.setHeader('Content-Type', 'text/plain; charset=utf-8');
      response.end('OK');
      return;
    }
    return route(request, response);
  };
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'Content-Type': 'application/json' });
  response.end(JSON.stringify(body));
}

function client(t: TestContext, options: DockerClientOptions): DockerClient {
  const docker = new DockerClient(options);
  t.after(() => docker.close());
  return docker;
}

function paths(engine: FakeEngine): string[] {
  return engine.requests.map((request) => `${request.method} ${request.url}`);
}

async function rejection(promise: Promise<unknown>): Promise<MountCoreError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof MountCoreError, `expected a MountCoreError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the call to fail');
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

test('negotiates down to a 1.41 daemon', async (t) => {
  const engine = await fakeEngine(t, withPing('1.41', (_request, response) => json(response, 200, { Id: 'abc' })));
  const docker = client(t, { host: engine.host });
  assert.equal(await docker.apiVersion(), '1.41');
  await docker.containerInspect({ id: 'abc' });
  assert.deepEqual(paths(engine), ['GET /_ping', 'GET /v1.41/containers/abc/json']);
});

test('caps a newer daemon at max version', async (t) => {
  const engine = await fakeEngine(t, withPing('1.47'));
  const docker = client(t, { host: engine.host });
  await docker.info();
  assert.deepEqual(paths(engine), ['GET /_ping', 'GET /v1.45/info']);
});

test('honours a lower max version', async (t) => {
  const engine = await fakeEngine(t, withPing('1.45'));
  const docker = client(t, { host: engine.host, maxApiVersion: '1.43' });
  await docker.info();
  assert.equal(engine.requests[1]?.url, '/v1.43/info');
});

test('rejects a daemon below min version', async (t) => {
  const engine = await fakeEngine(t, withPing('1.40'));
  const docker = client(t, { host: engine.host });
  const error = await rejection(docker.containerInspect({ id: 'abc' }));
  assert.equal(error.code, 'ENGINE_VERSION_UNSUPPORTED');
  assert.equal(error.details.api_version, '1.40');
  assert.equal(error.details.min_api_version, '1.41');
  assert.deepEqual(paths(engine), ['GET /_ping']);
});

test('version order is numeric', async (t) => {
  const engine = await fakeEngine(t, withPing('1.9'));
  const docker = client(t, { host: engine.host });
  const error = await rejection(docker.apiVersion());
  assert.equal(error.code, 'ENGINE_VERSION_UNSUPPORTED');
});

test('falls back to /version without header', async (t) => {
  const engine = await fakeEngine(t, withPing(null, (request, response) => {
    if (request.url === '/version') return json(response, 200, { ApiVersion: '1.43', Version: '24.0.0' });
    return json(response, 200, {});
  }));
  const docker = client(t, { host: engine.host });
  await docker.info();
  assert.deepEqual(paths(engine), ['GET /_ping', 'GET /version', 'GET /v1.43/info']);
});

test('no version anywhere is an engine error', async (t) => {
  const engine = await fakeEngine(t, withPing(null, (_request, response) => json(response, 200, {})));
  const docker = client(t, { host: engine.host });
  const error = await rejection(docker.info());
  assert.equal(error.code, 'ENGINE_ERROR');
});

test('concurrent first calls share one ping', async (t) => {
  const engine = await fakeEngine(t, async (request, response) => {
    if (request.url === '/_ping') await delay(50);
    return withPing('1.44')(request, response);
  });
  const docker = client(t, { host: engine.host });
  await Promise.all([docker.info(), docker.info(), docker.containerList(), docker.apiVersion()]);
  assert.equal(engine.requests.filter((request) => request.url === '/_ping').length, 1);
});

test('failed negotiation is retried', async (t) => {
  let pings = 0;
  const engine = await fakeEngine(t, (request, response) => {
    if (request.url === '/_ping' && ++pings === 1) return json(response, 500, { message: 'starting up' });
    return withPing('1.44')(request, response);
  });
  const docker = client(t, { host: engine.host });
  const error = await rejection(docker.info());
  assert.equal(error.code, 'ENGINE_ERROR');
  await docker.info();
  assert.deepEqual(paths(engine), ['GET /_ping', 'GET /_ping', 'GET /v1.44/info']);
});

test('pinned version skips the ping', async (t) => {
  const engine = await fakeEngine(t, withPing('1.45'));
  const docker = client(t, { host: engine.host, apiVersion: '1.43' });
  await docker.info();
  assert.deepEqual(paths(engine), ['GET /v1.43/info']);
});

test('tcp docker host over 127.0.0.1', async (t) => {
  const engine = await fakeEngine(t, withPing('1.41', (_request, response) => json(response, 200, [{ Id: 'abc' }])), 'tcp');
  assert.match(engine.host, /^tcp:\/\/127\.0\.0\.1:\d+$/);
  const docker = client(t, { host: engine.host });
  const list = await docker.containerList({ all: true, filters: { label: ['a=b'] } });
  assert.equal(list[0]?.Id, 'abc');
  const url = new URL(engine.requests[1]?.url ?? '', 'http://x');
  assert.equal(url.pathname, '/v1.41/containers/json');
  assert.equal(url.searchParams.get('all'), 'true');
  assert.deepEqual(JSON.parse(url.searchParams.get('filters') ?? ''), { label: ['a=b'] });
});

test('hung response times out', async (t) => {
  const engine = await fakeEngine(t, withPing('1.45', () => undefined));
  const docker = client(t, { host: engine.host, timeoutMs: 200 });
  const started = Date.now();
  const error = await rejection(docker.containerInspect({ id: 'abc' }));
  assert.equal(error.code, 'ENGINE_TIMEOUT');
  assert.equal(error.details.method, 'GET');
  assert.equal(error.details.path, '/v1.45/containers/abc/json');
  assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
});

test('hung body times out', async (t) => {
  const engine = await fakeEngine(t, withPing('1.45', (_request, response) => {
    response.writeHead(200, { 'Content-Type': 'application/json' });
    response.write('{"Id":');
  }));
  const docker = client(t, { host: engine.host, timeoutMs: 200 });
  const error = await rejection(docker.containerInspect({ id: 'abc' }));
  assert.equal(error.code, 'ENGINE_TIMEOUT');
  // A timeout is never retried, even for a GET.
  assert.deepEqual(paths(engine), ['GET /_ping', 'GET /v1.45/containers/abc/json']);
});

test('slow body hits the total timeout', async (t) => {
  const engine = await fakeEngine(t, withPing('1.45', (_request, response) => {
    response.writeHead(200, { 'Content-Type': 'application/json' });
    response.write('[');
    // A byte every 50 ms keeps the connection busy, so only a limit on the whole request fires.
    const trickle = setInterval(() => response.write(' '), 50);
    response.on('close', () => clearInterval(trickle));
  }));
  const docker = client(t, { host: engine.host, timeoutMs: 300 });
  await docker.apiVersion();
  const started = Date.now();
  const error = await rejection(docker.containerList());
  const elapsed = Date.now() - started;
  assert.equal(error.code, 'ENGINE_TIMEOUT');
  assert.equal(error.details.timeout_ms, 300);
  assert.ok(elapsed >= 290, `failed after ${elapsed} ms, before the timeout`);
  assert.ok(elapsed < 2000, `took ${elapsed} ms`);
});

test('json error body gives engine error fields', async (t) => {
  const engine = await fakeEngine(t, withPing('1.45', (_request, response) => json(response, 500, { message: 'driver failed' })));
  const docker = client(t, { host: engine.host });
  const error = await rejection(docker.containerRename({ id: 'abc', name: 'new' }));
  assert.ok(error instanceof EngineError);
  assert.equal(error.code, 'ENGINE_ERROR');
  assert.equal(error.statusCode, 500);
  assert.equal(error.method, 'POST');
  assert.equal(error.path, '/v1.45/containers/abc/rename');
  assert.equal(error.daemonMessage, 'driver failed');
});

test('missing container is container not found', async (t) => {
  const engine = await fakeEngine(t, withPing('1.45', (_request, response) => json(response, 404, { message: 'No such container: abc' })));
  const docker = client(t, { host: engine.host });
  const error = await rejection(docker.containerInspect({ id: 'abc' }));
  assert.ok(error instanceof EngineError);
  assert.equal(error.code, 'CONTAINER_NOT_FOUND');
  assert.equal(error.statusCode, 404);
  assert.equal(error.daemonMessage, 'No such container: abc');
});

test('non-json error body is kept as text', async (t) => {
  const engine = await fakeEngine(t, withPing('1.45', (_request, response) => {
    response.writeHead(502, { 'Content-Type': 'text/html' });
    response.end('  <h1>Bad Gateway</h1>\n');
  }));
  const docker = client(t, { host: engine.host });
  const error = await rejection(docker.info());
  assert.ok(error instanceof EngineError);
  assert.equal(error.statusCode, 502);
  assert.equal(error.daemonMessage, '<h1>Bad Gateway</h1>');
});

test('empty error body names the status', async (t) => {
  const engine = await fakeEngine(t, withPing('1.45', (_request, response) => {
    response.writeHead(500);
    response.end();
  }));
  const docker = client(t, { host: engine.host });
  const error = await rejection(docker.info());
  assert.ok(error instanceof EngineError);
  assert.equal(error.statusCode, 500);
  assert.ok(error.daemonMessage.length > 0);
});

test('huge error body is read capped', async (t) => {
  let written = 0;
  const engine = await fakeEngine(t, withPing('1.45', (_request, response) => {
    response.writeHead(500, { 'Content-Type': 'application/json' });
    const chunk = Buffer.alloc(64 * 1024, 'x');
    response.write(`{"message":"`);
    const pump = (): void => {
      // Stops once the client drops the connection; 64 MiB otherwise.
      while (written < 64 * 1024 * 1024 && !response.destroyed) {
        written += chunk.length;
        if (!response.write(chunk)) return void response.once('drain', pump);
      }
      if (!response.destroyed) response.end('"}');
    };
    pump();
  }));
  const docker = client(t, { host: engine.host, timeoutMs: 5000 });
  const error = await rejection(docker.info());
  assert.ok(error instanceof EngineError);
  assert.equal(error.statusCode, 500);
  assert.ok(error.daemonMessage.length <= ERROR_BODY_LIMIT, `daemonMessage has ${error.daemonMessage.length} characters`);
  assert.ok(written < 64 * 1024 * 1024, 'the client stopped reading early');
});

test('missing socket is docker unavailable', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mount-core-no-engine-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const host = `unix://${join(dir, 'docker.sock')}`;
  const docker = client(t, { host });
  const error = await rejection(docker.ping());
  assert.equal(error.code, 'DOCKER_UNAVAILABLE');
  assert.equal(error.details.docker_host, host);
  assert.equal((error.cause as { code?: string } | undefined)?.code, 'ENOENT');
});

test('refused tcp connection is docker unavailable', async (t) => {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));

  const docker = client(t, { host: `tcp://127.0.0.1:${port}` });
  const error = await rejection(docker.containerInspect({ id: 'abc' }));
  assert.equal(error.code, 'DOCKER_UNAVAILABLE');
  assert.equal(error.details.docker_host, `tcp://127.0.0.1:${port}`);
  assert.ok(error.cause !== undefined);
  assert.equal(error.details.cause_code, 'ECONNREFUSED');
});

test('socket closed before response is docker unavailable', async (t) => {
  const engine = await fakeEngine(t, withPing('1.45', (_request, response) => {
    response.socket?.destroy();
  }));
  const docker = client(t, { host: engine.host });
  const error = await rejection(docker.containerStart({ id: 'abc' }));
  assert.equal(error.code, 'DOCKER_UNAVAILABLE');
  assert.ok(error.cause !== undefined);
});

/** Passes requests to `route`, except that the first `count` requests for `url` get their socket destroyed without a response. */
function resetting(url: string, count: number, route: Route): Route {
  let resets = 0;
  return (request, response) => {
    if (request.url === url && resets < count) {
      resets += 1;
      response.socket?.destroy();
      return;
    }
    return route(request, response);
  };
}

test('get retried on reset reused socket', async (t) => {
  const engine = await fakeEngine(t, withPing('1.45', resetting('/v1.45/info', 1, (_request, response) => json(response, 200, { ID: 'engine' }))));
  const docker = client(t, { host: engine.host });
  assert.deepEqual(await docker.info(), { ID: 'engine' });
  assert.deepEqual(engine.requests.map((request) => `${request.url} on ${request.connection}`), [
    '/_ping on 1',
    '/v1.45/info on 1',
    '/v1.45/info on 2',
  ]);
});

test('head retried on reset reused socket', async (t) => {
  const stat = Buffer.from(JSON.stringify({ name: 'x', size: 1, mode: 0o644, mtime: '2024-01-01T00:00:00Z', linkTarget: '' })).toString('base64');
  const engine = await fakeEngine(t, withPing('1.45', resetting('/v1.45/containers/abc/archive?path=%2Fx', 1, (_request, response) => {
    response.writeHead(200, { 'X-Docker-Container-Path-Stat': stat });
    response.end();
  })));
  const docker = client(t, { host: engine.host });
  assert.equal((await docker.containerArchiveStat({ id: 'abc', path: '/x' })).size, 1);
  assert.deepEqual(paths(engine).slice(1), ['HEAD /v1.45/containers/abc/archive?path=%2Fx', 'HEAD /v1.45/containers/abc/archive?path=%2Fx']);
});

test('get retried only once', async (t) => {
  let resetsLeft = 0;
  const engine = await fakeEngine(t, withPing('1.45', (_request, response) => {
    if (resetsLeft > 0) {
      resetsLeft -= 1;
      response.socket?.destroy();
      return;
    }
    json(response, 200, {});
  }));
  const docker = client(t, { host: engine.host });
  await docker.apiVersion();
  // Two concurrent requests leave two idle keep-alive sockets; the retry still takes a new connection.
  await Promise.all([docker.info(), docker.info()]);
  resetsLeft = 2;
  const error = await rejection(docker.info());
  assert.equal(error.code, 'DOCKER_UNAVAILABLE');
  assert.equal(error.details.cause_code, 'ECONNRESET');
  const attempts = engine.requests.slice(3);
  assert.deepEqual(attempts.map((request) => request.url), ['/v1.45/info', '/v1.45/info']);
  assert.ok([1, 2].includes(attempts[0]!.connection), 'the first attempt reuses an idle connection');
  assert.equal(attempts[1]!.connection, 3, 'the retry opens a new connection');
});

test('reset on a new socket is not retried', async (t) => {
  const engine = await fakeEngine(t, resetting('/_ping', 1, withPing('1.45')));
  const docker = client(t, { host: engine.host });
  const error = await rejection(docker.ping());
  assert.equal(error.code, 'DOCKER_UNAVAILABLE');
  assert.deepEqual(paths(engine), ['GET /_ping']);
});

test('post and delete not retried on reset', async (t) => {
  const engine = await fakeEngine(t, withPing('1.45', (request, response) => {
    if (request.url.endsWith('/info')) return json(response, 200, {});
    response.socket?.destroy();
  }));
  const docker = client(t, { host: engine.host });
  await docker.info();
  const started = await rejection(docker.containerStart({ id: 'abc' }));
  assert.equal(started.code, 'DOCKER_UNAVAILABLE');
  await docker.info();
  const removed = await rejection(docker.containerRemove({ id: 'abc' }));
  assert.equal(removed.code, 'DOCKER_UNAVAILABLE');
  assert.deepEqual(engine.requests.map((request) => `${request.method} ${request.url} on ${request.connection}`), [
    'GET /_ping on 1',
    'GET /v1.45/info on 1',
    'POST /v1.45/containers/abc/start on 1',
    'GET /v1.45/info on 2',
    'DELETE /v1.45/containers/abc on 2',
  ]);
});

test('start and stop 304 are idempotent', async (t) => {
  const engine = await fakeEngine(t, withPing('1.45', (_request, response) => {
    response.writeHead(304);
    response.end();
  }));
  const docker = client(t, { host: engine.host });
  assert.deepEqual(await docker.containerStart({ id: 'abc' }), { alreadyInState: true });
  assert.deepEqual(await docker.containerStop({ id: 'abc', timeoutSeconds: 3 }), { alreadyInState: true });
  assert.deepEqual(paths(engine).slice(1), ['POST /v1.45/containers/abc/start', 'POST /v1.45/containers/abc/stop?t=3']);
});

test('start and stop 204 change state', async (t) => {
  const engine = await fakeEngine(t, withPing('1.45', (_request, response) => {
    response.writeHead(204);
    response.end();
  }));
  const docker = client(t, { host: engine.host });
  assert.deepEqual(await docker.containerStart({ id: 'abc' }), { alreadyInState: false });
  assert.deepEqual(await docker.containerStop({ id: 'abc', timeoutSeconds: 0 }), { alreadyInState: false });
});

test('stop timeout extends the request timeout', async (t) => {
  const engine = await fakeEngine(t, withPing('1.45', async (_request, response) => {
    await delay(600);
    response.writeHead(204);
    response.end();
  }));
  const docker = client(t, { host: engine.host, timeoutMs: 200 });
  assert.deepEqual(await docker.containerStop({ id: 'abc', timeoutSeconds: 1 }), { alreadyInState: false });
  const error = await rejection(docker.containerStop({ id: 'abc', timeoutSeconds: 0 }));
  assert.equal(error.code, 'ENGINE_TIMEOUT');
});

test('remove 404 and in-progress 409 are idempotent', async (t) => {
  const answers: Array<[number, string]> = [
    [204, ''],
    [404, 'No such container: abc'],
    [409, 'removal of container abc is already in progress'],
    [409, 'You cannot remove a running container abc. Stop the container before attempting removal or force remove'],
  ];
  const engine = await fakeEngine(t, withPing('1.45', (_request, response) => {
    const [status, message] = answers.shift() ?? [500, 'unexpected'];
    if (status === 204) {
      response.writeHead(204);
      return void response.end();
    }
    json(response, status, { message });
  }));
  const docker = client(t, { host: engine.host });
  assert.deepEqual(await docker.containerRemove({ id: 'abc', force: true, volumes: true }), { alreadyInState: false });
  assert.deepEqual(await docker.containerRemove({ id: 'abc' }), { alreadyInState: true });
  assert.deepEqual(await docker.containerRemove({ id: 'abc' }), { alreadyInState: true });
  const error = await rejection(docker.containerRemove({ id: 'abc' }));
  assert.ok(error instanceof EngineError);
  assert.equal(error.statusCode, 409);
  assert.equal(engine.requests[1]?.url, '/v1.45/containers/abc?force=true&v=true');
});

test('create sends a json body', async (t) => {
  const engine = await fakeEngine(t, withPing('1.45', (_request, response) => json(response, 201, { Id: 'new', Warnings: [] })));
  const docker = client(t, { host: engine.host });
  const created = await docker.containerCreate({ name: 'dev next', body: { Image: 'local/busybox:test', HostConfig: { NetworkMode: 'none' } } });
  assert.deepEqual(created, { Id: 'new', Warnings: [] });
  const request = engine.requests[1];
  assert.equal(request?.url, '/v1.45/containers/create?name=dev+next');
  assert.equal(request?.headers['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(request?.body ?? ''), { Image: 'local/busybox:test', HostConfig: { NetworkMode: 'none' } });
});

test('ids are escaped as one path segment', async (t) => {
  const engine = await fakeEngine(t, withPing('1.45', (_request, response) => json(response, 200, { Id: 'x' })));
  const docker = client(t, { host: engine.host });
  await docker.containerInspect({ id: '../../images/x' });
  await docker.imageInspect({ id: 'local/busybox:test' });
  assert.deepEqual(paths(engine).slice(1), ['GET /v1.45/containers/..%2F..%2Fimages%2Fx/json', 'GET /v1.45/images/local%2Fbusybox%3Atest/json']);
});

test('network calls send their bodies', async (t) => {
  const engine = await fakeEngine(t, withPing('1.45', (_request, response) => {
    response.writeHead(200);
    response.end();
  }));
  const docker = client(t, { host: engine.host });
  await docker.networkConnect({ network: 'net1', container: 'abc', endpointConfig: { Aliases: ['dev'] } });
  await docker.networkDisconnect({ network: 'net1', container: 'abc', force: true });
  assert.deepEqual(JSON.parse(engine.requests[1]?.body ?? ''), { Container: 'abc', EndpointConfig: { Aliases: ['dev'] } });
  assert.deepEqual(JSON.parse(engine.requests[2]?.body ?? ''), { Container: 'abc', Force: true });
  assert.deepEqual(paths(engine).slice(1), ['POST /v1.45/networks/net1/connect', 'POST /v1.45/networks/net1/disconnect']);
});

test('archive stat decodes the mode bits', async (t) => {
  const stats: Record<string, object> = {
    '/dir': { name: 'dir', size: 4096, mode: 2 ** 31 + 0o755, mtime: '2024-01-01T00:00:00Z', linkTarget: '' },
    '/file': { name: 'file', size: 12, mode: 0o644, mtime: '2024-01-01T00:00:00Z', linkTarget: '' },
    '/link': { name: 'link', size: 4, mode: 2 ** 27 + 0o777, mtime: '2024-01-01T00:00:00Z', linkTarget: '/file' },
  };
  const engine = await fakeEngine(t, withPing('1.45', (request, response) => {
    const path = new URL(request.url, 'http://x').searchParams.get('path') ?? '';
    const stat = stats[path];
    if (stat === undefined) {
      response.writeHead(404);
      return void response.end();
    }
    response.writeHead(200, { 'X-Docker-Container-Path-Stat': Buffer.from(JSON.stringify(stat)).toString('base64') });
    response.end();
  }));
  const docker = client(t, { host: engine.host });

  const dir = await docker.containerArchiveStat({ id: 'abc', path: '/dir' });
  assert.equal(dir.isDirectory, true);
  assert.equal(dir.isSymbolicLink, false);
  assert.equal(dir.mode, 2 ** 31 + 0o755);
  const file = await docker.containerArchiveStat({ id: 'abc', path: '/file' });
  assert.equal(file.isDirectory, false);
  assert.equal(file.size, 12);
  const link = await docker.containerArchiveStat({ id: 'abc', path: '/link' });
  assert.equal(link.isSymbolicLink, true);
  assert.equal(link.linkTarget, '/file');
  assert.equal(engine.requests[1]?.method, 'HEAD');

  const error = await rejection(docker.containerArchiveStat({ id: 'abc', path: '/missing' }));
  assert.ok(error instanceof EngineError);
  assert.equal(error.statusCode, 404);
});

test('archive stat without header is an engine error', async (t) => {
  const engine = await fakeEngine(t, withPing('1.45', (_request, response) => {
    response.writeHead(200);
    response.end();
  }));
  const docker = client(t, { host: engine.host });
  const error = await rejection(docker.containerArchiveStat({ id: 'abc', path: '/x' }));
  assert.equal(error.code, 'ENGINE_ERROR');
});

/** Events whose names hold multi-byte characters, so that byte-level splits fall inside them. */
function sampleEvents(count: number): DockerEvent[] {
  return Array.from({ length: count }, (_, index) => ({
    Type: 'container',
    Action: index % 2 === 0 ? 'start' : 'die',
    Actor: { ID: `id${index}`, Attributes: { name: `dev-Ü-Δ-日本-🚀-${index}` } },
    scope: 'local',
    time: 1700000000 + index,
    timeNano: (1700000000 + index) * 1e9,
  }));
}

test('events survive arbitrary server writes', async (t) => {
  const expected = sampleEvents(25);
  const bytes = Buffer.from(expected.map((event) => `${JSON.stringify(event)}\n`).join(''));
  const engine = await fakeEngine(t, withPing('1.45', async (_request, response) => {
    response.writeHead(200, { 'Content-Type': 'application/json' });
    response.flushHeaders();
    let offset = 0;
    let size = 1;
    while (offset < bytes.length) {
      // Chunk sizes cycle through 1..13 bytes, so cuts land inside characters and across lines.
      response.write(bytes.subarray(offset, offset + size));
      offset += size;
      size = (size % 13) + 1;
      await delay(1);
    }
    response.end('{"Type":"container","Action":"trunc');
  }));
  const docker = client(t, { host: engine.host });
  const received: DockerEvent[] = [];
  for await (const event of docker.events()) received.push(event);
  assert.deepEqual(received, expected);
});

test('events query carries since until and filters', async (t) => {
  const engine = await fakeEngine(t, withPing('1.45', (_request, response) => {
    response.writeHead(200, { 'Content-Type': 'application/json' });
    response.end();
  }));
  const docker = client(t, { host: engine.host });
  const since = new Date(1700000000_250);
  for await (const event of docker.events({ since, until: 1700000100, filters: { container: ['abc'], type: ['container'] } })) {
    assert.fail(`unexpected event ${JSON.stringify(event)}`);
  }
  const url = new URL(engine.requests[1]?.url ?? '', 'http://x');
  assert.equal(url.pathname, '/v1.45/events');
  assert.equal(url.searchParams.get('since'), '1700000000.250000000');
  assert.equal(url.searchParams.get('until'), '1700000100.000000000');
  assert.deepEqual(JSON.parse(url.searchParams.get('filters') ?? ''), { container: ['abc'], type: ['container'] });
});

test('events have no idle timeout', async (t) => {
  const [event] = sampleEvents(1);
  const engine = await fakeEngine(t, withPing('1.45', async (_request, response) => {
    response.writeHead(200, { 'Content-Type': 'application/json' });
    response.flushHeaders();
    // The gap is four times the client timeout, so any limit on the body would fire first.
    await delay(600);
    response.end(`${JSON.stringify(event)}\n`);
  }));
  const docker = client(t, { host: engine.host, timeoutMs: 150 });
  const received: DockerEvent[] = [];
  for await (const item of docker.events()) received.push(item);
  assert.deepEqual(received, [event]);
});

test('events without headers time out', async (t) => {
  const engine = await fakeEngine(t, withPing('1.45', () => undefined));
  const docker = client(t, { host: engine.host, timeoutMs: 150 });
  const error = await rejection((async () => {
    for await (const event of docker.events()) assert.fail(`unexpected event ${JSON.stringify(event)}`);
  })());
  assert.equal(error.code, 'ENGINE_TIMEOUT');
});

test('aborting events ends iteration cleanly', async (t) => {
  const [first, second] = sampleEvents(2);
  const engine = await fakeEngine(t, withPing('1.45', (_request, response) => {
    response.writeHead(200, { 'Content-Type': 'application/json' });
    response.write(`${JSON.stringify(first)}\n`);
    setTimeout(() => {
      if (!response.destroyed) response.write(`${JSON.stringify(second)}\n`);
    }, 2000);
  }));
  const docker = client(t, { host: engine.host });
  const controller = new AbortController();
  const received: DockerEvent[] = [];
  const started = Date.now();
  for await (const event of docker.events({ signal: controller.signal })) {
    received.push(event);
    setTimeout(() => controller.abort(), 50);
  }
  assert.deepEqual(received, [first]);
  assert.ok(Date.now() - started < 1500, `took ${Date.now() - started} ms`);
});

test('abort before headers ends events', async (t) => {
  const engine = await fakeEngine(t, withPing('1.45', () => undefined));
  const docker = client(t, { host: engine.host, timeoutMs: 5000 });
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 50);
  const received: unknown[] = [];
  for await (const event of docker.events({ signal: controller.signal })) received.push(event);
  assert.deepEqual(received, []);

  const receivedAfterAbort: unknown[] = [];
  for await (const event of docker.events({ signal: AbortSignal.abort() })) receivedAfterAbort.push(event);
  assert.deepEqual(receivedAfterAbort, []);
});

test('close ends an open event stream', async (t) => {
  const [first] = sampleEvents(1);
  const engine = await fakeEngine(t, withPing('1.45', (_request, response) => {
    response.writeHead(200, { 'Content-Type': 'application/json' });
    response.write(`${JSON.stringify(first)}\n`);
  }));
  const docker = new DockerClient({ host: engine.host });
  const received: DockerEvent[] = [];
  for await (const event of docker.events()) {
    received.push(event);
    setTimeout(() => void docker.close(), 20);
  }
  assert.deepEqual(received, [first]);
});

test('close lets a request in flight finish', async (t) => {
  let received = (): void => undefined;
  const arrived = new Promise<void>((resolve) => {
    received = resolve;
  });
  const engine = await fakeEngine(t, withPing('1.45', async (_request, response) => {
    received();
    await delay(300);
    json(response, 200, { ID: 'engine' });
  }));
  const docker = new DockerClient({ host: engine.host });
  await docker.apiVersion();

  const info = docker.info();
  await arrived;
  let closeDone = false;
  const closed = docker.close().then(() => {
    closeDone = true;
  });
  const late = await rejection(docker.containerList());
  assert.equal(late.code, 'DOCKER_UNAVAILABLE');
  await delay(100);
  assert.equal(closeDone, false, 'close() resolved while the daemon still held the response');

  assert.deepEqual(await info, { ID: 'engine' });
  await closed;
  assert.deepEqual(paths(engine), ['GET /_ping', 'GET /v1.45/info']);
  // close() destroys the keep-alive sockets, so every connection on the server ends.
  let open = -1;
  for (let wait = 0; wait < 100 && open !== 0; wait++) {
    await delay(10);
    open = await new Promise<number>((resolve, reject) => engine.server.getConnections((error, count) => (error ? reject(error) : resolve(count))));
  }
  assert.equal(open, 0);
});

test('events error status is an engine error', async (t) => {
  const engine = await fakeEngine(t, withPing('1.45', (_request, response) => json(response, 400, { message: 'invalid filter' })));
  const docker = client(t, { host: engine.host });
  const error = await rejection((async () => {
    for await (const event of docker.events({ filters: { bogus: ['x'] } })) assert.fail(`unexpected event ${JSON.stringify(event)}`);
  })());
  assert.ok(error instanceof EngineError);
  assert.equal(error.statusCode, 400);
  assert.equal(error.daemonMessage, 'invalid filter');
});

test('event line that is not json is an engine error', async (t) => {
  const engine = await fakeEngine(t, withPing('1.45', (_request, response) => {
    response.writeHead(200, { 'Content-Type': 'application/json' });
    response.end('not json\n');
  }));
  const docker = client(t, { host: engine.host });
  const error = await rejection((async () => {
    for await (const event of docker.events()) assert.fail(`unexpected event ${JSON.stringify(event)}`);
  })());
  assert.equal(error.code, 'ENGINE_ERROR');
});

test('diagnostics publish one message per request', async (t) => {
  const messages: EngineRequestMessage[] = [];
  const subscriber = (message: unknown): void => void messages.push(message as EngineRequestMessage);
  diagnosticsChannel.subscribe(ENGINE_CHANNEL_NAME, subscriber);
  t.after(() => diagnosticsChannel.unsubscribe(ENGINE_CHANNEL_NAME, subscriber));

  const engine = await fakeEngine(t, withPing('1.45', (request, response) => {
    if (request.url.includes('missing')) return json(response, 404, { message: 'No such container: missing' });
    json(response, 200, { Id: 'abc' });
  }));
  const docker = client(t, { host: engine.host });
  await docker.containerInspect({ id: 'abc' });
  await rejection(docker.containerInspect({ id: 'missing' }));

  assert.equal(messages.length, 3);
  assert.deepEqual(messages.map((message) => [message.method, message.path, message.status]), [
    ['GET', '/_ping', 200],
    ['GET', '/v1.45/containers/abc/json', 200],
    ['GET', '/v1.45/containers/missing/json', 404],
  ]);
  for (const message of messages) assert.equal(typeof message.durationMs, 'number');
  assert.equal(messages[1]?.error, undefined);
  assert.equal((messages[2]?.error as MountCoreError | undefined)?.code, 'CONTAINER_NOT_FOUND');
});

test('invalid options fail before any request', async (t) => {
  const engine = await fakeEngine(t, withPing('1.45'));
  const invalid: Array<[string, DockerClientOptions]> = [
    ['host', { host: 'ssh://engine' }],
    ['host', { host: 42 as unknown as string }],
    ['timeoutMs', { host: engine.host, timeoutMs: 0 }],
    ['timeoutMs', { host: engine.host, timeoutMs: 1.5 }],
    ['timeoutMs', { host: engine.host, timeoutMs: 2 ** 31 }],
    ['timeoutMs', { host: engine.host, timeoutMs: '100' as unknown as number }],
    ['apiVersion', { host: engine.host, apiVersion: 'v1.41' }],
    ['apiVersion', { host: engine.host, apiVersion: '1.40' }],
    ['apiVersion', { host: engine.host, apiVersion: '1.46' }],
    ['maxApiVersion', { host: engine.host, maxApiVersion: 'latest' }],
    ['minApiVersion', { host: engine.host, minApiVersion: '1' }],
    ['minApiVersion', { host: engine.host, minApiVersion: '1.46' }],
  ];
  for (const [option, options] of invalid) {
    assert.throws(
      () => new DockerClient(options),
      (error: unknown) => error instanceof MountCoreError && error.code === 'CONFIG_INVALID' && error.details.option === option,
      JSON.stringify(options),
    );
  }
  assert.deepEqual(engine.requests, []);
});

test('invalid arguments fail before any request', async (t) => {
  const engine = await fakeEngine(t, withPing('1.45'));
  const docker = client(t, { host: engine.host });
  const calls: Array<[string, () => unknown]> = [
    ['id', () => docker.containerInspect({ id: '' })],
    ['id', () => docker.containerStart({ id: 42 as unknown as string })],
    ['timeoutSeconds', () => docker.containerStop({ id: 'abc', timeoutSeconds: -1 })],
    ['timeoutSeconds', () => docker.containerStop({ id: 'abc', timeoutSeconds: 1.5 })],
    ['timeoutSeconds', () => docker.containerRestart({ id: 'abc', timeoutSeconds: undefined as unknown as number })],
    ['name', () => docker.containerRename({ id: 'abc', name: '' })],
    ['body', () => docker.containerCreate({ body: null as unknown as ContainerCreateBody })],
    ['filters.label', () => docker.containerList({ filters: { label: 'a=b' as unknown as string[] } })],
    ['timeoutMs', () => docker.containerWait({ id: 'abc', timeoutMs: 0 })],
    ['path', () => docker.containerArchiveStat({ id: 'abc', path: '' })],
    ['since', () => docker.events({ since: new Date(Number.NaN) })],
    ['until', () => docker.events({ until: -5 })],
  ];
  for (const [option, call] of calls) {
    const error = await rejection((async () => call())());
    assert.equal(error.code, 'CONFIG_INVALID', option);
    assert.equal(error.details.option, option);
  }
  assert.deepEqual(engine.requests, []);
});
