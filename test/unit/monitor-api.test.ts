/**
 * The monitor's HTTP API over a real MountStore in a temp folder, a real
 * Reconciler and a DockerClient whose unix socket does not exist, so every
 * Engine call fails with DOCKER_UNAVAILABLE. The process tests run
 * servers/monitor/main.ts as a child process.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { DockerClient } from '../../lib/docker/index.js';
import { Reconciler } from '../../lib/reconciler/reconciler.js';
import { MountStore } from '../../lib/store/index.js';
import { checkHostPath, createHostPathPolicy, managedTargetTest } from '../../lib/validation/index.js';
import { createLogger } from '../../servers/common/log.js';
import { createMonitorHandler } from '../../servers/monitor/app.js';
import { loadMonitorConfig } from '../../servers/monitor/config.js';
import { listen, send, sendJson } from '../helpers/http.js';
import { logMessages, spawnServer, waitForLog } from '../helpers/process.js';
import { eventually, freePort, REPO_ROOT } from '../helpers/stack.js';

interface TestMonitor {
  base: string;
  folder: string;
  /** The store file. */
  file: string;
  store: MountStore;
  /** JSON log lines the monitor wrote. */
  logs: string[];
  /** DOCKER_HOST the monitor uses: a unix socket that does not exist. */
  dockerHost: string;
}

const mountBody = { user_id: 'u1', workspace_id: 'ws1', local_path: '/home/dev/projects/app' };
const seedRequest = {
  user_id: 'seed',
  workspace_id: 'ws0',
  local_path: '/home/dev/projects/seed',
  container_path: '/workspace/seed/ws0',
  description: 'kept',
  read_only: false,
};

async function tempFolder(t: TestContext): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), 'mount-core-monitor-'));
  t.after(() => rm(folder, { recursive: true, force: true }));
  return folder;
}

/**
 * Serves createMonitorHandler on 127.0.0.1 with configuration read by
 * loadMonitorConfig from `env` on top of test defaults: the store in a temp
 * folder, no compose file and a Docker socket path that does not exist.
 */
async function startMonitor(t: TestContext, env: Record<string, string> = {}): Promise<TestMonitor> {
  const folder = await tempFolder(t);
  const file = join(folder, 'mounts.json');
  const config = loadMonitorConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    MOUNT_DATA_FILE: file,
    COMPOSE_FILE: '',
    DOCKER_HOST: `unix://${join(folder, 'no-engine', 'docker.sock')}`,
    ENGINE_TIMEOUT_MS: '5000',
    ...env,
  });

  const policy = createHostPathPolicy({ allow: config.hostPathAllow, deny: config.hostPathDeny, style: config.hostPathStyle });
  const store = new MountStore({ file: config.mountDataFile, workspaceRoot: config.workspaceRoot, lockTimeoutMs: 2000 });
  const engine = new DockerClient({ host: config.dockerHost, timeoutMs: config.engineTimeoutMs });
  const isManaged = managedTargetTest(config.workspaceRoot);

  const reconciler = new Reconciler({
    store,
    engine,
    container: 'openmanus-core-dev',
    isManaged,
    checkMount: (mount) => checkHostPath(mount.local_path, policy),
    // One retry far in the future, so that no retry runs while a test reads operations.
    retryDelaysMs: [600_000],
  });
  t.after(async () => {
    reconciler.close();
    await engine.close();
  });

  const logs: string[] = [];
  const log = createLogger('monitor', 'debug', (line) => logs.push(line));
  const base = await listen(t, createServer(createMonitorHandler({ config, store, reconciler, engine, policy, isManaged, log })));
  return { base, folder, file, store, logs, dockerHost: config.dockerHost };
}

/** Starts a monitor whose store already contains one mount, so that the file exists. */
async function seededMonitor(t: TestContext, env: Record<string, string> = {}): Promise<TestMonitor> {
  const monitor = await startMonitor(t, env);
  await monitor.store.upsert(seedRequest);
  return monitor;
}

/** Sends one request with node:http, so the path goes out exactly as written, and reads the whole reply. */
/** Polls the operation until it has succeeded or failed. */
async function settledOperation(base: string, id: string): Promise<any> {
  return eventually(
    `operation ${id} to settle`,
    async () => {
      const reply = await send(base, 'GET', `/api/operations/${id}`);
      const state: unknown = reply.body?.data?.operation?.state;
      return state === 'succeeded' || state === 'failed' ? reply.body.data.operation : undefined;
    },
    10_000,
  );
}

const CJK = /[\u4e00-\u9fff]/;

test('health is 200 without docker', async (t) => {
  const { base } = await startMonitor(t);
  const reply = await send(base, 'GET', '/api/health');
  assert.equal(reply.status, 200);
  assert.equal(reply.body.success, true);
  assert.equal(reply.body.data.status, 'ok');
  assert.equal(reply.body.data.docker.reachable, false);
  assert.equal(reply.body.data.docker.error_code, 'DOCKER_UNAVAILABLE');
  assert.equal(reply.body.data.container.name, 'openmanus-core-dev');
  assert.equal(reply.body.data.container.state, 'unknown');
});

test('post saves pending with an operation', async (t) => {
  const { base, store } = await startMonitor(t);
  const reply = await sendJson(base, 'POST', '/api/mounts', mountBody);
  assert.equal(reply.status, 202);
  assert.equal(reply.body.success, true);
  assert.equal(reply.body.data.mount.state, 'pending');
  assert.equal(reply.body.data.mount.container_path, '/workspace/u1/ws1');
  assert.equal(reply.body.data.mount.local_path, '/home/dev/projects/app');
  assert.match(reply.body.data.operation.id, /^op_[0-9a-f]{12}$/);
  assert.equal(reply.body.data.operation.kind, 'apply');
  assert.equal((await store.get('u1', 'ws1'))?.state, 'pending');
});

test('apply fails without docker', async (t) => {
  const { base, store } = await startMonitor(t);
  const posted = await sendJson(base, 'POST', '/api/mounts', mountBody);
  const operation = await settledOperation(base, posted.body.data.operation.id);
  assert.equal(operation.state, 'failed');
  assert.equal(operation.error.code, 'DOCKER_UNAVAILABLE');

  const fetched = await send(base, 'GET', '/api/mounts/u1/ws1');
  assert.equal(fetched.status, 200);
  assert.equal(fetched.body.data.mount.state, 'pending');
  assert.equal(fetched.body.data.mount.error, undefined);
  assert.equal((await store.get('u1', 'ws1'))?.state, 'pending');
});

test('wait reports docker unavailable', async (t) => {
  const { base, store, dockerHost } = await startMonitor(t);
  const reply = await sendJson(base, 'POST', '/api/mounts?wait=true', mountBody);
  assert.equal(reply.status, 503);
  assert.equal(reply.body.success, false);
  assert.equal(reply.body.code, 'DOCKER_UNAVAILABLE');
  assert.equal(reply.body.data.mount.state, 'pending');
  assert.equal(reply.body.data.operation.state, 'failed');
  // The zh-CN text is built from the error's details, so it must still name the Docker host.
  assert.ok(reply.body.message.includes(dockerHost), reply.body.message);
  assert.equal((await store.get('u1', 'ws1'))?.state, 'pending');

  const restart = await send(base, 'POST', '/api/restart?wait=true');
  assert.equal(restart.status, 503);
  assert.equal(restart.body.code, 'DOCKER_UNAVAILABLE');
  assert.equal(restart.body.data.operation.kind, 'restart');
  assert.ok(restart.body.message.includes(dockerHost), restart.body.message);
});

test('identical post changes nothing', async (t) => {
  const { base, file } = await startMonitor(t);
  const first = await sendJson(base, 'POST', '/api/mounts', mountBody);
  await settledOperation(base, first.body.data.operation.id);
  const before = await readFile(file);

  const again = await sendJson(base, 'POST', '/api/mounts', mountBody);
  assert.equal(again.status, 200);
  assert.equal(again.body.success, true);
  assert.equal(again.body.data.operation, null);
  assert.equal(again.body.data.mount.state, 'pending');
  assert.deepEqual(await readFile(file), before);
});

test('changed post replaces the mount', async (t) => {
  const { base } = await startMonitor(t);
  await sendJson(base, 'POST', '/api/mounts', mountBody);
  const replaced = await sendJson(base, 'POST', '/api/mounts', { ...mountBody, local_path: '/home/dev/projects/other' });
  assert.equal(replaced.status, 202);
  assert.match(replaced.body.data.operation.id, /^op_/);

  const list = await send(base, 'GET', '/api/mounts');
  assert.equal(list.body.data.mounts.length, 1);
  assert.equal(list.body.data.mounts[0].local_path, '/home/dev/projects/other');
});

test('get returns mount and list', async (t) => {
  const { base } = await seededMonitor(t);
  await sendJson(base, 'POST', '/api/mounts', { ...mountBody, description: 'app', read_only: true });

  const fetched = await send(base, 'GET', '/api/mounts/u1/ws1');
  assert.equal(fetched.status, 200);
  assert.equal(fetched.body.data.mount.user_id, 'u1');
  assert.equal(fetched.body.data.mount.workspace_id, 'ws1');
  assert.equal(fetched.body.data.mount.description, 'app');
  assert.equal(fetched.body.data.mount.read_only, true);
  assert.equal(typeof fetched.body.data.mount.created_at, 'string');
  assert.equal(typeof fetched.body.data.mount.updated_at, 'string');

  const list = await send(base, 'GET', '/api/mounts');
  assert.equal(list.status, 200);
  assert.equal(list.body.data.revision, 2);
  assert.deepEqual(
    list.body.data.mounts.map((m: { user_id: string; workspace_id: string; state: string }) => `${m.user_id}/${m.workspace_id} ${m.state}`),
    ['seed/ws0 pending', 'u1/ws1 pending'],
  );

  const missing = await send(base, 'GET', '/api/mounts/u1/nope');
  assert.equal(missing.status, 404);
  assert.equal(missing.body.code, 'MOUNT_NOT_FOUND');
});

test('delete removes the mount', async (t) => {
  const { base, store } = await startMonitor(t);
  await sendJson(base, 'POST', '/api/mounts', mountBody);

  const removed = await send(base, 'DELETE', '/api/mounts/u1/ws1');
  assert.equal(removed.status, 202);
  assert.equal(removed.body.success, true);
  assert.match(removed.body.data.operation.id, /^op_/);
  assert.equal(await store.get('u1', 'ws1'), undefined);

  const afterDelete = await send(base, 'GET', '/api/mounts/u1/ws1');
  assert.equal(afterDelete.status, 404);
  assert.equal(afterDelete.body.code, 'MOUNT_NOT_FOUND');

  const again = await send(base, 'DELETE', '/api/mounts/u1/ws1');
  assert.equal(again.status, 404);
  assert.equal(again.body.code, 'MOUNT_NOT_FOUND');
});

test('unknown operation is 404', async (t) => {
  const { base } = await startMonitor(t);
  const reply = await send(base, 'GET', '/api/operations/op_000000000000');
  assert.equal(reply.status, 404);
  assert.equal(reply.body.code, 'OPERATION_NOT_FOUND');
});

test('invalid ids in the path are 400', async (t) => {
  const { base, file } = await seededMonitor(t);
  const before = await readFile(file);
  for (const [method, path, code] of [
    ['GET', '/api/mounts/%2E%2E%2Fx/ws1', 'INVALID_USER_ID'],
    ['GET', '/api/mounts/u1/ws%0Ax', 'INVALID_WORKSPACE_ID'],
    ['DELETE', '/api/mounts/a%2Fb/ws1', 'INVALID_USER_ID'],
  ] as const) {
    const reply = await send(base, method, path);
    assert.equal(reply.status, 400, path);
    assert.equal(reply.body.code, code, path);
  }
  assert.deepEqual(await readFile(file), before);
});

const badInputs: Array<{ name: string; body: string; contentType?: string; status: number; code: string }> = [
  { name: 'invalid json', body: '{"user_id": "u1",', status: 400, code: 'INVALID_JSON' },
  { name: 'text/plain', body: JSON.stringify(mountBody), contentType: 'text/plain', status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  { name: 'oversized body', body: JSON.stringify({ ...mountBody, description: 'x'.repeat(17 * 1024) }), status: 413, code: 'BODY_TOO_LARGE' },
  { name: 'json array', body: '[]', status: 400, code: 'INVALID_FIELD' },
  { name: 'unknown field', body: JSON.stringify({ ...mountBody, privileged: true }), status: 400, code: 'UNKNOWN_FIELD' },
  { name: 'missing field', body: JSON.stringify({ user_id: 'u1', workspace_id: 'ws1' }), status: 400, code: 'MISSING_FIELD' },
  { name: 'dot-dot user id', body: JSON.stringify({ ...mountBody, user_id: '..' }), status: 400, code: 'INVALID_USER_ID' },
  { name: 'traversal user id', body: JSON.stringify({ ...mountBody, user_id: 'u1/../../etc' }), status: 400, code: 'INVALID_USER_ID' },
  {
    name: 'yaml in workspace id',
    body: JSON.stringify({ ...mountBody, workspace_id: 'ws1\n    - /:/host\nprivileged: true' }),
    status: 400,
    code: 'INVALID_WORKSPACE_ID',
  },
  { name: 'etc path', body: JSON.stringify({ ...mountBody, local_path: '/etc' }), status: 403, code: 'PATH_NOT_ALLOWED' },
  { name: 'docker socket path', body: JSON.stringify({ ...mountBody, local_path: '/var/run/docker.sock' }), status: 403, code: 'PATH_NOT_ALLOWED' },
  {
    name: 'traversal path',
    body: JSON.stringify({ ...mountBody, local_path: '/home/dev/projects/../../../etc' }),
    status: 400,
    code: 'INVALID_LOCAL_PATH',
  },
  { name: 'relative path', body: JSON.stringify({ ...mountBody, local_path: 'home/dev/proj' }), status: 400, code: 'INVALID_LOCAL_PATH' },
  { name: 'windows path', body: JSON.stringify({ ...mountBody, local_path: 'C:\\Users\\dev\\proj' }), status: 400, code: 'INVALID_LOCAL_PATH' },
];

for (const bad of badInputs) {
  test(`post rejects ${bad.name}`, async (t) => {
    const { base, file, logs } = await seededMonitor(t);
    const before = await readFile(file);
    const reply = await send(base, 'POST', '/api/mounts', { body: bad.body, headers: { 'content-type': bad.contentType ?? 'application/json' } });
    assert.equal(reply.status, bad.status);
    assert.equal(reply.body.success, false);
    assert.equal(reply.body.code, bad.code);
    assert.deepEqual(await readFile(file), before);
    assert.ok(!logs.some((line) => line.includes('"mount saved"')), 'a rejected request must not be saved');
  });
}

test('allow list compares whole components', async (t) => {
  const { base, file, store } = await seededMonitor(t, { HOST_PATH_ALLOW: '/home/dev/projects' });
  const before = await readFile(file);

  const sibling = await sendJson(base, 'POST', '/api/mounts', { ...mountBody, local_path: '/home/dev/projects-secrets' });
  assert.equal(sibling.status, 403);
  assert.equal(sibling.body.code, 'PATH_NOT_ALLOWED');

  const escape = await sendJson(base, 'POST', '/api/mounts', { ...mountBody, local_path: '/home/dev/projects/../../../etc' });
  assert.equal(escape.status, 400);
  assert.equal(escape.body.code, 'INVALID_LOCAL_PATH');
  assert.deepEqual(await readFile(file), before);

  const inside = await sendJson(base, 'POST', '/api/mounts', { ...mountBody, local_path: '/home/dev/projects/app' });
  assert.equal(inside.status, 202);
  assert.equal((await store.get('u1', 'ws1'))?.local_path, '/home/dev/projects/app');
});

test('token guards every route but health', async (t) => {
  const token = 'tok-7f3a9c2e';
  const { base, file, logs } = await seededMonitor(t, { MONITOR_TOKEN: token, DEBUG_MODE: '1' });
  const before = await readFile(file);
  const routes: Array<[string, string]> = [
    ['GET', '/api/mounts'],
    ['GET', '/api/mounts/seed/ws0'],
    ['POST', '/api/mounts'],
    ['DELETE', '/api/mounts/seed/ws0'],
    ['POST', '/api/restart'],
    ['GET', '/api/operations/op_000000000000'],
    ['GET', '/api/debug/stats'],
    ['POST', '/api/debug/apply'],
  ];
  const wrongHeaders: Array<Record<string, string>> = [{}, { authorization: 'Bearer wrong' }, { authorization: token }, { authorization: `Bearer ${token}x` }];
  for (const [method, path] of routes) {
    for (const headers of wrongHeaders) {
      const body = method === 'POST' && path === '/api/mounts' ? JSON.stringify(mountBody) : undefined;
      const reply = await send(base, method, path, { body, headers: { ...headers, 'content-type': 'application/json' } });
      const label = `${method} ${path} with ${JSON.stringify(headers)}`;
      assert.equal(reply.status, 401, label);
      assert.equal(reply.body.code, 'UNAUTHORIZED', label);
      assert.equal(reply.headers['www-authenticate'], 'Bearer', label);
    }
  }
  assert.deepEqual(await readFile(file), before);

  const health = await send(base, 'GET', '/api/health');
  assert.equal(health.status, 200);

  const auth = { authorization: `Bearer ${token}` };
  const posted = await sendJson(base, 'POST', '/api/mounts', mountBody, auth);
  assert.equal(posted.status, 202);
  for (const [method, path, status] of [
    ['GET', '/api/mounts', 200],
    ['GET', '/api/mounts/u1/ws1', 200],
    ['GET', `/api/operations/${posted.body.data.operation.id}`, 200],
    ['POST', '/api/restart', 202],
    ['POST', '/api/debug/apply', 202],
    ['DELETE', '/api/mounts/u1/ws1', 202],
  ] as const) {
    const reply = await send(base, method, path, { headers: auth });
    assert.equal(reply.status, status, `${method} ${path}`);
    assert.equal(reply.body.success, true, `${method} ${path}`);
  }
  const stats = await send(base, 'GET', '/api/debug/stats', { headers: auth });
  assert.notEqual(stats.status, 401);

  assert.ok(!logs.some((line) => line.includes(token)), 'the token must never be logged');
});

test('debug routes are 403 when off', async (t) => {
  const { base } = await startMonitor(t);
  for (const [method, path] of [
    ['GET', '/api/debug/stats'],
    ['POST', '/api/debug/apply'],
  ] as const) {
    const reply = await send(base, method, path);
    assert.equal(reply.status, 403, path);
    assert.equal(reply.body.code, 'DEBUG_DISABLED', path);
  }
});

test('debug stats without docker is 503', async (t) => {
  const { base } = await startMonitor(t, { DEBUG_MODE: '1' });
  const reply = await send(base, 'GET', '/api/debug/stats');
  assert.equal(reply.status, 503);
  assert.equal(reply.body.success, false);
  assert.equal(reply.body.code, 'DOCKER_UNAVAILABLE');
});

test('messages are chinese by default', async (t) => {
  const { base } = await startMonitor(t);
  const list = await send(base, 'GET', '/api/mounts');
  assert.match(list.body.message, CJK);
  const missing = await send(base, 'GET', '/api/mounts/u1/nope');
  assert.equal(missing.body.code, 'MOUNT_NOT_FOUND');
  assert.match(missing.body.message, CJK);
});

test('accept-language en gives english', async (t) => {
  const { base } = await startMonitor(t);
  const headers = { 'accept-language': 'en-US,en;q=0.9' };
  const list = await send(base, 'GET', '/api/mounts', { headers });
  assert.ok(list.body.message.length > 0);
  assert.doesNotMatch(list.body.message, CJK);
  const missing = await send(base, 'GET', '/api/mounts/u1/nope', { headers });
  assert.equal(missing.body.code, 'MOUNT_NOT_FOUND');
  assert.doesNotMatch(missing.body.message, CJK);
});

test('kept list bodies follow language and store', async (t) => {
  const { base, file } = await seededMonitor(t);
  // The store keeps a parse, and the monitor its list bodies, once the file is 2 s old.
  await new Promise((resolve) => setTimeout(resolve, 2100));
  const english = { 'accept-language': 'en' };
  const zhFirst = await send(base, 'GET', '/api/mounts');
  const en = await send(base, 'GET', '/api/mounts', { headers: english });
  const zhAgain = await send(base, 'GET', '/api/mounts');
  assert.match(zhFirst.body.message, CJK);
  assert.doesNotMatch(en.body.message, CJK);
  assert.deepEqual(zhAgain.body, zhFirst.body);
  assert.deepEqual(en.body.data, zhFirst.body.data);

  // Another writer of the same file, as the proxy in fallback mode is.
  const other = new MountStore({ file, workspaceRoot: '/workspace' });
  await other.upsert({ ...seedRequest, workspace_id: 'ws9', container_path: '/workspace/seed/ws9' });
  const after = await send(base, 'GET', '/api/mounts', { headers: english });
  assert.equal(after.body.data.revision, zhFirst.body.data.revision + 1);
  assert.deepEqual(after.body.data.mounts.map((m: { workspace_id: string }) => m.workspace_id), ['ws0', 'ws9']);
});

test('language setting changes the default', async (t) => {
  const { base } = await startMonitor(t, { LANGUAGE: 'en' });
  const english = await send(base, 'GET', '/api/mounts');
  assert.doesNotMatch(english.body.message, CJK);
  const chinese = await send(base, 'GET', '/api/mounts', { headers: { 'accept-language': 'zh-CN' } });
  assert.match(chinese.body.message, CJK);
});

test('unknown route is 404', async (t) => {
  const { base } = await startMonitor(t);
  for (const path of ['/api/nope', '/api/mounts/u1/ws1/extra', '/']) {
    const reply = await send(base, 'GET', path);
    assert.equal(reply.status, 404, path);
    assert.equal(reply.body.code, 'ROUTE_NOT_FOUND', path);
  }
});

test('wrong method is 405 with allow', async (t) => {
  const { base } = await startMonitor(t);
  const put = await send(base, 'PUT', '/api/mounts');
  assert.equal(put.status, 405);
  assert.equal(put.body.code, 'METHOD_NOT_ALLOWED');
  assert.equal(put.headers.allow, 'GET, POST');

  const health = await send(base, 'DELETE', '/api/health');
  assert.equal(health.status, 405);
  assert.equal(health.headers.allow, 'GET');
});

const validStoreText = `${JSON.stringify(
  {
    format: 'mount-core/v2',
    revision: 3,
    mounts: {
      'u1:ws1': {
        ...mountBody,
        container_path: '/workspace/u1/ws1',
        description: '',
        read_only: false,
        created_at: '2024-05-01T10:00:00.000Z',
        updated_at: '2024-05-01T10:00:00.000Z',
        state: 'applied',
      },
    },
  },
  null,
  2,
)}\n`;

for (const [name, content] of [
  ['empty', ''],
  ['cut in the middle', validStoreText.slice(0, Math.floor(validStoreText.length / 2))],
] as const) {
  test(`${name} store is 500 and kept`, async (t) => {
    const { base, file } = await startMonitor(t);
    await writeFile(file, content);

    for (const [method, path, body] of [
      ['GET', '/api/mounts', undefined],
      ['GET', '/api/mounts/u1/ws1', undefined],
      ['POST', '/api/mounts', mountBody],
      ['DELETE', '/api/mounts/u1/ws1', undefined],
    ] as const) {
      const reply = body ? await sendJson(base, method, path, body) : await send(base, method, path);
      assert.equal(reply.status, 500, `${method} ${path}`);
      assert.equal(reply.body.success, false, `${method} ${path}`);
      assert.equal(reply.body.code, 'STORE_CORRUPT', `${method} ${path}`);
      assert.equal(await readFile(file, 'utf8'), content, `${method} ${path}`);
    }

    const health = await send(base, 'GET', '/api/health');
    assert.equal(health.status, 200);
  });
}

test('error responses hide stacks and paths', async (t) => {
  const { base, file, logs } = await startMonitor(t, { DEBUG_MODE: '1' });
  await writeFile(file, validStoreText.slice(0, 40));
  const replies = [
    await send(base, 'GET', '/api/mounts'),
    await sendJson(base, 'POST', '/api/mounts', mountBody),
    await send(base, 'POST', '/api/mounts', { body: '{', headers: { 'content-type': 'application/json' } }),
    await send(base, 'GET', '/api/debug/stats'),
    await send(base, 'GET', '/api/operations/op_x'),
  ];

  // A store path that names a folder makes every read fail with an I/O error.
  const other = await startMonitor(t);
  await mkdir(other.file);
  replies.push(await send(other.base, 'GET', '/api/mounts'));

  assert.deepEqual(
    replies.map((reply) => reply.status),
    [500, 500, 400, 503, 404, 500],
  );
  for (const reply of replies) {
    assert.equal(reply.body.success, false, reply.text);
    assert.doesNotMatch(reply.text, /\bat [\w.<>]+ \(|\bat (file|node):/, reply.text);
    assert.doesNotMatch(reply.text, /\.ts:\d+/, reply.text);
    assert.ok(!reply.text.includes(REPO_ROOT), reply.text);
    assert.equal(reply.body.stack, undefined, reply.text);
  }
  assert.ok(logs.some((line) => line.includes('"STORE_CORRUPT"')), 'the corrupt store must be logged');
});

/** Variables the monitor reads; removed from the inherited environment so each test sets its own. */
const MONITOR_VARIABLES = [
  'PORT', 'HOST', 'DEBUG_MODE', 'WORKSPACE_ROOT', 'DEV_CONTAINER', 'DEV_SERVICE', 'COMPOSE_FILE', 'MOUNT_DATA_FILE',
  'RECREATE_JOURNAL_FILE', 'DOCKER_HOST', 'MONITOR_TOKEN', 'HOST_PATH_ALLOW', 'HOST_PATH_DENY', 'HOST_PATH_STYLE',
  'APPLY_DELAY_MS', 'STOP_TIMEOUT_SECONDS', 'START_TIMEOUT_MS', 'MIN_UPTIME_MS', 'ENGINE_TIMEOUT_MS', 'STORE_POLL_MS',
  'LANGUAGE', 'LOG_LEVEL', 'SELF_CONTAINER_ID',
];

test('monitor rejects invalid debug mode at start', { timeout: 10_000 }, async (t) => {
  const folder = await tempFolder(t);
  const child = spawnServer(t, 'servers/monitor/main.ts', MONITOR_VARIABLES, {
    PORT: String(await freePort()),
    HOST: '127.0.0.1',
    DEBUG_MODE: 'maybe',
    MOUNT_DATA_FILE: join(folder, 'mounts.json'),
    COMPOSE_FILE: '',
    DOCKER_HOST: `unix://${join(folder, 'docker.sock')}`,
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const [code] = await once(child, 'exit');
  assert.notEqual(code, 0);
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, stderr);
  assert.match(lines[0]!, /\bDEBUG_MODE\b/);
});

test('monitor serves health until sigterm', { timeout: 10_000 }, async (t) => {
  const folder = await tempFolder(t);
  const port = await freePort();
  const child = spawnServer(t, 'servers/monitor/main.ts', MONITOR_VARIABLES, {
    PORT: String(port),
    HOST: '127.0.0.1',
    MOUNT_DATA_FILE: join(folder, 'mounts.json'),
    COMPOSE_FILE: '',
    DOCKER_HOST: `unix://${join(folder, 'docker.sock')}`,
  });
  const exited = once(child, 'exit');
  const messages = logMessages(child);
  await waitForLog(child, messages, 'monitor started');

  const health = await send(`http://127.0.0.1:${port}`, 'GET', '/api/health');
  assert.equal(health.status, 200);
  assert.equal(health.body.data.docker.reachable, false);

  assert.ok(child.kill('SIGTERM'));
  const [code, signal] = await exited;
  assert.equal(signal, null);
  assert.equal(code, 0);
  assert.ok(messages.includes('monitor stopped'), messages.join('\n'));
});
