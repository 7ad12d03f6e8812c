/**
 * Log lines from the diagnostics channels, written by a logger into an
 * array: operations logged as started/finished pairs with their id, engine
 * failures at warn with a rate limit per code, and LOG_LEVEL filtering.
 */
import assert from 'node:assert/strict';
import { channel } from 'node:diagnostics_channel';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { DockerClient } from '../../lib/docker/index.js';
import { DockerUnavailableError, EngineError } from '../../lib/errors.js';
import { Reconciler } from '../../lib/reconciler/reconciler.js';
import { MountStore } from '../../lib/store/index.js';
import { managedTargetTest } from '../../lib/validation/managed-target.js';
import { createLogger, type LogLevel } from '../../servers/common/log.js';
import { subscribeEventLog } from '../../servers/monitor/event-log.js';
import { ENGINE_CHANNEL } from '../../servers/monitor/metrics.js';
import { collect, spawnServer } from '../helpers/process.js';
import { freePort } from '../helpers/stack.js';

interface Line {
  level: string;
  message: string;
  [field: string]: unknown;
}

function arrayLogger(level: LogLevel = 'debug') {
  const lines: Line[] = [];
  const log = createLogger('monitor', level, (line) => lines.push(JSON.parse(line) as Line));
  return { log, lines };
}

test('operation logged as a start and finish pair', async (t) => {
  const folder = await mkdtemp(join(tmpdir(), 'mc-event-log-'));
  t.after(() => rm(folder, { recursive: true, force: true }));
  const { log, lines } = arrayLogger();
  t.after(subscribeEventLog(log));
  const engine = new DockerClient({ host: `unix://${join(folder, 'missing.sock')}`, timeoutMs: 2000 });
  t.after(() => engine.close());
  const reconciler = new Reconciler({
    store: new MountStore({ file: join(folder, 'mounts.json'), workspaceRoot: '/workspace' }),
    engine,
    container: 'dev',
    isManaged: managedTargetTest('/workspace'),
    retryDelaysMs: [3_600_000],
  });
  t.after(() => reconciler.close());

  const operation = await reconciler.settled(reconciler.request('apply'));
  const own = lines.filter((line) => line.operation_id === operation.id);
  assert.deepEqual(own.map((line) => [line.level, line.message]), [
    ['info', 'operation started'],
    ['debug', 'operation step'],
    ['debug', 'operation step'],
    ['error', 'operation finished'],
  ]);
  const finished = own.at(-1)!;
  assert.equal(finished.state, 'failed');
  assert.equal(finished.step, 'inspect');
  assert.equal((finished.error as { code: string }).code, 'DOCKER_UNAVAILABLE');
  assert.equal(typeof finished.duration_ms, 'number');
  assert.equal(typeof finished.time, 'string');
  assert.ok(!Number.isNaN(Date.parse(String(finished.time))));

  const engineLine = lines.find((line) => line.message === 'engine request failed');
  assert.ok(engineLine, JSON.stringify(lines));
  assert.equal(engineLine.level, 'warn');
  assert.equal(engineLine.error_code, 'DOCKER_UNAVAILABLE');
  assert.equal(engineLine.method, 'GET');
  assert.equal(typeof engineLine.path, 'string');
  assert.equal(engineLine.status, null);
});

test('engine failures rate limited per code', (t) => {
  let now = 1_000_000;
  const { log, lines } = arrayLogger();
  t.after(subscribeEventLog(log, { now: () => now }));
  const engine = channel(ENGINE_CHANNEL);
  const unavailable = new DockerUnavailableError('cannot reach Docker Engine');
  const notFound = new EngineError(404, 'GET', '/v1.41/containers/dev/json', 'No such container: dev');

  for (let i = 0; i < 5; i++) engine.publish({ method: 'GET', path: '/_ping', durationMs: 1.4, error: unavailable });
  engine.publish({ method: 'GET', path: '/v1.41/containers/dev/json', status: 404, durationMs: 2, error: notFound });
  engine.publish({ method: 'GET', path: '/_ping', status: 200, durationMs: 1 });
  assert.deepEqual(lines.map((line) => line.error_code), ['DOCKER_UNAVAILABLE', 'CONTAINER_NOT_FOUND']);
  assert.equal(lines[0]!.suppressed, 0);
  assert.equal(lines[0]!.duration_ms, 1);
  assert.deepEqual([lines[1]!.method, lines[1]!.path, lines[1]!.status], ['GET', '/v1.41/containers/dev/json', 404]);
  assert.equal(lines[1]!.level, 'debug', 'a 404 is an expected answer, not a warning');

  now += 9_999;
  engine.publish({ method: 'GET', path: '/_ping', durationMs: 1, error: unavailable });
  assert.equal(lines.length, 2, 'still inside the 10 s window');

  now += 1;
  engine.publish({ method: 'GET', path: '/_ping', durationMs: 1, error: unavailable });
  assert.equal(lines.length, 3);
  assert.equal(lines[2]!.level, 'warn');
  assert.equal(lines[2]!.suppressed, 5, 'the repeats of the previous window are counted');
});

test('event log stops after unsubscribe', () => {
  const { log, lines } = arrayLogger();
  const unsubscribe = subscribeEventLog(log);
  unsubscribe();
  channel(ENGINE_CHANNEL).publish({ method: 'GET', path: '/_ping', durationMs: 1, error: new DockerUnavailableError('x') });
  assert.equal(lines.length, 0);
});

test('log level drops lower lines', (t) => {
  const { log, lines } = arrayLogger('warn');
  t.after(subscribeEventLog(log));
  const reconciler = channel('mount-core:reconciler');
  reconciler.publish({ event: 'operation-start', operation: { id: 'op_1', kind: 'apply' } });
  reconciler.publish({ event: 'operation-end', operation: { id: 'op_1', kind: 'apply', state: 'succeeded', steps: [], duration_ms: 5 } });
  channel(ENGINE_CHANNEL).publish({ method: 'POST', path: '/containers/create', status: 500, durationMs: 3, error: new EngineError(500, 'POST', '/containers/create', 'boom') });
  assert.deepEqual(lines.map((line) => [line.level, line.message]), [['warn', 'engine request failed']]);
});

/** Variables the monitor reads; removed from the inherited environment so the test sets its own. */
const MONITOR_VARIABLES = ['PORT', 'HOST', 'DEBUG_MODE', 'COMPOSE_FILE', 'MOUNT_DATA_FILE', 'DOCKER_HOST', 'MONITOR_TOKEN', 'LOG_LEVEL', 'APPLY_DELAY_MS'];

/** Runs the monitor main until it logs `until`, stops it with SIGTERM and returns every JSON line it wrote. */
async function monitorLines(t: TestContext, logLevel: string, until: (lines: Line[]) => boolean): Promise<Line[]> {
  const folder = await mkdtemp(join(tmpdir(), 'mc-event-log-'));
  t.after(() => rm(folder, { recursive: true, force: true }));
  const child = spawnServer(t, 'servers/monitor/main.ts', MONITOR_VARIABLES, {
    PORT: String(await freePort()),
    HOST: '127.0.0.1',
    MOUNT_DATA_FILE: join(folder, 'mounts.json'),
    COMPOSE_FILE: '',
    DOCKER_HOST: `unix://${join(folder, 'docker.sock')}`,
    LOG_LEVEL: logLevel,
  });
  const exited = once(child, 'exit');
  const stdout = collect(child.stdout);
  const parse = () => stdout().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Line);
  while (!until(parse())) {
    if (child.exitCode !== null) assert.fail(`monitor exited early: ${stdout()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  child.kill('SIGTERM');
  await exited;
  return parse();
}

test('monitor process logs pairs', { timeout: 15_000 }, async (t) => {
  const finished = (lines: Line[]) => lines.some((line) => line.message === 'operation finished');
  const lines = await monitorLines(t, 'info', finished);
  const messages = lines.map((line) => line.message);
  assert.equal(messages[0], 'monitor started');
  assert.equal(messages.at(-1), 'monitor stopped');
  const started = lines.find((line) => line.message === 'operation started')!;
  const done = lines.find((line) => line.message === 'operation finished')!;
  assert.equal(done.operation_id, started.operation_id);
  assert.equal(done.state, 'failed');
  assert.ok(lines.some((line) => line.message === 'engine request failed' && line.level === 'warn' && line.error_code === 'DOCKER_UNAVAILABLE'));
  assert.equal(lines.some((line) => line.level === 'debug'), false, 'LOG_LEVEL=info drops debug lines');
});

test('monitor process honours LOG_LEVEL', { timeout: 15_000 }, async (t) => {
  const lines = await monitorLines(t, 'warn', (seen) => seen.some((line) => line.message === 'operation finished'));
  assert.ok(lines.length > 0);
  assert.deepEqual([...new Set(lines.map((line) => line.level))].filter((level) => level !== 'warn' && level !== 'error'), []);
});
