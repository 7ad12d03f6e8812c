/**
 * Authentication of both servers: MONITOR_TOKEN on the monitor, PROXY_TOKEN
 * on the proxy, the token the proxy forwards, the start-up warnings, token
 * checks at configuration time, and the loopback-only ports of the compose
 * file. Servers listen on 127.0.0.1 port 0; the process tests run the mains
 * with a minimal environment.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { parse } from 'yaml';
import { DockerClient } from '../../lib/docker/index.js';
import { MountCoreError } from '../../lib/errors.js';
import { checkBearerToken } from '../../lib/http/index.js';
import { Reconciler } from '../../lib/reconciler/reconciler.js';
import { MountStore } from '../../lib/store/index.js';
import { checkHostPath, createHostPathPolicy, managedTargetTest } from '../../lib/validation/index.js';
import { createLogger } from '../../servers/common/log.js';
import { createDevProxyHandler, type DevProxyOptions } from '../../servers/dev-proxy/handler.js';
import { createMonitorHandler } from '../../servers/monitor/app.js';
import { loadMonitorConfig } from '../../servers/monitor/config.js';
import { freePort, REPO_ROOT } from '../helpers/stack.js';
import { listen, sendRaw as send } from '../helpers/http.js';

const MONITOR_TOKEN = 'monitor-Secret.token_1';
const PROXY_TOKEN = 'proxy-Secret.token_2';

async function tempFolder(t: TestContext): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), 'mc-security-auth-'));
  t.after(() => rm(folder, { recursive: true, force: true }));
  return folder;
}

/** A fake monitor that records each request's method, URL and headers and replies 200. */
async function recordingMonitor(t: TestContext): Promise<{ api: string; seen: Array<{ method: string; url: string; headers: IncomingHttpHeaders }> }> {
  const seen: Array<{ method: string; url: string; headers: IncomingHttpHeaders }> = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
      const body = JSON.stringify({ success: true, message: 'ok', data: null });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  return { api: `${await listen(t, server)}/api`, seen };
}

async function startProxy(t: TestContext, options: DevProxyOptions): Promise<string> {
  const handler = createDevProxyHandler({ timeoutMs: 3000, ...options });
  t.after(() => handler.close());
  return listen(t, createServer((req, res) => handler(req, res)));
}

const PROXY_ROUTES: Array<[string, string]> = [
  ['POST', '/api/mounts/mount'],
  ['GET', '/api/mounts/mounts'],
  ['GET', '/api/mounts/mount/u1/ws1'],
  ['DELETE', '/api/mounts/mount/u1/ws1'],
  ['POST', '/api/mounts/restart'],
  ['GET', '/api/mounts/operations/op_000000000000'],
  ['GET', '/api/mounts/no-such-route'],
  ['PUT', '/api/mounts/mounts'],
];

const WRONG_AUTHORIZATION: Array<Record<string, string>> = [
  {},
  { authorization: '' },
  { authorization: 'Bearer' },
  { authorization: 'Bearer ' },
  { authorization: `Bearer ${MONITOR_TOKEN}` },
  { authorization: `Bearer ${PROXY_TOKEN}x` },
  { authorization: `Bearer ${PROXY_TOKEN.slice(0, -1)}` },
  { authorization: PROXY_TOKEN },
  { authorization: `Basic ${Buffer.from(`user:${PROXY_TOKEN}`).toString('base64')}` },
  { authorization: `Token ${PROXY_TOKEN}` },
  { 'x-proxy-token': PROXY_TOKEN },
];

test('proxy token guards every route but test-monitor', async (t) => {
  const monitor = await recordingMonitor(t);
  const base = await startProxy(t, { monitorApi: monitor.api, token: MONITOR_TOKEN, proxyToken: PROXY_TOKEN });
  for (const [method, path] of PROXY_ROUTES) {
    for (const headers of WRONG_AUTHORIZATION) {
      const label = `${method} ${path} with ${JSON.stringify(Object.keys(headers))}`;
      const reply = await send(base, method, path, { 'content-type': 'application/json', ...headers }, method === 'POST' ? '{}' : undefined);
      assert.equal(reply.status, 401, label);
      assert.equal(reply.body.code, 'UNAUTHORIZED', label);
      assert.equal(reply.headers['www-authenticate'], 'Bearer', label);
      assert.ok(!reply.text.includes(PROXY_TOKEN.slice(0, 10)), label);
      assert.ok(!reply.text.includes(MONITOR_TOKEN.slice(0, 10)), label);
    }
  }
  assert.equal(monitor.seen.length, 0, 'nothing unauthenticated reaches the monitor');

  const health = await send(base, 'GET', '/api/mounts/test-monitor');
  assert.equal(health.status, 200);
  assert.equal(health.body.data.status, 'connected');
});

test('proxy forwards the monitor token only', async (t) => {
  const monitor = await recordingMonitor(t);
  const base = await startProxy(t, { monitorApi: monitor.api, token: MONITOR_TOKEN, proxyToken: PROXY_TOKEN });
  const auth = { authorization: `Bearer ${PROXY_TOKEN}` };
  const cases: Array<[string, string, string]> = [
    ['POST', '/api/mounts/mount', 'POST /api/mounts'],
    ['GET', '/api/mounts/mounts', 'GET /api/mounts'],
    ['GET', '/api/mounts/mount/u1/ws1', 'GET /api/mounts/u1/ws1'],
    ['DELETE', '/api/mounts/mount/u1/ws1', 'DELETE /api/mounts/u1/ws1'],
    ['POST', '/api/mounts/restart', 'POST /api/restart'],
    ['GET', '/api/mounts/operations/op_1', 'GET /api/operations/op_1'],
  ];
  for (const [method, path] of cases) {
    const reply = await send(base, method, path, { ...auth, 'content-type': 'application/json' }, method === 'POST' ? '{"user_id":"u1"}' : undefined);
    assert.equal(reply.status, 200, `${method} ${path}`);
  }
  assert.deepEqual(
    monitor.seen.map((seen) => `${seen.method} ${seen.url}`),
    cases.map(([, , target]) => target),
  );
  for (const seen of monitor.seen) {
    assert.equal(seen.headers.authorization, `Bearer ${MONITOR_TOKEN}`, seen.url);
    assert.ok(!JSON.stringify(seen.headers).includes(PROXY_TOKEN), seen.url);
  }
});

test('bearer scheme is case-insensitive', async (t) => {
  const monitor = await recordingMonitor(t);
  const base = await startProxy(t, { monitorApi: monitor.api, proxyToken: PROXY_TOKEN });
  for (const authorization of [`Bearer ${PROXY_TOKEN}`, `bearer ${PROXY_TOKEN}`, `BEARER  ${PROXY_TOKEN}`, ` Bearer ${PROXY_TOKEN} `]) {
    const reply = await send(base, 'GET', '/api/mounts/mounts', { authorization });
    assert.equal(reply.status, 200, authorization);
  }
});

test('proxy without token stays open', async (t) => {
  const monitor = await recordingMonitor(t);
  const base = await startProxy(t, { monitorApi: monitor.api });
  const reply = await send(base, 'GET', '/api/mounts/mounts');
  assert.equal(reply.status, 200);
  assert.equal(monitor.seen[0]?.headers.authorization, undefined);
});

test('fallback writes nothing without the token', async (t) => {
  const folder = await tempFolder(t);
  const store = new MountStore({ file: join(folder, 'mounts.json'), workspaceRoot: '/workspace' });
  await store.upsert({ user_id: 'seed', workspace_id: 'ws0', local_path: '/home/dev/seed', container_path: '/workspace/seed/ws0', description: '', read_only: false });
  const before = await readFile(store.file);
  const base = await startProxy(t, {
    monitorApi: `http://127.0.0.1:${await freePort()}/api`,
    proxyToken: PROXY_TOKEN,
    fallback: { store, policy: createHostPathPolicy(), workspaceRoot: '/workspace' },
  });
  const body = JSON.stringify({ user_id: 'u1', workspace_id: 'ws1', local_path: '/home/dev/a' });
  const denied = await send(base, 'POST', '/api/mounts/mount', { 'content-type': 'application/json' }, body);
  assert.equal(denied.status, 401);
  const removal = await send(base, 'DELETE', '/api/mounts/mount/seed/ws0');
  assert.equal(removal.status, 401);
  assert.deepEqual(await readFile(store.file), before);

  const saved = await send(base, 'POST', '/api/mounts/mount', { 'content-type': 'application/json', authorization: `Bearer ${PROXY_TOKEN}` }, body);
  assert.equal(saved.status, 202);
  assert.equal(saved.body.data.mount.state, 'pending');
});

test('monitor checks the token before routing', async (t) => {
  const folder = await tempFolder(t);
  const config = loadMonitorConfig({
    MOUNT_DATA_FILE: join(folder, 'mounts.json'),
    COMPOSE_FILE: '',
    DOCKER_HOST: `unix://${join(folder, 'no-engine.sock')}`,
    MONITOR_TOKEN,
    ENGINE_TIMEOUT_MS: '2000',
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
  const logs: string[] = [];
  const log = createLogger('monitor', 'debug', (line) => logs.push(line));
  const base = await listen(t, createServer(createMonitorHandler({ config, store, reconciler, engine, policy, isManaged, log })));

  for (const [method, path] of [['GET', '/api/nope'], ['PUT', '/api/mounts'], ['GET', '/api/mounts/u1'], ['POST', '/api/health/x']] as const) {
    const anonymous = await send(base, method, path);
    assert.equal(anonymous.status, 401, `${method} ${path}`);
    const known = await send(base, method, path, { authorization: `Bearer ${MONITOR_TOKEN}` });
    assert.ok(known.status === 404 || known.status === 405, `${method} ${path}: ${known.status}`);
  }
  const health = await send(base, 'GET', '/api/health');
  assert.equal(health.status, 200);
  assert.ok(!logs.some((line) => line.includes(MONITOR_TOKEN)), 'the token must never be logged');
});

test('token configuration rejects unusable tokens', () => {
  assert.equal(checkBearerToken('PROXY_TOKEN', undefined), undefined);
  assert.equal(checkBearerToken('PROXY_TOKEN', ''), undefined);
  assert.equal(checkBearerToken('PROXY_TOKEN', 'abc-DEF_123.~+/=='), 'abc-DEF_123.~+/==');
  for (const bad of ['two words', 'tab\there', 'quote"d', 'naïve-token', 'semi;colon', 'trailing ', 'a=b']) {
    try {
      checkBearerToken('PROXY_TOKEN', bad);
      assert.fail(`accepted ${JSON.stringify(bad)}`);
    } catch (error) {
      assert.ok(error instanceof MountCoreError);
      assert.equal(error.code, 'CONFIG_INVALID');
      assert.ok(!error.message.includes(bad), error.message);
      assert.ok(!JSON.stringify(error.details).includes(bad));
    }
  }
  assert.throws(() => loadMonitorConfig({ MONITOR_TOKEN: 'has space' }), { code: 'CONFIG_INVALID' });
});

test('monitor API URL must not carry credentials', () => {
  for (const monitorApi of ['http://user:pass-secret@127.0.0.1:8089/api', 'http://127.0.0.1:8089/api?token=pass-secret', 'http://127.0.0.1:8089/api#pass-secret']) {
    try {
      createDevProxyHandler({ monitorApi });
      assert.fail(`accepted ${monitorApi}`);
    } catch (error) {
      assert.ok(error instanceof MountCoreError);
      assert.equal(error.code, 'CONFIG_INVALID');
      assert.ok(!error.message.includes('pass-secret'), error.message);
    }
  }
});

/** Runs a server main with only `variables` and PATH until it logs `startedMessage`, then returns its log lines after SIGTERM. */
async function runMain(t: TestContext, script: string, variables: Record<string, string>, startedMessage: string): Promise<Array<Record<string, unknown>>> {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', ...variables },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let output = '';
  let errors = '';
  child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString('utf8')));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not log "${startedMessage}": ${output}${errors}`)), 20_000);
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (output.includes(`"message":"${startedMessage}"`)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code}: ${errors}`));
    });
  });
  // Lines written right after the start line arrive in the same tick or the next one.
  await new Promise((resolve) => setTimeout(resolve, 300));
  child.kill('SIGTERM');
  await once(child, 'exit');
  return output
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function monitorVariables(t: TestContext): Promise<Record<string, string>> {
  const folder = await tempFolder(t);
  return {
    HOST: '127.0.0.1',
    PORT: String(await freePort()),
    MOUNT_DATA_FILE: join(folder, 'mounts.json'),
    COMPOSE_FILE: '',
    DOCKER_HOST: `unix://${join(folder, 'no-engine.sock')}`,
    ENGINE_TIMEOUT_MS: '1000',
  };
}

const tokenWarnings = (lines: Array<Record<string, unknown>>, name: string) =>
  lines.filter((line) => line.level === 'warn' && String(line.message).includes(name));

test('monitor warns once without a token', { timeout: 30_000 }, async (t) => {
  const lines = await runMain(t, 'servers/monitor/main.ts', await monitorVariables(t), 'monitor started');
  assert.equal(tokenWarnings(lines, 'MONITOR_TOKEN').length, 1);
});

test('monitor with a token does not warn', { timeout: 30_000 }, async (t) => {
  const lines = await runMain(t, 'servers/monitor/main.ts', { ...(await monitorVariables(t)), MONITOR_TOKEN }, 'monitor started');
  assert.equal(tokenWarnings(lines, 'MONITOR_TOKEN').length, 0);
  assert.ok(!JSON.stringify(lines).includes(MONITOR_TOKEN), 'the token must never be logged');
});

test('proxy warns once without a token', { timeout: 30_000 }, async (t) => {
  const variables = { HOST: '127.0.0.1', PORT: String(await freePort()), MONITOR_API: `http://127.0.0.1:${await freePort()}/api` };
  const open = await runMain(t, 'servers/dev-proxy/main.ts', variables, 'dev proxy started');
  assert.equal(tokenWarnings(open, 'PROXY_TOKEN').length, 1);
  const guarded = await runMain(t, 'servers/dev-proxy/main.ts', { ...variables, PORT: String(await freePort()), PROXY_TOKEN, MONITOR_TOKEN }, 'dev proxy started');
  assert.equal(tokenWarnings(guarded, 'PROXY_TOKEN').length, 0);
  assert.ok(!JSON.stringify(guarded).includes(PROXY_TOKEN), 'the token must never be logged');
});

test('invalid token stops the proxy at start', { timeout: 30_000 }, async (t) => {
  const secret = 'not a valid token';
  const child = spawn(process.execPath, ['--import', 'tsx', 'servers/dev-proxy/main.ts'], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: String(await freePort()), MONITOR_API: 'http://127.0.0.1:1/api', PROXY_TOKEN: secret },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let errors = '';
  child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString('utf8')));
  const [code] = (await once(child, 'exit')) as [number];
  assert.equal(code, 1);
  assert.equal(errors.trim().split('\n').length, 1, errors);
  assert.match(errors, /PROXY_TOKEN/);
  assert.ok(!errors.includes(secret), errors);
});

test('compose publishes both ports on loopback', async () => {
  const compose = parse(await readFile(join(REPO_ROOT, 'docker-compose.dev.yml'), 'utf8'), { merge: true }) as {
    services: Record<string, { ports?: unknown[]; environment?: Record<string, unknown>; volumes?: unknown[] }>;
  };
  const published: string[] = [];
  for (const [name, service] of Object.entries(compose.services)) {
    for (const port of service.ports ?? []) {
      if (typeof port === 'string' || typeof port === 'number') {
        const text = String(port);
        assert.match(text, /^127\.0\.0\.1:\d+:\d+(\/tcp)?$/, `${name} publishes ${text} beyond loopback`);
        published.push(text.split(':')[2]!.replace('/tcp', ''));
      } else {
        const long = port as { host_ip?: string; target?: number };
        assert.equal(long.host_ip, '127.0.0.1', `${name} publishes ${JSON.stringify(port)} beyond loopback`);
        published.push(String(long.target));
      }
    }
  }
  assert.deepEqual(published.sort(), ['5172', '8089']);

  const proxy = compose.services['openmanus-core-dev']!;
  const monitor = compose.services['openmanus-monitor']!;
  assert.equal(monitor.environment?.MONITOR_TOKEN, '${MONITOR_TOKEN:-}');
  assert.equal(proxy.environment?.MONITOR_TOKEN, '${MONITOR_TOKEN:-}');
  assert.equal(proxy.environment?.PROXY_TOKEN, '${PROXY_TOKEN:-}');
  // Only the monitor mounts the Docker socket.
  assert.ok(!JSON.stringify(proxy.volumes ?? []).includes('docker.sock'));
  assert.ok(JSON.stringify(monitor.volumes ?? []).includes('docker.sock'));
});
