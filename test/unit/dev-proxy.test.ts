/**
 * The development-container proxy against a fake monitor: node:http servers on
 * 127.0.0.1 port 0 that record each forwarded request. Fallback tests use a
 * real MountStore in a temp folder and a monitor port that nothing listens on.
 * The process tests run servers/dev-proxy/main.ts as a child process.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { Agent, createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { MountStore } from '../../lib/store/index.js';
import { createHostPathPolicy } from '../../lib/validation/index.js';
import { createDevProxyHandler, type DevProxyOptions } from '../../servers/dev-proxy/handler.js';
import { pathnameOf } from '../../servers/dev-proxy/path.js';
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

test('fallback serves reads from the store', async (t) => {
  const monitor = await fakeMonitor(t);
  const { store } = await tempStore(t);
  const proxy = await startProxy(t, { monitorApi: monitor.api, fallback: { store, policy: createHostPathPolicy({}), workspaceRoot: '/workspace' } });
  await store.upsert({ ...mountBody, container_path: '/workspace/u1/ws1', description: 'app', read_only: false });

  const list = await send(proxy, 'GET', '/api/mounts/mounts');
  const english = await send(proxy, 'GET', '/api/mounts/mounts', { headers: { 'accept-language': 'en' } });
  const fetched = await send(proxy, 'GET', '/api/mounts/mount/u1/ws1');
  const missing = await send(proxy, 'GET', '/api/mounts/mount/u1/nope');
  const invalid = await send(proxy, 'GET', '/api/mounts/mount/u1/bad%20id');
  assert.equal(monitor.requests.length, 0, 'no read reaches the monitor');

  assert.equal(list.status, 200);
  assert.equal(list.headers['cache-control'], 'no-store');
  assert.deepEqual(list.body.data, { revision: 1, mounts: (await store.read()).mounts });
  assert.match(list.body.message, /[\u4e00-\u9fff]/);
  assert.deepEqual(english.body.data, list.body.data);
  assert.doesNotMatch(english.body.message, /[\u4e00-\u9fff]/);
  assert.equal(fetched.status, 200);
  assert.equal(fetched.body.data.mount.description, 'app');
  assert.equal(missing.status, 404);
  assert.equal(missing.body.code, 'MOUNT_NOT_FOUND');
  assert.equal(invalid.status, 400);
  assert.equal(invalid.body.code, 'INVALID_WORKSPACE_ID');

  // Changes still go to the monitor.
  await sendJson(proxy, 'POST', '/api/mounts/mount', mountBody);
  assert.deepEqual(monitor.requests.map((request) => `${request.method} ${request.url}`), ['POST /api/mounts']);
});

test('empty store forwards reads', async (t) => {
  // A proxy whose MOUNT_DATA_FILE is not the monitor's store finds no file, so it must forward instead of listing nothing.
  const monitorList = JSON.stringify({ success: true, message: 'from the monitor', data: { revision: 4, mounts: [] } });
  const monitor = await fakeMonitor(t, () => ({ status: 200, body: monitorList }));
  const { store } = await tempStore(t);
  const proxy = await startProxy(t, { monitorApi: monitor.api, fallback: { store, policy: createHostPathPolicy({}), workspaceRoot: '/workspace' } });

  const list = await send(proxy, 'GET', '/api/mounts/mounts');
  assert.equal(list.text, monitorList);
  assert.deepEqual(monitor.requests.map((request) => `${request.method} ${request.url}`), ['GET /api/mounts']);

  await store.upsert({ ...mountBody, container_path: '/workspace/u1/ws1', description: '', read_only: false });
  const after = await send(proxy, 'GET', '/api/mounts/mounts');
  assert.equal(after.body.data.revision, 1);
  assert.equal(monitor.requests.length, 1, 'once the store has a revision, reads stay in the proxy');
});

test('fallback reads need the proxy token', async (t) => {
  const monitor = await fakeMonitor(t);
  const { store } = await tempStore(t);
  const proxy = await startProxy(t, {
    monitorApi: monitor.api,
    proxyToken: 'proxy-secret-1',
    fallback: { store, policy: createHostPathPolicy({}), workspaceRoot: '/workspace' },
  });
  await store.upsert({ ...mountBody, container_path: '/workspace/u1/ws1', description: '', read_only: false });
  const denied = await send(proxy, 'GET', '/api/mounts/mounts');
  assert.equal(denied.status, 401);
  const allowed = await send(proxy, 'GET', '/api/mounts/mounts', { headers: { authorization: 'Bearer proxy-secret-1' } });
  assert.equal(allowed.status, 200);
  assert.deepEqual(monitor.requests, []);
});

test('serveReads false forwards reads', async (t) => {
  const monitor = await fakeMonitor(t);
  const { store } = await tempStore(t);
  const proxy = await startProxy(t, {
    monitorApi: monitor.api,
    fallback: { store, policy: createHostPathPolicy({}), workspaceRoot: '/workspace', serveReads: false },
  });
  await send(proxy, 'GET', '/api/mounts/mounts');
  await send(proxy, 'GET', '/api/mounts/mount/u1/ws1');
  assert.deepEqual(monitor.requests.map((request) => `${request.method} ${request.url}`), ['GET /api/mounts', 'GET /api/mounts/u1/ws1']);
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

test('agent must match the monitor protocol', async (t) => {
  const httpAgent = new Agent({ keepAlive: true });
  const httpsAgent = new HttpsAgent({ keepAlive: true });
  t.after(() => {
    httpAgent.destroy();
    httpsAgent.destroy();
  });
  assert.throws(() => createDevProxyHandler({ monitorApi: 'https://127.0.0.1:8089/api', agent: httpAgent }), { code: 'CONFIG_INVALID' });
  assert.throws(() => createDevProxyHandler({ monitorApi: 'http://127.0.0.1:8089/api', agent: httpsAgent }), { code: 'CONFIG_INVALID' });
  const handler = createDevProxyHandler({ monitorApi: 'https://127.0.0.1:8089/api', agent: httpsAgent });
  await handler.close();
});

const pathTargets = [
  '/api/mounts/mounts',
  '/api/mounts/mounts?wait=true&x=%2F..%2F',
  '/api/mounts/mount/a%2Fb/ws%20one',
  '/api/mounts/mount/u1/ws.1',
  '/api/mounts/mount/u1/...',
  '/api/mounts/mount/u1/..ws',
  '/api/mounts/mount/../mounts',
  '/api/mounts/mount/u1/..',
  '/api/mounts/./mounts',
  '/api/mounts/mount/%2e%2E/mounts',
  '/api/mounts/mount/.%2e/mounts',
  '/api/mounts/mount/%2e/mounts',
  '/api/mounts/mount/u1/ws1?a=/../',
  '/api/mounts/mounts#/../x',
  '/api/mounts/%zz',
  '/api\\mounts\\mounts',
  '//elsewhere/api/mounts/mounts',
  'http://elsewhere/api/mounts/mounts?x',
  '/api/mounts/mount/u1/w\u00e9',
  '/api/mounts/mount/u1/w s',
  '/api/mounts/mount/u1/{x}|^`',
  '*',
  '/',
  '',
];

/** URL parsing's result for `target`, or the name of the error it throws. */
function urlPathname(target: string): string {
  try {
    return new URL(target, 'http://proxy.invalid').pathname;
  } catch (error) {
    return `throws ${(error as Error).name}`;
  }
}

function fastPathname(target: string): string {
  try {
    return pathnameOf(target);
  } catch (error) {
    return `throws ${(error as Error).name}`;
  }
}

test('pathnameOf matches URL parsing', () => {
  for (const target of pathTargets) assert.equal(fastPathname(target), urlPathname(target), JSON.stringify(target));
  // Random targets built from the characters that URL parsing treats specially in a path.
  const alphabet = ['/', '/', '.', '.', '%', '2', 'e', 'E', 'a', '?', '#', '\\', ' ', '~', '\u00e9', ':', '@', '"'];
  let seed = 7;
  const nextIndex = (size: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % size;
  };
  for (let i = 0; i < 5000; i++) {
    let target = '/';
    const length = 1 + nextIndex(12);
    for (let j = 0; j < length; j++) target += alphabet[nextIndex(alphabet.length)];
    assert.equal(fastPathname(target), urlPathname(target), JSON.stringify(target));
  }
});

test('dot segments resolve before routing', async (t) => {
  const monitor = await fakeMonitor(t);
  const proxy = await startProxy(t, { monitorApi: monitor.api });
  const reply = await send(proxy, 'GET', '/api/mounts/mount/u1/../../mounts');
  assert.equal(reply.status, 200);
  assert.deepEqual(
    monitor.requests.map((r) => `${r.method} ${r.url}`),
    ['GET /api/mounts'],
  );
});

test('chunked monitor body is relayed whole', async (t) => {
  const parts = ['{"success":true,', '"message":"in parts",', '"data":{"mounts":[]}}'];
  const server = createServer(async (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
    for (const part of parts) {
      res.write(part);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    res.end();
  });
  const proxy = await startProxy(t, { monitorApi: `${await listen(t, server)}/api` });
  const reply = await send(proxy, 'GET', '/api/mounts/mounts');
  assert.equal(reply.status, 200);
  assert.equal(reply.text, parts.join(''));
  assert.equal(reply.headers['content-length'], String(Buffer.byteLength(parts.join(''))));
  assert.equal(reply.headers['transfer-encoding'], undefined);
});

test('allow and retry-after are relayed', async (t) => {
  const server = createServer((_req, res) => {
    res.writeHead(429, { 'content-type': 'application/json; charset=utf-8', 'retry-after': '3', allow: 'GET', 'x-other': 'dropped' });
    res.end(okEnvelope);
  });
  const proxy = await startProxy(t, { monitorApi: `${await listen(t, server)}/api` });
  const reply = await send(proxy, 'GET', '/api/mounts/mounts');
  assert.equal(reply.status, 429);
  assert.equal(reply.headers['retry-after'], '3');
  assert.equal(reply.headers.allow, 'GET');
  assert.equal(reply.headers['x-other'], undefined);
  assert.equal(reply.text, okEnvelope);
});

interface ResettingMonitor {
  api: string;
  /** `METHOD url` of every request received, reset or not. */
  requests: string[];
  connections: number;
}

/**
 * Starts a monitor stand-in that resets the connection, without a response,
 * on every request for which `shouldReset(index, idleMs)` is true. `index`
 * counts the requests on that connection from 0, and `idleMs` is the time
 * since its previous response. Other requests get a 200 envelope, or 202 for
 * a POST, with `keepAliveHint` as their `Keep-Alive` header when given. The
 * stand-in's keep-alive timeout is 60 s, so it does not close an idle
 * connection first.
 */
async function resettingMonitor(t: TestContext, shouldReset: (index: number, idleMs: number) => boolean, keepAliveHint?: string): Promise<ResettingMonitor> {
  const monitor: ResettingMonitor = { api: '', requests: [], connections: 0 };
  const served = new WeakMap<object, { count: number; lastEnd: number }>();
  const server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    monitor.requests.push(`${req.method} ${req.url}`);
    const state = served.get(req.socket) ?? { count: 0, lastEnd: performance.now() };
    served.set(req.socket, state);
    const index = state.count++;
    req.resume();
    req.on('end', () => {
      if (shouldReset(index, performance.now() - state.lastEnd)) {
        req.socket.resetAndDestroy();
        return;
      }
      const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(okEnvelope)) };
      if (keepAliveHint) Object.assign(headers, { connection: 'keep-alive', 'keep-alive': keepAliveHint });
      res.writeHead(req.method === 'POST' ? 202 : 200, headers);
      res.end(okEnvelope, () => {
        state.lastEnd = performance.now();
      });
    });
  });
  server.on('connection', () => {
    monitor.connections += 1;
  });
  monitor.api = `${await listen(t, server)}/api`;
  return monitor;
}

test('get retries once on a reset keep-alive socket', async (t) => {
  // The second request on each connection is reset, as when the monitor closes an idle connection just as the request arrives.
  const monitor = await resettingMonitor(t, (index) => index === 1);
  const proxy = await startProxy(t, { monitorApi: monitor.api });

  const first = await send(proxy, 'GET', '/api/mounts/mounts');
  assert.equal(first.status, 200);
  const second = await send(proxy, 'GET', '/api/mounts/mounts');
  assert.equal(second.status, 200);
  assert.equal(second.text, okEnvelope);
  assert.deepEqual(monitor.requests, ['GET /api/mounts', 'GET /api/mounts', 'GET /api/mounts']);
  assert.equal(monitor.connections, 2);
});

test('post is not retried on a reset socket', async (t) => {
  const monitor = await resettingMonitor(t, (index) => index === 1);
  const proxy = await startProxy(t, { monitorApi: monitor.api });

  const first = await send(proxy, 'GET', '/api/mounts/mounts');
  assert.equal(first.status, 200);
  const post = await sendJson(proxy, 'POST', '/api/mounts/mount', mountBody);
  assert.equal(post.status, 503);
  assert.equal(post.body.code, 'MONITOR_UNAVAILABLE');
  assert.deepEqual(monitor.requests, ['GET /api/mounts', 'POST /api/mounts']);
});

test('post after keep-alive timeout succeeds', { timeout: 10_000 }, async (t) => {
  // The stand-in announces a 2 s keep-alive timeout and resets any request on a connection idle for more than 1.5 s,
  // as a server does that closes the connection at the moment the request arrives.
  const monitor = await resettingMonitor(t, (index, idleMs) => index > 0 && idleMs > 1500, 'timeout=2');
  const proxy = await startProxy(t, { monitorApi: monitor.api });
  // Control: an Agent without a `timeout` ignores the hint, keeps the idle socket, and the POST hits the reset.
  const bareAgent = new Agent({ keepAlive: true });
  t.after(() => bareAgent.destroy());
  const control = await startProxy(t, { monitorApi: monitor.api, agent: bareAgent });

  assert.equal((await send(proxy, 'GET', '/api/mounts/mounts')).status, 200);
  assert.equal((await send(control, 'GET', '/api/mounts/mounts')).status, 200);
  await new Promise((resolve) => setTimeout(resolve, 1700));

  const post = await sendJson(proxy, 'POST', '/api/mounts/mount', mountBody);
  assert.equal(post.status, 202);
  const controlPost = await sendJson(control, 'POST', '/api/mounts/mount', mountBody);
  assert.equal(controlPost.status, 503, 'the stand-in must reset a POST on a stale connection, or this test proves nothing');
  assert.equal(monitor.connections, 3);
});

test('reset before a response falls back', async (t) => {
  const monitor = await resettingMonitor(t, () => true);
  const { store } = await tempStore(t);
  const proxy = await startProxy(t, {
    monitorApi: monitor.api,
    fallback: { store, policy: createHostPathPolicy({}), workspaceRoot: '/workspace' },
  });

  const reply = await sendJson(proxy, 'POST', '/api/mounts/mount', mountBody);
  assert.equal(reply.status, 202);
  assert.equal(reply.body.data.mount.state, 'pending');
  assert.equal((await store.get('u1', 'ws1'))?.state, 'pending');
  assert.deepEqual(monitor.requests, ['POST /api/mounts']);
});

test('refused connection falls back', async (t) => {
  const { proxy, store } = await fallbackProxy(t);
  const reply = await sendJson(proxy, 'POST', '/api/mounts/mount', mountBody);
  assert.equal(reply.status, 202);
  assert.equal(reply.body.data.operation, null);
  assert.equal((await store.get('u1', 'ws1'))?.state, 'pending');
});

/** Starts a monitor stand-in that records each request and never responds. */
async function silentMonitor(t: TestContext): Promise<{ api: string; requests: string[]; server: Server }> {
  const requests: string[] = [];
  const server = createServer((req) => {
    requests.push(`${req.method} ${req.url}`);
    req.resume();
  });
  return { api: `${await listen(t, server)}/api`, requests, server };
}

test('timeout does not fall back', async (t) => {
  const monitor = await silentMonitor(t);
  const { store, file } = await tempStore(t);
  const proxy = await startProxy(t, {
    monitorApi: monitor.api,
    timeoutMs: 300,
    // Reads are forwarded here, so that the list shows that a read times out without falling back too.
    fallback: { store, policy: createHostPathPolicy({}), workspaceRoot: '/workspace', serveReads: false },
  });

  const post = await sendJson(proxy, 'POST', '/api/mounts/mount', mountBody, { 'accept-language': 'en' });
  assert.equal(post.status, 503);
  assert.equal(post.body.code, 'MONITOR_UNAVAILABLE');
  assert.match(post.body.message, /did not respond within 300 ms/);
  const list = await send(proxy, 'GET', '/api/mounts/mounts');
  assert.equal(list.status, 503);
  assert.equal(list.body.code, 'MONITOR_UNAVAILABLE');

  assert.deepEqual(monitor.requests, ['POST /api/mounts', 'GET /api/mounts']);
  await assert.rejects(readFile(file), { code: 'ENOENT' }, 'the fallback must not have written the store');
});

test('timeout covers the response body', async (t) => {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': '100' });
    res.write('{"success":');
  });
  const proxy = await startProxy(t, { monitorApi: `${await listen(t, server)}/api`, timeoutMs: 300 });
  const reply = await send(proxy, 'GET', '/api/mounts/mounts');
  assert.equal(reply.status, 503);
  assert.equal(reply.body.code, 'MONITOR_UNAVAILABLE');
});

test('timeout while queued for a socket falls back', async (t) => {
  const monitor = await silentMonitor(t);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  const { store } = await tempStore(t);
  const busy = await startProxy(t, { monitorApi: monitor.api, agent, timeoutMs: 5000 });
  const queued = await startProxy(t, {
    monitorApi: monitor.api,
    agent,
    timeoutMs: 300,
    fallback: { store, policy: createHostPathPolicy({}), workspaceRoot: '/workspace' },
  });

  // This request occupies the agent's only socket, so the next one never leaves the queue.
  const blocking = send(busy, 'GET', '/api/mounts/mounts');
  while (monitor.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
  const post = await sendJson(queued, 'POST', '/api/mounts/mount', mountBody);
  assert.equal(post.status, 202);
  assert.equal((await store.get('u1', 'ws1'))?.state, 'pending');
  assert.deepEqual(monitor.requests, ['GET /api/mounts']);

  monitor.server.closeAllConnections();
  assert.equal((await blocking).status, 503);
});

test('body cut short is 503 without fallback', async (t) => {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': '100' });
    res.write('{"success":', () => res.destroy());
  });
  const { store, file } = await tempStore(t);
  const proxy = await startProxy(t, {
    monitorApi: `${await listen(t, server)}/api`,
    fallback: { store, policy: createHostPathPolicy({}), workspaceRoot: '/workspace' },
  });
  const reply = await send(proxy, 'DELETE', '/api/mounts/mount/u1/ws1');
  assert.equal(reply.status, 503);
  assert.equal(reply.body.code, 'MONITOR_UNAVAILABLE');
  await assert.rejects(readFile(file), { code: 'ENOENT' });
});

/** Resolves to 'closed' when `socket` closes within `ms`, else to 'open'. */
function closesWithin(socket: Socket, ms: number): Promise<'closed' | 'open'> {
  if (socket.destroyed) return Promise.resolve('closed');
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('open'), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve('closed');
    });
  });
}

/** Starts a monitor stand-in that responds 200 and keeps the server side of every connection. */
async function monitorWithSockets(t: TestContext): Promise<{ api: string; requests: string[]; sockets: Socket[] }> {
  const requests: string[] = [];
  const sockets: Socket[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      res.end(okEnvelope);
    });
  });
  server.on('connection', (socket: Socket) => sockets.push(socket));
  return { api: `${await listen(t, server)}/api`, requests, sockets };
}

test('close destroys the own agent', async (t) => {
  const monitor = await monitorWithSockets(t);
  const handler = createDevProxyHandler({ monitorApi: monitor.api });
  const proxy = await listen(t, createServer((req, res) => handler(req, res)));

  assert.equal((await send(proxy, 'GET', '/api/mounts/mounts')).status, 200);
  assert.equal(monitor.sockets.length, 1);
  await handler.close();
  assert.equal(await closesWithin(monitor.sockets[0]!, 2000), 'closed');
});

test('close leaves a caller agent open', async (t) => {
  const monitor = await monitorWithSockets(t);
  const agent = new Agent({ keepAlive: true });
  t.after(() => agent.destroy());
  const first = createDevProxyHandler({ monitorApi: monitor.api, agent });
  const firstProxy = await listen(t, createServer((req, res) => first(req, res)));

  assert.equal((await send(firstProxy, 'GET', '/api/mounts/mounts')).status, 200);
  await first.close();
  assert.equal(await closesWithin(monitor.sockets[0]!, 200), 'open');

  const second = createDevProxyHandler({ monitorApi: monitor.api, agent });
  t.after(() => second.close());
  const secondProxy = await listen(t, createServer((req, res) => second(req, res)));
  assert.equal((await send(secondProxy, 'GET', '/api/mounts/mounts')).status, 200);
  assert.deepEqual(monitor.requests, ['GET /api/mounts', 'GET /api/mounts']);
  assert.equal(monitor.sockets.length, 1, 'the second handler reuses the connection the first one opened');
});

/** Variables the proxy reads; removed from the inherited environment so each test sets its own. */
const PROXY_VARIABLES = [
  'PORT', 'HOST', 'MONITOR_API', 'MONITOR_API_FALLBACK', 'MONITOR_TOKEN', 'MONITOR_TIMEOUT_MS', 'LANGUAGE', 'LOG_LEVEL',
  'WORKSPACE_ROOT', 'MOUNT_DATA_FILE', 'HOST_PATH_ALLOW', 'HOST_PATH_DENY', 'HOST_PATH_STYLE', 'PROXY_STORE_READS',
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

/** Settings of the fallback that stop the proxy at start, each with the variable its one stderr line must name. */
const invalidFallbackSettings = [
  { name: 'path style', variable: 'HOST_PATH_STYLE', value: 'windws' },
  { name: 'store reads flag', variable: 'PROXY_STORE_READS', value: 'sometimes' },
];

for (const setting of invalidFallbackSettings) {
  test(`proxy rejects invalid ${setting.name}`, { timeout: 10_000 }, async (t) => {
    const folder = await mkdtemp(join(tmpdir(), 'mount-core-proxy-'));
    t.after(() => rm(folder, { recursive: true, force: true }));
    const child = spawnServer(t, 'servers/dev-proxy/main.ts', PROXY_VARIABLES, {
      PORT: String(await freePort()),
      HOST: '127.0.0.1',
      MONITOR_API: await closedMonitorApi(),
      MONITOR_API_FALLBACK: '1',
      MOUNT_DATA_FILE: join(folder, 'mounts.json'),
      [setting.variable]: setting.value,
    });
    const stderr = collect(child.stderr);
    const [code] = await once(child, 'exit');
    assert.notEqual(code, 0);
    const lines = stderr().trim().split('\n');
    assert.equal(lines.length, 1, stderr());
    assert.match(lines[0]!, new RegExp(`\\b${setting.variable}\\b`));
  });
}
