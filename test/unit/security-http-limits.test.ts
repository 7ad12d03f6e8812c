/**
 * HTTP limits of both servers: body cap, media type, malformed requests,
 * the cap on mutations in flight, and the header and request timeouts that
 * cut off slow clients. Handlers run on 127.0.0.1 port 0; the timeout tests
 * run the mains as child processes with short timeouts.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { DockerClient } from '../../lib/docker/index.js';
import { MountCoreError } from '../../lib/errors.js';
import { Reconciler } from '../../lib/reconciler/reconciler.js';
import { MountStore } from '../../lib/store/index.js';
import { checkHostPath, createHostPathPolicy, managedTargetTest } from '../../lib/validation/index.js';
import { readRequestTimeouts, serverOptions } from '../../servers/common/http-server.js';
import { createLogger } from '../../servers/common/log.js';
import { createDevProxyHandler, type DevProxyOptions } from '../../servers/dev-proxy/handler.js';
import { createMonitorHandler } from '../../servers/monitor/app.js';
import { loadMonitorConfig } from '../../servers/monitor/config.js';
import { freePort, REPO_ROOT } from '../helpers/stack.js';
import { listen, sendRaw as send } from '../helpers/http.js';

async function tempFolder(t: TestContext): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), 'mc-security-limits-'));
  t.after(() => rm(folder, { recursive: true, force: true }));
  return folder;
}

/** Serves the monitor handler over a store in a temp folder and a Docker socket path that does not exist. */
async function startMonitor(t: TestContext, env: Record<string, string> = {}): Promise<{ base: string; store: MountStore; reconciler: Reconciler }> {
  const folder = await tempFolder(t);
  const config = loadMonitorConfig({
    MOUNT_DATA_FILE: join(folder, 'mounts.json'),
    COMPOSE_FILE: '',
    DOCKER_HOST: `unix://${join(folder, 'no-engine.sock')}`,
    ENGINE_TIMEOUT_MS: '2000',
    ...env,
  });
  const policy = createHostPathPolicy({ allow: config.hostPathAllow, deny: config.hostPathDeny });
  const store = new MountStore({ file: config.mountDataFile, workspaceRoot: config.workspaceRoot });
  const engine = new DockerClient({ host: config.dockerHost, timeoutMs: config.engineTimeoutMs });
  const isManaged = managedTargetTest(config.workspaceRoot);
  const reconciler = new Reconciler({ store, engine, container: config.devContainer, isManaged, checkMount: (m) => checkHostPath(m.local_path, policy), retryDelaysMs: [3_600_000] });
  t.after(async () => {
    reconciler.close();
    await engine.close();
  });
  const log = createLogger('monitor', 'error', () => undefined);
  const base = await listen(t, createServer(createMonitorHandler({ config, store, reconciler, engine, policy, isManaged, log })));
  return { base, store, reconciler };
}

async function startProxy(t: TestContext, options: Partial<DevProxyOptions> = {}): Promise<string> {
  const handler = createDevProxyHandler({ monitorApi: `http://127.0.0.1:${await freePort()}/api`, timeoutMs: 3000, ...options });
  t.after(() => handler.close());
  return listen(t, createServer((req, res) => handler(req, res)));
}

/** Opens a POST to `path` that declares a body and sends only part of it, so its handler waits. */
async function hangingPost(t: TestContext, base: string, path: string): Promise<Socket> {
  const { port } = new URL(base);
  const socket = connect(Number(port), '127.0.0.1');
  t.after(() => socket.destroy());
  await once(socket, 'connect');
  socket.write(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"user_id"`);
  return socket;
}

const json = { 'content-type': 'application/json' };

test('body over the cap is 413 on both servers', async (t) => {
  const monitor = await startMonitor(t);
  const proxy = await startProxy(t);
  const big = Buffer.alloc(20_000, 0x20);
  for (const [base, path] of [[monitor.base, '/api/mounts'], [proxy, '/api/mounts/mount']] as const) {
    const declared = await send(base, 'POST', path, { ...json, 'content-length': 10_000_000 }, Buffer.alloc(0));
    assert.equal(declared.status, 413, `${path} declared`);
    assert.equal(declared.body.code, 'BODY_TOO_LARGE');
    assert.equal(declared.headers.connection, 'close');
    const streamed = await send(base, 'POST', path, { ...json, 'transfer-encoding': 'chunked' }, big);
    assert.equal(streamed.status, 413, `${path} chunked`);
    assert.equal(streamed.body.code, 'BODY_TOO_LARGE');
  }
  assert.equal((await monitor.store.read()).revision, 0);
});

test('media type, JSON and shape errors', async (t) => {
  const { base, store, reconciler } = await startMonitor(t);
  const valid = JSON.stringify({ user_id: 'u1', workspace_id: 'ws1', local_path: '/home/dev/a' });
  const cases: Array<[string, Record<string, string>, string, number, string]> = [
    ['no content type', {}, valid, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['text/plain', { 'content-type': 'text/plain' }, valid, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['latin1 charset', { 'content-type': 'application/json; charset=latin1' }, valid, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['broken JSON', json, '{"user_id":', 400, 'INVALID_JSON'],
    ['array body', json, '[1,2]', 400, 'INVALID_FIELD'],
    ['duplicate key', json, valid.replace('{', '{"local_path":"/etc",'), 400, 'DUPLICATE_FIELD'],
    ['proto key', json, valid.replace('{', '{"__proto__":{"x":1},'), 400, 'UNKNOWN_FIELD'],
    ['constructor key', json, valid.replace('{', '{"constructor":{"prototype":{}},'), 400, 'UNKNOWN_FIELD'],
    ['wrong type', json, valid.replace('"u1"', '7'), 400, 'INVALID_USER_ID'],
    ['unknown field', json, valid.replace('{', '{"privileged":true,'), 400, 'UNKNOWN_FIELD'],
  ];
  for (const [name, headers, body, status, code] of cases) {
    const reply = await send(base, 'POST', '/api/mounts', headers, body);
    assert.equal(reply.status, status, name);
    assert.equal(reply.body.code, code, name);
    assert.equal(reply.body.success, false, name);
  }
  assert.equal((await store.read()).revision, 0);
  assert.equal(reconciler.status().running, undefined);
});

test('unknown route and wrong method', async (t) => {
  const { base } = await startMonitor(t);
  const missing = await send(base, 'GET', '/api/nothing');
  assert.equal(missing.status, 404);
  assert.equal(missing.body.code, 'ROUTE_NOT_FOUND');
  const wrong = await send(base, 'PUT', '/api/mounts');
  assert.equal(wrong.status, 405);
  assert.equal(wrong.body.code, 'METHOD_NOT_ALLOWED');
  assert.equal(wrong.headers.allow, 'GET, POST');
  const head = await send(base, 'HEAD', '/api/mounts/u1/ws1');
  assert.equal(head.status, 405);
  assert.equal(head.headers.allow, 'GET, DELETE');
});

test('monitor caps mutations in flight', async (t) => {
  const { base } = await startMonitor(t, { MAX_MUTATIONS_IN_FLIGHT: '3' });
  const held = [];
  for (let i = 0; i < 3; i++) held.push(await hangingPost(t, base, '/api/mounts'));
  await new Promise((resolve) => setTimeout(resolve, 200));

  for (const [method, path] of [['POST', '/api/mounts'], ['DELETE', '/api/mounts/u1/ws1'], ['POST', '/api/restart']] as const) {
    const refused = await send(base, method, path, json, method === 'POST' ? '{}' : undefined);
    assert.equal(refused.status, 429, `${method} ${path}`);
    assert.equal(refused.body.code, 'TOO_MANY_REQUESTS');
    assert.equal(refused.headers['retry-after'], '1');
    assert.equal(refused.body.data.limit, 3);
  }
  const read = await send(base, 'GET', '/api/mounts');
  assert.equal(read.status, 200, 'reads are not capped');

  for (const socket of held) socket.destroy();
  await new Promise((resolve) => setTimeout(resolve, 200));
  const after = await send(base, 'POST', '/api/mounts', json, '{}');
  assert.equal(after.status, 400, 'slots are released when connections close');
  assert.equal(after.body.code, 'MISSING_FIELD');
});

test('proxy caps mutations and relays retry-after', async (t) => {
  const proxy = await startProxy(t, { maxMutationsInFlight: 2 });
  const held = [await hangingPost(t, proxy, '/api/mounts/mount'), await hangingPost(t, proxy, '/api/mounts/mount')];
  await new Promise((resolve) => setTimeout(resolve, 200));
  const refused = await send(proxy, 'DELETE', '/api/mounts/mount/u1/ws1');
  assert.equal(refused.status, 429);
  assert.equal(refused.body.code, 'TOO_MANY_REQUESTS');
  assert.equal(refused.headers['retry-after'], '1');
  for (const socket of held) socket.destroy();

  const monitor = await startMonitor(t, { MAX_MUTATIONS_IN_FLIGHT: '1' });
  const forwarding = await startProxy(t, { monitorApi: `${monitor.base}/api` });
  const blocker = await hangingPost(t, monitor.base, '/api/mounts');
  await new Promise((resolve) => setTimeout(resolve, 200));
  const relayed = await send(forwarding, 'POST', '/api/mounts/mount', json, '{}');
  assert.equal(relayed.status, 429);
  assert.equal(relayed.body.code, 'TOO_MANY_REQUESTS');
  assert.equal(relayed.headers['retry-after'], '1');
  blocker.destroy();
});

test('timeouts are read and checked', () => {
  assert.deepEqual(readRequestTimeouts({}, { headersTimeoutMs: 10_000, requestTimeoutMs: 60_000 }), { headersTimeoutMs: 10_000, requestTimeoutMs: 60_000 });
  assert.deepEqual(readRequestTimeouts({ HEADERS_TIMEOUT_MS: '500', REQUEST_TIMEOUT_MS: '900' }, { headersTimeoutMs: 10_000, requestTimeoutMs: 60_000 }), {
    headersTimeoutMs: 500,
    requestTimeoutMs: 900,
  });
  for (const env of [{ HEADERS_TIMEOUT_MS: '2000', REQUEST_TIMEOUT_MS: '1000' }, { HEADERS_TIMEOUT_MS: '0' }, { REQUEST_TIMEOUT_MS: 'soon' }]) {
    assert.throws(() => readRequestTimeouts(env, { headersTimeoutMs: 10_000, requestTimeoutMs: 60_000 }), (error: unknown) => error instanceof MountCoreError && error.code === 'CONFIG_INVALID');
  }
  const options = serverOptions({ headersTimeoutMs: 500, requestTimeoutMs: 900 });
  assert.equal(options.headersTimeout, 500);
  assert.equal(options.requestTimeout, 900);
  assert.equal(options.connectionsCheckingInterval, 500);
  assert.equal(serverOptions({ headersTimeoutMs: 10_000, requestTimeoutMs: 60_000 }).connectionsCheckingInterval, 1000);
  const config = loadMonitorConfig({ HEADERS_TIMEOUT_MS: '700', REQUEST_TIMEOUT_MS: '800', MAX_MUTATIONS_IN_FLIGHT: '5' });
  assert.equal(config.headersTimeoutMs, 700);
  assert.equal(config.requestTimeoutMs, 800);
  assert.equal(config.maxMutationsInFlight, 5);
  assert.throws(() => loadMonitorConfig({ MAX_MUTATIONS_IN_FLIGHT: '0' }), { code: 'CONFIG_INVALID' });
});

/** Starts a server main with short timeouts and waits for its start line. */
async function startMain(t: TestContext, script: string, variables: Record<string, string>, startedMessage: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', HEADERS_TIMEOUT_MS: '500', REQUEST_TIMEOUT_MS: '1000', ...variables },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start: ${output}`)), 20_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (output.includes(`"message":"${startedMessage}"`)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code}`));
    });
  });
  return child;
}

/**
 * Connects and writes `head` first, then `drip` one byte every 100 ms, never
 * finishing the request. Returns how long the server kept the connection and
 * what it sent, or throws after `limitMs`.
 */
async function slowClient(port: number, head: string, drip: string, limitMs: number): Promise<{ elapsedMs: number; received: string }> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const started = Date.now();
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  socket.on('error', () => undefined);
  socket.write(head);
  let index = 0;
  const timer = setInterval(() => {
    if (!socket.destroyed && !socket.writableEnded) socket.write(drip[index++ % drip.length]!);
  }, 100);
  try {
    await Promise.race([
      once(socket, 'close'),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`connection still open after ${limitMs} ms`)), limitMs)),
    ]);
  } finally {
    clearInterval(timer);
    socket.destroy();
  }
  return { elapsedMs: Date.now() - started, received };
}

async function checkSlowClients(port: number, healthPath: string): Promise<void> {
  // Headers one byte at a time: cut at HEADERS_TIMEOUT_MS (500) plus at most one check interval.
  const headers = await slowClient(port, 'G', `ET ${healthPath} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ${'a'.repeat(200)}`, 9000);
  // The bound leaves room for a loaded machine and still lies far below the 10 s default.
  assert.ok(headers.elapsedMs < 5000, `slow headers kept for ${headers.elapsedMs} ms`);
  assert.match(headers.received, /^HTTP\/1\.1 408/);

  // Complete headers, then the body one byte at a time: cut at REQUEST_TIMEOUT_MS (1000).
  const head = 'POST /api/mounts HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n';
  const body = await slowClient(port, head, ' ', 10_000);
  assert.ok(body.elapsedMs < 6000, `slow body kept for ${body.elapsedMs} ms`);

  // Requests sent at normal speed are still served.
  const healthy = await send(`http://127.0.0.1:${port}`, 'GET', healthPath);
  assert.equal(healthy.status, 200);
}

test('monitor cuts off slow clients', { timeout: 60_000 }, async (t) => {
  const folder = await tempFolder(t);
  const port = await freePort();
  await startMain(t, 'servers/monitor/main.ts', {
    PORT: String(port),
    MOUNT_DATA_FILE: join(folder, 'mounts.json'),
    COMPOSE_FILE: '',
    DOCKER_HOST: `unix://${join(folder, 'no-engine.sock')}`,
    ENGINE_TIMEOUT_MS: '1000',
  }, 'monitor started');
  await checkSlowClients(port, '/api/health');
});

test('proxy cuts off slow clients', { timeout: 60_000 }, async (t) => {
  const port = await freePort();
  const monitor = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"success":true,"message":"ok","data":null}');
  });
  const monitorBase = await listen(t, monitor);
  await startMain(t, 'servers/dev-proxy/main.ts', { PORT: String(port), MONITOR_API: `${monitorBase}/api` }, 'dev proxy started');
  await checkSlowClients(port, '/api/mounts/test-monitor');
});

test('errors reveal no stack or file', async (t) => {
  const folder = await tempFolder(t);
  const config = loadMonitorConfig({ MOUNT_DATA_FILE: join(folder, 'mounts.json'), COMPOSE_FILE: '', DOCKER_HOST: `unix://${join(folder, 'x.sock')}` });
  const policy = createHostPathPolicy();
  const store = new MountStore({ file: config.mountDataFile, workspaceRoot: config.workspaceRoot });
  const engine = new DockerClient({ host: config.dockerHost, timeoutMs: 1000 });
  const isManaged = managedTargetTest(config.workspaceRoot);
  const reconciler = new Reconciler({ store, engine, container: config.devContainer, isManaged, retryDelaysMs: [3_600_000] });
  t.after(async () => {
    reconciler.close();
    await engine.close();
  });
  // A store whose reads fail with a plain Error stands for any fault inside a route.
  const broken = Object.create(store) as MountStore;
  broken.read = async () => {
    throw new Error(`cannot read ${join(REPO_ROOT, 'secret.txt')}: s3cr3t-contents`);
  };
  const handler = createMonitorHandler({ config, store: broken, reconciler, engine, policy, isManaged, log: createLogger('monitor', 'error', () => undefined) });
  const base = await listen(t, createServer(handler));
  const reply = await send(base, 'GET', '/api/mounts');
  assert.equal(reply.status, 500);
  assert.equal(reply.body.code, 'INTERNAL_ERROR');
  assert.doesNotMatch(reply.text, /s3cr3t|secret\.txt|\bat \S+ \(|\.ts:\d+/);
  assert.ok(!reply.text.includes(REPO_ROOT));
  assert.equal(await readFile(join(folder, 'mounts.json')).catch(() => 'absent'), 'absent');
});
