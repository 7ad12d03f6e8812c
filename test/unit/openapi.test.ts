/**
 * The OpenAPI documents against the servers. Every routed pattern is
 * documented and every documented path is routed. The served and the
 * committed documents are the built ones. Real responses of both handlers,
 * success and error, validate against the documented schemas.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { OpenApiDocument } from '../../servers/common/openapi.js';
import { buildDevProxyOpenApi } from '../../servers/dev-proxy/openapi.js';
import { routeLabeler } from '../../servers/monitor/metrics.js';
import { buildMonitorOpenApi } from '../../servers/monitor/openapi.js';
import { OPENAPI_FILES, renderDocument } from '../../scripts/openapi.js';
import { validateSchema } from '../helpers/json-schema.js';
import { startMonitor, startProxy } from '../helpers/monitor.js';
import { freePort, REPO_ROOT } from '../helpers/stack.js';

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
const TOKEN = 'openapi-test-token';

/** `METHOD /pattern` pairs of a document, in Router.list() form. */
function documentedRoutes(document: OpenApiDocument): string[] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.keys(item)
      .filter((method) => METHODS.includes(method))
      .map((method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
  );
}

interface Checked {
  route: string;
  status: number;
}

/** Sends a request and validates its response against `document`; returns the route and status it checked. */
async function check(document: OpenApiDocument, routes: string[], origin: string, method: string, path: string, init: { body?: string; headers?: Record<string, string> } = {}): Promise<Checked> {
  const response = await fetch(`${origin}${path}`, { method, body: init.body, headers: init.headers });
  const text = await response.text();
  const pathname = new URL(path, origin).pathname;
  const pattern = routeLabeler(routes)(pathname);
  const route = `${method} ${pattern}`;
  const label = `${method} ${path} -> ${response.status}`;
  const operation = routes.includes(route) ? (document.paths[pattern.replace(/:(\w+)/g, '{$1}')]?.[method.toLowerCase()] as { responses: Record<string, any> } | undefined) : undefined;

  // A wrong method or an unknown path has no operation: its error envelope must still match the component.
  const documented = operation?.responses[String(response.status)] ?? operation?.responses.default;
  if (operation) assert.ok(documented, `${label}: status not documented`);
  const content = documented?.content ?? { 'application/json': { schema: { $ref: '#/components/schemas/ErrorEnvelope' } } };
  const contentType = response.headers.get('content-type') ?? '';
  const mediaType = Object.keys(content).find((type) => contentType.startsWith(type.split(';')[0]!));
  assert.ok(mediaType, `${label}: content type ${contentType} not documented`);
  if (mediaType === 'application/json') {
    const problems = validateSchema(JSON.parse(text), content[mediaType].schema, document);
    assert.deepEqual(problems, [], `${label}: ${text}`);
  }
  return { route, status: response.status };
}

const json = (body: unknown, headers: Record<string, string> = {}) => ({ body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });

test('monitor routes match the document', async (t) => {
  const monitor = await startMonitor(t);
  assert.deepEqual([...monitor.handler.routes].sort(), documentedRoutes(buildMonitorOpenApi()).sort());
});

test('proxy routes match the document', async (t) => {
  const proxy = await startProxy(t, 'http://127.0.0.1:9/api');
  assert.deepEqual([...proxy.handler.routes].sort(), documentedRoutes(buildDevProxyOpenApi()).sort());
  const other = await startProxy(t, 'http://127.0.0.1:9/api', '/legacy');
  assert.deepEqual([...other.handler.routes].sort(), documentedRoutes(buildDevProxyOpenApi('/legacy')).sort());
});

test('openapi documents are served without a token', async (t) => {
  const monitor = await startMonitor(t, { env: { MONITOR_TOKEN: TOKEN } });
  const served = await fetch(`${monitor.api}/openapi.json`);
  assert.equal(served.status, 200);
  assert.deepEqual(await served.json(), buildMonitorOpenApi());

  const proxy = await startProxy(t, monitor.api);
  const proxied = await fetch(`${proxy.url}/openapi.json`);
  assert.equal(proxied.status, 200);
  assert.deepEqual(await proxied.json(), buildDevProxyOpenApi());
});

test('openapi files are up to date', async () => {
  for (const [file, build] of Object.entries(OPENAPI_FILES)) {
    const committed = await readFile(join(REPO_ROOT, file), 'utf8');
    assert.equal(committed, renderDocument(build()), `${file} is stale: run npm run openapi`);
  }
});

test('openapi version is the package version', async () => {
  const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  assert.equal(buildMonitorOpenApi().info.version, pkg.version);
  assert.equal(buildDevProxyOpenApi().info.version, pkg.version);
});

/** Runs the table of requests against the monitor and returns what it checked. */
async function exerciseMonitor(t: TestContext, debug: boolean): Promise<Checked[]> {
  const monitor = await startMonitor(t, { env: { MONITOR_TOKEN: TOKEN, DEBUG_MODE: debug ? '1' : '0' }, metrics: true });
  const document = buildMonitorOpenApi();
  const routes = monitor.handler.routes;
  const auth = { authorization: `Bearer ${TOKEN}` };
  const send = (method: string, path: string, init: { body?: string; headers?: Record<string, string> } = {}) =>
    check(document, routes, monitor.origin, method, path, { ...init, headers: { ...auth, ...init.headers } });
  const mount = { user_id: 'alice', workspace_id: 'ws1', local_path: monitor.hostFolder, description: 'docs' };
  const checked: Checked[] = [];

  checked.push(await send('GET', '/api/health'));
  checked.push(await send('GET', '/api/openapi.json'));
  checked.push(await send('GET', '/metrics'));
  checked.push(await check(document, routes, monitor.origin, 'GET', '/api/mounts'));
  checked.push(await send('GET', '/api/mounts'));
  checked.push(await send('POST', '/api/mounts', json(mount)));
  checked.push(await send('POST', '/api/mounts', json(mount)));
  checked.push(await send('POST', '/api/mounts?wait=true', json({ ...mount, read_only: true })));
  checked.push(await send('POST', '/api/mounts', { body: '{', headers: { 'content-type': 'application/json' } }));
  checked.push(await send('POST', '/api/mounts', json({ ...mount, extra: 1 })));
  checked.push(await send('POST', '/api/mounts', json({ ...mount, local_path: '/etc' })));
  checked.push(await send('POST', '/api/mounts', { body: 'x', headers: { 'content-type': 'text/plain' } }));
  checked.push(await send('POST', '/api/mounts', json({ ...mount, description: 'x'.repeat(20_000) })));
  checked.push(await send('GET', '/api/mounts'));
  checked.push(await send('GET', '/api/mounts/alice/ws1'));
  checked.push(await send('GET', '/api/mounts/nobody/ws1'));
  checked.push(await send('GET', '/api/mounts/bad%20id/ws1'));
  const operationId = (await monitor.reconciler.settled(monitor.reconciler.request('apply'))).id;
  checked.push(await send('GET', `/api/operations/${operationId}`));
  checked.push(await send('GET', '/api/operations/op_000000000000'));
  checked.push(await send('POST', '/api/restart'));
  checked.push(await send('POST', '/api/restart?wait=true'));
  checked.push(await send('DELETE', '/api/mounts/alice/ws1?wait=true'));
  checked.push(await send('POST', '/api/mounts', json(mount)));
  checked.push(await send('DELETE', '/api/mounts/alice/ws1'));
  checked.push(await send('DELETE', '/api/mounts/alice/ws1'));
  checked.push(await send('GET', '/api/debug/stats'));
  checked.push(await send('POST', '/api/debug/apply'));
  checked.push(await send('PUT', '/api/mounts'));
  checked.push(await send('GET', '/api/nothing-here'));
  return checked;
}

test('monitor responses match the schemas', async (t) => {
  const checked = [...(await exerciseMonitor(t, false)), ...(await exerciseMonitor(t, true))];
  const statuses = new Set(checked.map((entry) => entry.status));
  for (const status of [200, 202, 400, 401, 403, 404, 405, 413, 415, 503]) assert.ok(statuses.has(status), `no response with status ${status} was checked`);
  const monitor = await startMonitor(t);
  for (const route of monitor.handler.routes) assert.ok(checked.some((entry) => entry.route === route), `no response of ${route} was checked`);
});

test('proxy responses match the schemas', async (t) => {
  const monitor = await startMonitor(t);
  const proxy = await startProxy(t, monitor.api);
  const document = buildDevProxyOpenApi();
  const routes = proxy.handler.routes;
  const origin = new URL(proxy.url).origin;
  const send = (method: string, path: string, init: { body?: string; headers?: Record<string, string> } = {}) => check(document, routes, origin, method, path, init);
  const mount = { user_id: 'bob', workspace_id: 'ws2', local_path: monitor.hostFolder };
  const checked: Checked[] = [];

  checked.push(await send('GET', '/api/mounts/test-monitor'));
  checked.push(await send('GET', '/api/mounts/openapi.json'));
  checked.push(await send('POST', '/api/mounts/mount', json(mount)));
  checked.push(await send('POST', '/api/mounts/mount', json(mount)));
  checked.push(await send('POST', '/api/mounts/mount', json({ ...mount, user_id: '../x' })));
  checked.push(await send('GET', '/api/mounts/mounts'));
  checked.push(await send('GET', '/api/mounts/mount/bob/ws2'));
  checked.push(await send('GET', '/api/mounts/mount/nobody/ws2'));
  checked.push(await send('POST', '/api/mounts/restart'));
  const operationId = (await monitor.reconciler.settled(monitor.reconciler.request('apply'))).id;
  checked.push(await send('GET', `/api/mounts/operations/${operationId}`));
  checked.push(await send('GET', '/api/mounts/operations/op_000000000000'));
  checked.push(await send('DELETE', '/api/mounts/mount/bob/ws2'));
  checked.push(await send('PUT', '/api/mounts/mounts'));

  const dead = await startProxy(t, `http://127.0.0.1:${await freePort()}/api`);
  const deadOrigin = new URL(dead.url).origin;
  checked.push(await check(document, dead.handler.routes, deadOrigin, 'GET', '/api/mounts/test-monitor'));
  checked.push(await check(document, dead.handler.routes, deadOrigin, 'GET', '/api/mounts/mounts'));

  for (const route of routes) assert.ok(checked.some((entry) => entry.route === route), `no response of ${route} was checked`);
  assert.ok(checked.some((entry) => entry.route === 'GET /api/mounts/test-monitor' && entry.status === 503));
});
