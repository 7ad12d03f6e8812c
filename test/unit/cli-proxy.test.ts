/**
 * mountctl through the development-container proxy handler, which forwards to
 * the real monitor handler; both on 127.0.0.1 port 0. A recording server
 * checks which token each mode sends.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { test } from 'node:test';
import { runMountctl } from '../helpers/cli.js';
import { listen } from '../helpers/http.js';
import { startMonitor, startProxy } from '../helpers/monitor.js';
import { freePort } from '../helpers/stack.js';

test('cli through proxy runs every command', async (t) => {
  const monitor = await startMonitor(t);
  const proxy = await startProxy(t, monitor.api);
  const url = ['--url', proxy.url];

  const check = await runMountctl(['test', ...url]);
  assert.equal(check.code, 0, check.stderr);
  assert.match(check.stdout, new RegExp(`monitor API ${monitor.api}: connected`));

  const add = await runMountctl(['mount', '-u', 'alice', '-w', 'ws1', '-p', monitor.hostFolder, '--desc', 'via proxy', ...url]);
  assert.equal(add.code, 0, add.stderr);
  assert.match(add.stdout, /operation op_[0-9a-f]{12}/);
  assert.equal((await monitor.store.get('alice', 'ws1'))?.description, 'via proxy');

  const list = await runMountctl(['list', ...url]);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^alice +ws1 /m);

  const show = await runMountctl(['show', 'alice', 'ws1', ...url]);
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, /description: +via proxy/);

  const missing = await runMountctl(['show', 'nobody', 'ws', ...url]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /\[MOUNT_NOT_FOUND, HTTP 404\]/);

  const restart = await runMountctl(['restart', '--json', ...url]);
  assert.equal(restart.code, 0, restart.stderr);
  const operationId = JSON.parse(restart.stdout).data.operation.id as string;
  await monitor.reconciler.settled(monitor.reconciler.operation(operationId)!);

  const status = await runMountctl(['status', operationId, ...url]);
  assert.equal(status.code, 4, 'the restart failed with DOCKER_UNAVAILABLE');
  assert.match(status.stdout, /error: +DOCKER_UNAVAILABLE/);

  const rm = await runMountctl(['unmount', '-u', 'alice', '-w', 'ws1', ...url]);
  assert.equal(rm.code, 0, rm.stderr);
  assert.equal(await monitor.store.get('alice', 'ws1'), undefined);
});

test('cli through proxy waits for failed', async (t) => {
  const monitor = await startMonitor(t);
  const proxy = await startProxy(t, monitor.api);
  const run = await runMountctl(['add', 'bob', 'ws2', monitor.hostFolder, '--wait', '--url', proxy.url]);
  assert.equal(run.code, 4, run.stderr);
  assert.match(run.stderr, /^op_[0-9a-f]{12} apply step inspect at /m);
  assert.match(run.stderr, /apply failed in \d+\.\ds at step inspect: DOCKER_UNAVAILABLE/);
});

test('cli proxy flag selects the original routes', async (t) => {
  const monitor = await startMonitor(t);
  const proxy = await startProxy(t, monitor.api, '/legacy');

  const guessed = await runMountctl(['show', 'nobody', 'ws', '--url', proxy.url]);
  assert.equal(guessed.code, 1);
  assert.match(guessed.stderr, /\[ROUTE_NOT_FOUND, HTTP 404\]/, 'without --proxy the monitor route /legacy/mounts/nobody/ws is tried');

  const routed = await runMountctl(['show', 'nobody', 'ws', '--proxy', '--url', proxy.url]);
  assert.equal(routed.code, 1);
  assert.match(routed.stderr, /\[MOUNT_NOT_FOUND, HTTP 404\]/);

  const flagged = await runMountctl(['ls', '--proxy', '--url', proxy.url]);
  assert.equal(flagged.code, 0, flagged.stderr);
  assert.equal(flagged.stdout, 'no mounts\n');

  const check = await runMountctl(['test', '--proxy', '--url', proxy.url]);
  assert.equal(check.code, 0, check.stderr);
  assert.match(check.stdout, /: connected/);
});

test('cli exits 3 when the proxy cannot reach the monitor', async (t) => {
  const proxy = await startProxy(t, `http://127.0.0.1:${await freePort()}/api`);
  const check = await runMountctl(['test', '--url', proxy.url]);
  assert.equal(check.code, 3);
  assert.match(check.stderr, /\[MONITOR_UNAVAILABLE, HTTP 503\]/);

  const list = await runMountctl(['ls', '--url', proxy.url]);
  assert.equal(list.code, 3);
  assert.match(list.stderr, /\[MONITOR_UNAVAILABLE, HTTP 503\]/);
});

test('cli sends the token of its mode', async (t) => {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ success: true, message: 'ok', data: { revision: 0, mounts: [] } }));
  });
  const origin = await listen(t, server);
  const tokens = { MONITOR_TOKEN: 'monitor-secret', PROXY_TOKEN: 'proxy-secret' };

  const monitorRun = await runMountctl(['ls', '--url', `${origin}/api`], tokens);
  assert.equal(monitorRun.code, 0, monitorRun.stderr);
  assert.equal(seen[0]?.authorization, 'Bearer monitor-secret');
  assert.equal(seen[0]?.['accept-language'], 'en');

  const proxyRun = await runMountctl(['ls', '--lang', 'zh-CN', '--url', `${origin}/api/mounts`], tokens);
  assert.equal(proxyRun.code, 0, proxyRun.stderr);
  assert.equal(seen[1]?.authorization, 'Bearer proxy-secret');
  assert.equal(seen[1]?.['accept-language'], 'zh-CN');

  const none = await runMountctl(['ls', '--url', `${origin}/api/mounts`], { MONITOR_TOKEN: 'monitor-secret' });
  assert.equal(none.code, 0, none.stderr);
  assert.equal(seen[2]?.authorization, undefined, 'the monitor token is not sent to the proxy');
});
