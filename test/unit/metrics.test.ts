/**
 * The monitor's /metrics: the Prometheus text format and the values after a
 * few requests, an apply that fails with DOCKER_UNAVAILABLE, and watchdog
 * restarts published on its diagnostics channel.
 */
import assert from 'node:assert/strict';
import { channel } from 'node:diagnostics_channel';
import { test } from 'node:test';
import { Counter, Histogram, renderFamilies } from '../../servers/common/prometheus.js';
import { MonitorMetrics, RECONCILER_CHANNEL, routeLabeler, WATCHDOG_CHANNEL } from '../../servers/monitor/metrics.js';
import { startMonitor } from '../helpers/monitor.js';

const TOKEN = 'metrics-test-token';

/** Sample values by `name{labels}` as the exposition writes them. */
function samples(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{.*\})?) (\S+)$/.exec(line);
    assert.ok(match, `malformed sample line: ${line}`);
    values.set(match[1]!, Number(match[2]));
  }
  return values;
}

/** Checks that each family has HELP, then TYPE, then only its own samples. */
function checkFamilies(text: string): void {
  assert.ok(text.endsWith('\n'), 'the exposition ends with a line feed');
  let family: string | undefined;
  let type: string | undefined;
  for (const line of text.trimEnd().split('\n')) {
    const help = /^# HELP (\S+) .+$/.exec(line);
    if (help) {
      family = help[1];
      type = undefined;
      continue;
    }
    const typeLine = /^# TYPE (\S+) (counter|gauge|histogram)$/.exec(line);
    if (typeLine) {
      assert.equal(typeLine[1], family, `TYPE of ${typeLine[1]} follows the HELP of ${family}`);
      type = typeLine[2];
      continue;
    }
    assert.ok(type, `sample before TYPE: ${line}`);
    const name = line.split(/[{ ]/)[0]!;
    const allowed = type === 'histogram' ? [`${family}_bucket`, `${family}_sum`, `${family}_count`] : [family];
    assert.ok(allowed.includes(name), `${name} inside family ${family}`);
  }
}

test('metrics require the token', async (t) => {
  const monitor = await startMonitor(t, { env: { MONITOR_TOKEN: TOKEN }, metrics: true });
  const response = await fetch(`${monitor.origin}/metrics`);
  assert.equal(response.status, 401);
  assert.equal(((await response.json()) as { code: string }).code, 'UNAUTHORIZED');
});

test('metrics without a collector answer 404', async (t) => {
  const monitor = await startMonitor(t);
  const response = await fetch(`${monitor.origin}/metrics`);
  assert.equal(response.status, 404);
  assert.equal(((await response.json()) as { code: string }).code, 'ROUTE_NOT_FOUND');
});

test('metrics after requests and an apply', async (t) => {
  const monitor = await startMonitor(t, { env: { MONITOR_TOKEN: TOKEN }, metrics: true });
  const auth = { authorization: `Bearer ${TOKEN}` };
  await fetch(`${monitor.api}/mounts`, { headers: auth });
  await fetch(`${monitor.api}/mounts`, { headers: auth });
  await fetch(`${monitor.api}/mounts/nobody/ws1`, { headers: auth });
  await fetch(`${monitor.api}/mounts/someone/ws2`, { headers: auth });
  await fetch(`${monitor.api}/not/a/route`, { headers: auth });
  await fetch(`${monitor.origin}/metrics`);
  const added = await fetch(`${monitor.api}/mounts`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ user_id: 'alice', workspace_id: 'ws1', local_path: monitor.hostFolder }),
  });
  assert.equal(added.status, 202);
  const operation = monitor.reconciler.operation(((await added.json()) as { data: { operation: { id: string } } }).data.operation.id)!;
  await monitor.reconciler.settled(operation);
  const watchdog = channel(WATCHDOG_CHANNEL);
  watchdog.publish({ event: 'restart', container: 'dev' });
  watchdog.publish({ event: 'restart', container: 'dev' });
  watchdog.publish({ event: 'death', container: 'dev' });

  const response = await fetch(`${monitor.origin}/metrics`, { headers: auth });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  const text = await response.text();
  checkFamilies(text);
  const values = samples(text);

  assert.equal(values.get('mountcore_applies_total{result="failed"}'), 1);
  assert.equal(values.get('mountcore_applies_total{result="succeeded"}'), 0);
  assert.equal(values.get('mountcore_apply_duration_seconds_count'), 1);
  assert.equal(values.get('mountcore_apply_duration_seconds_bucket{le="+Inf"}'), 1);
  assert.equal(values.get('mountcore_apply_duration_seconds_sum'), (operation.duration_ms ?? 0) / 1000);
  assert.equal(values.get('mountcore_recreate_step_duration_seconds_count{step="read-store"}'), 1);
  assert.equal(values.get('mountcore_recreate_step_duration_seconds_count{step="inspect"}'), 1);
  assert.equal(values.get('mountcore_mounts{state="pending"}'), 1);
  assert.equal(values.get('mountcore_mounts{state="applied"}'), 0);
  assert.equal(values.get('mountcore_mounts{state="failed"}'), 0);
  assert.equal(values.get('mountcore_store_up'), 1);
  assert.equal(values.get('mountcore_http_requests_total{route="/api/mounts",method="GET",status="200"}'), 2);
  assert.equal(values.get('mountcore_http_requests_total{route="/api/mounts/:userId/:workspaceId",method="GET",status="404"}'), 2);
  assert.equal(values.get('mountcore_http_requests_total{route="unmatched",method="GET",status="404"}'), 1);
  assert.equal(values.get('mountcore_http_requests_total{route="/metrics",method="GET",status="401"}'), 1);
  assert.equal(values.get('mountcore_http_requests_total{route="/api/mounts",method="POST",status="202"}'), 1);
  assert.ok((values.get('mountcore_engine_errors_total{code="DOCKER_UNAVAILABLE"}') ?? 0) >= 1, text);
  assert.equal(values.get('mountcore_container_restarts_total'), 2);
});

test('metrics histogram buckets are cumulative', () => {
  const histogram = new Histogram('test_seconds', 'Test.', [1, 0.1, 10]);
  for (const value of [0.05, 0.5, 0.5, 5, 50]) histogram.observe(value, { step: 'a' });
  const values = samples(renderFamilies([histogram]));
  assert.equal(values.get('test_seconds_bucket{step="a",le="0.1"}'), 1);
  assert.equal(values.get('test_seconds_bucket{step="a",le="1"}'), 3);
  assert.equal(values.get('test_seconds_bucket{step="a",le="10"}'), 4);
  assert.equal(values.get('test_seconds_bucket{step="a",le="+Inf"}'), 5);
  assert.equal(values.get('test_seconds_count{step="a"}'), 5);
  assert.equal(values.get('test_seconds_sum{step="a"}'), 56.05);
});

test('metrics escape label values', () => {
  const counter = new Counter('test_total', 'Help with a \\ backslash\nand a line feed.');
  counter.inc({ path: 'a"b\\c\nd' });
  counter.inc({ path: 'a"b\\c\nd' }, 2);
  const text = renderFamilies([counter]);
  assert.match(text, /^# HELP test_total Help with a \\\\ backslash\\nand a line feed\.$/m);
  assert.match(text, /^test_total\{path="a\\"b\\\\c\\nd"\} 3$/m);
});

test('metrics step durations from operation steps', (t) => {
  const metrics = new MonitorMetrics({ store: { read: async () => ({ mounts: [] }) } });
  t.after(() => metrics.close());
  channel(RECONCILER_CHANNEL).publish({
    event: 'operation-end',
    operation: { id: 'op_1', kind: 'apply', state: 'succeeded', steps: [{ step: 'inspect', at_ms: 0 }, { step: 'create', at_ms: 100 }], duration_ms: 350 },
  });
  const values = samples(renderFamilies([metrics.stepDuration]));
  assert.equal(values.get('mountcore_recreate_step_duration_seconds_sum{step="inspect"}'), 0.1);
  assert.equal(values.get('mountcore_recreate_step_duration_seconds_sum{step="create"}'), 0.25);
  assert.equal(metrics.applies.get({ result: 'succeeded' }), 1);
});

test('metrics without a readable store', async (t) => {
  const metrics = new MonitorMetrics({
    store: {
      read: async () => {
        throw new Error('corrupt');
      },
    },
  });
  t.after(() => metrics.close());
  const values = samples(await metrics.render());
  assert.equal(values.get('mountcore_store_up'), 0);
  assert.equal([...values.keys()].some((key) => key.startsWith('mountcore_mounts')), false);
});

test('metrics stop counting after close', () => {
  const metrics = new MonitorMetrics({ store: { read: async () => ({ mounts: [] }) } });
  metrics.close();
  channel(WATCHDOG_CHANNEL).publish({ event: 'restart' });
  assert.equal(metrics.containerRestarts.get(), 0);
});

test('route labels use the pattern', () => {
  const label = routeLabeler(['GET /api/mounts/:userId/:workspaceId', 'GET /api/debug/stats', 'DELETE /api/mounts/:userId/:workspaceId', 'GET /api/operations/:id']);
  assert.equal(label('/api/mounts/alice/ws1'), '/api/mounts/:userId/:workspaceId');
  assert.equal(label('/api/debug/stats'), '/api/debug/stats');
  assert.equal(label('/api/operations/op_1'), '/api/operations/:id');
  assert.equal(label('/api/mounts/alice'), 'unmatched');
});
