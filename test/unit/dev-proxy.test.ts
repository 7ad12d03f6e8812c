/**
 * The development-container proxy against a fake monitor: node:http servers on
 * 127.0.0.1 port 0 that record each forwarded request. Fallback tests use a
 * real MountStore in a temp folder and a monitor port that nothing listens on.
 * The process tests run servers/dev-proxy/main.ts as a child process.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { Agent, createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { MountStore } from '../../lib/store/index.js';
import { createHostPathPolicy } from '../../lib/validation/index.js';
import { createDevProxyHandler, type DevProxyOptions } from '../../servers/dev-proxy/handler.js';
import { listen, send, sendJson } from '../helpers/http.js';
import { collect, logMessages, spawnServer, waitForLog } from '../helpers/process.js';
import { freePort } from '../helpers/stack.js';

interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

interface MonitorReply {
  status: number;
  body: string;
  contentType?: string;
  /** Milliseconds to wait before sending the reply. */
  delayMs?: number;
}

interface FakeMonitor {
  /** Base URL of the fake monitor's API, as MONITOR_API takes it. */
  api: string;
  requests: RecordedRequest[];
  /** Builds the reply to each request. Tests replace it. */
  reply: (request: RecordedRequest) => MonitorReply;
}

const okEnvelope = JSON.stringify({ success: true, message: 'ok', data: null });

async function fakeMonitor(t: TestContext, reply: FakeMonitor['reply'] = () => ({ status: 200, body: okEnvelope })): Promise<FakeMonitor> {
  const monitor: FakeMonitor = { api: '', requests: [], reply };
  const server = createServer((incoming, response) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const recorded = { method: incoming.method ?? '', url: incoming.url ?? '', headers: incoming.headers, body: Buffer.concat(chunks) };
      monitor.requests.push(recorded);
      const answer = monitor.reply(recorded);
      const send = () => {
        response.writeHead(answer.status, { 'content-type': answer.contentType ?? 'application/json; charset=utf-8' });
        response.end(answer.body);
      };
      if (answer.delayMs) setTimeout(send, answer.delayMs);
      else send();
    });
  });
  monitor.api = `${await listen(t, server)}/api`;
  return monitor;
}

/** Returns a monitor API URL on a 127.0.0.1 port that nothing listens on. */
async function closedMonitorApi(): Promise<string> {
  return `http://127.0.0.1:${await freePort()}/api`;
}

/** Serves the proxy handler on 127.0.0.1 and returns its base URL. */
async function startProxy(t: TestContext, options: DevProxyOptions): Promise<string> {
  const handler = createDevProxyHandler(options);
  t.after(() => handler.close());
  return listen(t, createServer((req, res) => handler(req, res)));
}

/** Sends one request with node:http, so the path goes out exactly as written, and reads the whole reply. */
async function tempStore(t: TestContext): Promise<{ store: MountStore; file: string }> {
  const folder = await mkdtemp(join(tmpdir(), 'mount-core-proxy-'));
  t.after(() => rm(folder, { recursive: true, force: true }));
  const file = join(folder, 'mounts.json');
  return { store: new MountStore({ file, workspaceRoot: '/workspace', lockTimeoutMs: 2000 }), file };
}

/** Starts a proxy in fallback mode whose monitor is unreachable. */
async function fallbackProxy(t: TestContext): Promise<{ proxy: string; store: MountStore; file: string }> {
  const { store, file } = await tempStore(t);
  const proxy = await startProxy(t, {
    monitorApi: await closedMonitorApi(),
    fallback: { store, policy: createHostPathPolicy({}), workspaceRoot: '/workspace' },
  });
  return { proxy, store, file };
}

const mountBody = { user_id: 'u1', workspace_id: 'ws1', local_path: '/home/dev/projects/app' };

const relayedRoutes = [
  { method: 'POST', path: '/api/mounts/mount', monitor: 'POST /api/mounts', status: 202 },
  { method: 'GET', path: '/api/mounts/mounts', monitor: 'GET /api/mounts', status: 200 },
  { method: 'GET', path: '/api/mounts/mount/u1/ws1', monitor: 'GET /api/mounts/u1/ws1', status: 404 },
  { method: 'DELETE', path: '/api/mounts/mount/u1/ws1', monitor: 'DELETE /api/mounts/u1/ws1', status: 409 },
  { method: 'POST', path: '/api/mounts/restart', monitor: 'POST /api/restart', status: 502 },
  { method: 'GET', path: '/api/mounts/operations/op_0123456789ab', monitor: 'GET /api/operations/op_0123456789ab', status: 201 },
];

for (const route of relayedRoutes) {
  test(`${route.method} ${route.path} relays to ${route.monitor}`, async (t) => {
    // Spaces and key order that a re-serialisation would change, so only a byte-for-byte relay passes.
    const monitorBody = `{ "success" : false, "message": "from ${route.monitor}", "data": {"z": 1, "a": [2, 1]}, "code": "X" }`;
    const monitor = await fakeMonitor(t, () => ({ status: route.status, body: monitorBody }));
    const proxy = await startProxy(t, { monitorApi: monitor.api });

    const requestBody = route.method === 'POST' ? JSON.stringify(mountBody) : undefined;
    const headers: Record<string, string> = requestBody ? { 'content-type': 'application/json' } : {};
    const reply = await send(proxy, route.method, route.path, { body: requestBody, headers });

    assert.equal(monitor.requests.length, 1);
    const forwarded = monitor.requests[0]!;
    assert.equal(`${forwarded.method} ${forwarded.url}`, route.monitor);
    assert.equal(forwarded.body.toString('utf8'), requestBody ?? '');
    if (requestBody) assert.equal(forwarded.headers['content-type'], 'application/json');
    assert.equal(reply.status, route.status);
    assert.equal(reply.text, monitorBody);
    assert.equal(reply.headers['content-type'], 'application/json; charset=utf-8');
  });
}

test('test-monitor calls GET /api/health', async (t) => {
  const monitor = await fakeMonitor(t);
  const proxy = await startProxy(t, { monitorApi: monitor.api });
  await send(proxy, 'GET', '/api/mounts/test-monitor');
  assert.deepEqual(
    monitor.requests.map((r) => `${r.method} ${r.url}`),
    ['GET /api/health'],
  );
});

test('token goes out as bearer', async (t) => {
  const monitor = await fakeMonitor(t);
  const proxy = await startProxy(t, { monitorApi: monitor.api, token: 's3cret-token' });
  await send(proxy, 'GET', '/api/mounts/mounts', { headers: { authorization: 'Bearer client-token' } });
  await send(proxy, 'GET', '/api/mounts/test-monitor');
  assert.equal(monitor.requests.length, 2);
  for (const forwarded of monitor.requests) assert.equal(forwarded.headers.authorization, 'Bearer s3cret-token');
});

test('no token sends no authorization', async (t) => {
  const monitor = await fakeMonitor(t);
  const proxy = await startProxy(t, { monitorApi: monitor.api });
  await send(proxy, 'GET', '/api/mounts/mounts', { headers: { authorization: 'Bearer client-token' } });
  assert.equal(monitor.requests.length, 1);
  assert.equal(monitor.requests[0]!.headers.authorization, undefined);
});

test('accept-language is forwarded', async (t) => {
  const monitor = await fakeMonitor(t);
  const proxy = await startProxy(t, { monitorApi: monitor.api });
  await send(proxy, 'GET', '/api/mounts/mounts', { headers: { 'accept-language': 'en-GB,en;q=0.8' } });
  assert.equal(monitor.requests.length, 1);
  assert.equal(monitor.requests[0]!.headers['accept-language'], 'en-GB,en;q=0.8');
});

test('wait query is not forwarded', async (t) => {
  const monitor = await fakeMonitor(t, () => ({ status: 202, body: okEnvelope }));
  const proxy = await startProxy(t, { monitorApi: monitor.api });
  const reply = await sendJson(proxy, 'POST', '/api/mounts/mount?wait=true', mountBody);
  await send(proxy, 'DELETE', '/api/mounts/mount/u1/ws1?wait=true');
  await send(proxy, 'POST', '/api/mounts/restart?wait=true');
  assert.equal(reply.status, 202);
  assert.deepEqual(
    monitor.requests.map((r) => `${r.method} ${r.url}`),
    ['POST /api/mounts', 'DELETE /api/mounts/u1/ws1', 'POST /api/restart'],
  );
});

test('encoded ids stay encoded', async (t) => {
  const monitor = await fakeMonitor(t);
  const proxy = await startProxy(t, { monitorApi: monitor.api });
  await send(proxy, 'GET', '/api/mounts/mount/a%2Fb/ws%20one');
  await send(proxy, 'DELETE', '/api/mounts/mount/a%2Fb/c%3Fd');
  await send(proxy, 'GET', '/api/mounts/operations/op%2F1');
  assert.deepEqual(
    monitor.requests.map((r) => `${r.method} ${r.url}`),
    ['GET /api/mounts/a%2Fb/ws%20one', 'DELETE /api/mounts/a%2Fb/c%3Fd', 'GET /api/operations/op%2F1'],
  );
});

test('unreachable monitor is 503 with url', async (t) => {
  const api = await closedMonitorApi();
  const proxy = await startProxy(t, { monitorApi: api });
  for (const [method, path] of [
    ['GET', '/api/mounts/mounts'],
    ['GET', '/api/mounts/mount/u1/ws1'],
    ['DELETE', '/api/mounts/mount/u1/ws1'],
    ['POST', '/api/mounts/restart'],
    ['GET', '/api/mounts/operations/op_1'],
  ] as const) {
    const reply = await send(proxy, method, path);
    assert.equal(reply.status, 503, `${method} ${path}`);
    assert.equal(reply.body.code, 'MONITOR_UNAVAILABLE', `${method} ${path}`);
    assert.equal(reply.body.success, false, `${method} ${path}`);
    assert.equal(reply.body.data.url, api, `${method} ${path}`);
  }
  const post = await sendJson(proxy, 'POST', '/api/mounts/mount', mountBody);
  assert.equal(post.status, 503);
  assert.equal(post.body.code, 'MONITOR_UNAVAILABLE');
  assert.equal(post.body.data.url, api);
});

test('test-monitor reports connected', async (t) => {
  const monitor = await fakeMonitor(t);
  const proxy = await startProxy(t, { monitorApi: monitor.api });
  const reply = await send(proxy, 'GET', '/api/mounts/test-monitor');
  assert.equal(reply.status, 200);
  assert.equal(reply.body.success, true);
  assert.equal(reply.body.data.status, 'connected');
  assert.equal(reply.body.data.api_url, monitor.api);
  assert.equal(reply.body.message, '监控API可用');
});

test('test-monitor speaks english on request', async (t) => {
  const monitor = await fakeMonitor(t);
  const proxy = await startProxy(t, { monitorApi: monitor.api });
  const reply = await send(proxy, 'GET', '/api/mounts/test-monitor', { headers: { 'accept-language': 'en' } });
  assert.equal(reply.status, 200);
  assert.equal(reply.body.data.status, 'connected');
  assert.notEqual(reply.body.message, '监控API可用');
  assert.match(reply.body.message, /^[\x20-\x7e]+$/);
});

test('test-monitor reports an unhealthy monitor', async (t) => {
  const monitor = await fakeMonitor(t, () => ({ status: 503, body: okEnvelope }));
  const proxy = await startProxy(t, { monitorApi: monitor.api });
  const reply = await send(proxy, 'GET', '/api/mounts/test-monitor');
  assert.equal(reply.status, 503);
  assert.equal(reply.body.success, false);
  assert.equal(reply.body.code, 'MONITOR_UNAVAILABLE');
  assert.equal(reply.body.data.status, 'disconnected');
  assert.equal(reply.body.data.api_url, monitor.api);
});

test('test-monitor reports an unreachable monitor', async (t) => {
  const api = await closedMonitorApi();
  const proxy = await startProxy(t, { monitorApi: api });
  const reply = await send(proxy, 'GET', '/api/mounts/test-monitor');
  assert.equal(reply.status, 503);
  assert.equal(reply.body.code, 'MONITOR_UNAVAILABLE');
  assert.equal(reply.body.data.status, 'disconnected');
  assert.equal(reply.body.data.api_url, api);
});

test('fallback post saves pending', async (t) => {
  const { proxy, store } = await fallbackProxy(t);
  const reply = await sendJson(proxy, 'POST', '/api/mounts/mount', mountBody);
  assert.equal(reply.status, 202);
  assert.equal(reply.body.success, true);
  assert.equal(reply.body.data.operation, null);
  assert.equal(reply.body.data.mount.state, 'pending');
  assert.equal(reply.body.data.mount.container_path, '/workspace/u1/ws1');

  const saved = await store.get('u1', 'ws1');
  assert.equal(saved?.state, 'pending');
  assert.equal(saved?.local_path, '/home/dev/projects/app');

  const again = await sendJson(proxy, 'POST', '/api/mounts/mount', mountBody);
  assert.equal(again.status, 200);
  assert.equal(again.body.data.operation, null);
  assert.equal((await store.read()).revision, 1);
});

test('fallback get reads the store', async (t) => {
  const { proxy, store } = await fallbackProxy(t);
  await store.upsert({ ...mountBody, container_path: '/workspace/u1/ws1', description: 'app', read_only: true });
  await store.upsert({ user_id: 'u2', workspace_id: 'ws9', local_path: '/home/dev/b', container_path: '/workspace/u2/ws9', description: '', read_only: false });

  const list = await send(proxy, 'GET', '/api/mounts/mounts');
  assert.equal(list.status, 200);
  assert.equal(list.body.data.revision, 2);
  assert.deepEqual(
    list.body.data.mounts.map((m: { user_id: string; workspace_id: string }) => `${m.user_id}/${m.workspace_id}`),
    ['u1/ws1', 'u2/ws9'],
  );

  const fetched = await send(proxy, 'GET', '/api/mounts/mount/u1/ws1');
  assert.equal(fetched.status, 200);
  assert.equal(fetched.body.data.mount.local_path, '/home/dev/projects/app');
  assert.equal(fetched.body.data.mount.read_only, true);

  const missing = await send(proxy, 'GET', '/api/mounts/mount/u1/nope');
  assert.equal(missing.status, 404);
  assert.equal(missing.body.code, 'MOUNT_NOT_FOUND');
});

test('fallback delete removes', async (t) => {
  const { proxy, store } = await fallbackProxy(t);
  await store.upsert({ ...mountBody, container_path: '/workspace/u1/ws1', description: '', read_only: false });

  const reply = await send(proxy, 'DELETE', '/api/mounts/mount/u1/ws1');
  assert.equal(reply.status, 202);
  assert.equal(reply.body.data.operation, null);
  assert.equal(await store.get('u1', 'ws1'), undefined);

  const again = await send(proxy, 'DELETE', '/api/mounts/mount/u1/ws1');
  assert.equal(again.status, 404);
  assert.equal(again.body.code, 'MOUNT_NOT_FOUND');
});

test('fallback keeps the path policy', async (t) => {
  const { proxy, store, file } = await fallbackProxy(t);
  await store.upsert({ ...mountBody, container_path: '/workspace/u1/ws1', description: '', read_only: false });
  const before = await readFile(file);

  for (const localPath of ['/etc', '/var/run/docker.sock', '/', '/var/run', '/run', '/root', '/var/lib/docker', '/proc']) {
    const reply = await sendJson(proxy, 'POST', '/api/mounts/mount', { user_id: 'u1', workspace_id: 'evil', local_path: localPath });
    assert.equal(reply.status, 403, localPath);
    assert.equal(reply.body.code, 'PATH_NOT_ALLOWED', localPath);
    assert.deepEqual(await readFile(file), before, localPath);
  }
  assert.equal(await store.get('u1', 'evil'), undefined);
});

test('fallback validates the body', async (t) => {
  const { proxy, store, file } = await fallbackProxy(t);
  await store.upsert({ ...mountBody, container_path: '/workspace/u1/ws1', description: '', read_only: false });
  const before = await readFile(file);

  const invalidJson = await send(proxy, 'POST', '/api/mounts/mount', { body: '{"user_id":', headers: { 'content-type': 'application/json' } });
  assert.equal(invalidJson.status, 400);
  assert.equal(invalidJson.body.code, 'INVALID_JSON');

  const plain = await send(proxy, 'POST', '/api/mounts/mount', { body: JSON.stringify(mountBody), headers: { 'content-type': 'text/plain' } });
  assert.equal(plain.status, 415);
  assert.equal(plain.body.code, 'UNSUPPORTED_MEDIA_TYPE');

  const badId = await sendJson(proxy, 'POST', '/api/mounts/mount', { ...mountBody, user_id: '..' });
  assert.equal(badId.status, 400);
  assert.equal(badId.body.code, 'INVALID_USER_ID');

  assert.deepEqual(await readFile(file), before);
});

test('fallback cannot restart or track', async (t) => {
  const { proxy } = await fallbackProxy(t);
  const restart = await send(proxy, 'POST', '/api/mounts/restart');
  assert.equal(restart.status, 503);
  assert.equal(restart.body.code, 'MONITOR_UNAVAILABLE');

  const operation = await send(proxy, 'GET', '/api/mounts/operations/op_0123456789ab');
  assert.equal(operation.status, 503);
  assert.equal(operation.body.code, 'MONITOR_UNAVAILABLE');
});

test('wrong method is 405 with allow', async (t) => {
  const monitor = await fakeMonitor(t);
  const proxy = await startProxy(t, { monitorApi: monitor.api });

  const put = await send(proxy, 'PUT', '/api/mounts/mount');
  assert.equal(put.status, 405);
  assert.equal(put.body.code, 'METHOD_NOT_ALLOWED');
  assert.equal(put.headers.allow, 'POST');

  const post = await send(proxy, 'POST', '/api/mounts/mount/u1/ws1');
  assert.equal(post.status, 405);
  assert.equal(post.headers.allow, 'GET, DELETE');

  assert.equal(monitor.requests.length, 0);
});

test('unknown route is 404', async (t) => {
  const monitor = await fakeMonitor(t);
  const proxy = await startProxy(t, { monitorApi: monitor.api });
  for (const path of ['/api/mounts/nope', '/api/mounts', '/api/mounts/mount/u1', '/elsewhere']) {
    const reply = await send(proxy, 'GET', path);
    assert.equal(reply.status, 404, path);
    assert.equal(reply.body.code, 'ROUTE_NOT_FOUND', path);
  }
  assert.equal(monitor.requests.length, 0);
});

test('oversized body is 413', async (t) => {
  const monitor = await fakeMonitor(t);
  const proxy = await startProxy(t, { monitorApi: monitor.api, bodyLimit: 1024 });
  const headers = { 'content-type': 'application/json' };

  const declared = await send(proxy, 'POST', '/api/mounts/mount', { body: Buffer.alloc(2048, 0x20), headers });
  assert.equal(declared.status, 413);
  assert.equal(declared.body.code, 'BODY_TOO_LARGE');

  const chunked = await send(proxy, 'POST', '/api/mounts/mount', { chunks: [Buffer.alloc(800, 0x20), Buffer.alloc(800, 0x20)], headers });
  assert.equal(chunked.status, 413);
  assert.equal(chunked.body.code, 'BODY_TOO_LARGE');

  assert.equal(monitor.requests.length, 0);
});

test('default body limit is 16 KiB', async (t) => {
  const monitor = await fakeMonitor(t);
  const proxy = await startProxy(t, { monitorApi: monitor.api });
  const reply = await send(proxy, 'POST', '/api/mounts/mount', { body: Buffer.alloc(16 * 1024 + 1, 0x20), headers: { 'content-type': 'application/json' } });
  assert.equal(reply.status, 413);
  assert.equal(reply.body.code, 'BODY_TOO_LARGE');
  assert.equal(monitor.requests.length, 0);
});

test('embedded handler passes other paths on', async (t) => {
  const monitor = await fakeMonitor(t, () => ({ status: 200, body: '{"success":true,"message":"list","data":{"mounts":[]}}' }));
  const handler = createDevProxyHandler({ monitorApi: monitor.api });
  t.after(() => handler.close());
  const app = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/status') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('app ok');
      return;
    }
    handler(req, res, () => {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('app not found');
    });
  });
  const base = await listen(t, app);

  const own = await send(base, 'GET', '/status');
  assert.equal(own.status, 200);
  assert.equal(own.text, 'app ok');

  const other = await send(base, 'GET', '/api/other');
  assert.equal(other.status, 404);
  assert.equal(other.text, 'app not found');

  const proxied = await send(base, 'GET', '/api/mounts/mounts');
  assert.equal(proxied.status, 200);
  assert.equal(proxied.body.message, 'list');

  const unknown = await send(base, 'GET', '/api/mounts/nope');
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.code, 'ROUTE_NOT_FOUND');

  assert.deepEqual(
    monitor.requests.map((r) => `${r.method} ${r.url}`),
    ['GET /api/mounts'],
  );
});

test('invalid monitor url throws config error', () => {
  assert.throws(() => createDevProxyHandler({ monitorApi: 'not a url' }), { code: 'CONFIG_INVALID' });
  assert.throws(() => createDevProxyHandler({ monitorApi: 'ftp://127.0.0.1/api' }), { code: 'CONFIG_INVALID' });
});

/** Variables the proxy reads; removed from the inherited environment so each test sets its own. */
const PROXY_VARIABLES = [
  'PORT', 'HOST', 'MONITOR_API', 'MONITOR_API_FALLBACK', 'MONITOR_TOKEN', 'MONITOR_TIMEOUT_MS', 'LANGUAGE', 'LOG_LEVEL',
  'WORKSPACE_ROOT', 'MOUNT_DATA_FILE', 'HOST_PATH_ALLOW', 'HOST_PATH_DENY', 'HOST_PATH_STYLE',
];

/** Runs the proxy against a monitor that responds after 500 ms, sends SIGTERM while a request is in flight, and returns the outcome. */
async function stopDuringRequest(t: TestContext, agent?: Agent) {
  const answer = '{"success":true,"message":"slow list","data":{"revision":3,"mounts":[]}}';
  const monitor = await fakeMonitor(t, () => ({ status: 200, body: answer, delayMs: 500 }));
  const port = await freePort();
  const child = spawnServer(t, 'servers/dev-proxy/main.ts', PROXY_VARIABLES, { PORT: String(port), HOST: '127.0.0.1', MONITOR_API: monitor.api });
  const exited = once(child, 'exit');
  const messages = logMessages(child);
  await waitForLog(child, messages, 'dev proxy started');

  const pending = send(`http://127.0.0.1:${port}`, 'GET', '/api/mounts/mounts', { agent });
  while (monitor.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(child.kill('SIGTERM'));

  const reply = await pending;
  const [code, signal] = await exited;
  return { answer, reply, code, signal, messages };
}

test('proxy finishes in-flight requests on sigterm', { timeout: 10_000 }, async (t) => {
  const { answer, reply, code, signal } = await stopDuringRequest(t);
  assert.equal(reply.status, 200);
  assert.equal(reply.text, answer);
  assert.equal(signal, null);
  assert.equal(code, 0);
});

test('proxy closes keep-alive connections on sigterm', { timeout: 10_000 }, async (t) => {
  const agent = new Agent({ keepAlive: true });
  t.after(() => agent.destroy());
  const { answer, reply, code, messages } = await stopDuringRequest(t, agent);
  assert.equal(reply.status, 200);
  assert.equal(reply.text, answer);
  assert.equal(reply.headers.connection, 'close');
  assert.equal(code, 0);
  assert.ok(messages.includes('dev proxy stopped'), messages.join('\n'));
  assert.ok(!messages.includes('dev proxy stopped with requests still open'), messages.join('\n'));
});

test('proxy rejects invalid port at start', { timeout: 10_000 }, async (t) => {
  const child = spawnServer(t, 'servers/dev-proxy/main.ts', PROXY_VARIABLES, { PORT: 'abc', HOST: '127.0.0.1', MONITOR_API: await closedMonitorApi() });
  const stderr = collect(child.stderr);
  const [code] = await once(child, 'exit');
  assert.notEqual(code, 0);
  const lines = stderr().trim().split('\n');
  assert.equal(lines.length, 1, stderr());
  assert.match(lines[0]!, /\bPORT\b/);
});

test('proxy rejects invalid path style', { timeout: 10_000 }, async (t) => {
  const folder = await mkdtemp(join(tmpdir(), 'mount-core-proxy-'));
  t.after(() => rm(folder, { recursive: true, force: true }));
  const child = spawnServer(t, 'servers/dev-proxy/main.ts', PROXY_VARIABLES, {
    PORT: String(await freePort()),
    HOST: '127.0.0.1',
    MONITOR_API: await closedMonitorApi(),
    MONITOR_API_FALLBACK: '1',
    MOUNT_DATA_FILE: join(folder, 'mounts.json'),
    HOST_PATH_STYLE: 'windws',
  });
  const stderr = collect(child.stderr);
  const [code] = await once(child, 'exit');
  assert.notEqual(code, 0);
  const lines = stderr().trim().split('\n');
  assert.equal(lines.length, 1, stderr());
  assert.match(lines[0]!, /\bHOST_PATH_STYLE\b/);
});
