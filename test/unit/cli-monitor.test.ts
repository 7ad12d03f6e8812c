/**
 * mountctl against the real monitor handler on 127.0.0.1 port 0: a real
 * MountStore in a temp folder and a DockerClient on a missing socket, so every
 * apply fails with DOCKER_UNAVAILABLE. The CLI runs as a child process.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runMountctl } from '../helpers/cli.js';
import { startMonitor } from '../helpers/monitor.js';

test('cli test reports the monitor and docker', async (t) => {
  const monitor = await startMonitor(t);
  const run = await runMountctl(['test', '--url', monitor.api]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /monitor is running/);
  assert.match(run.stdout, /unreachable \(DOCKER_UNAVAILABLE\)/);
  assert.match(run.stdout, /container openmanus-core-dev: unknown/);
});

test('cli add, show, ls and rm a mount', async (t) => {
  const monitor = await startMonitor(t);
  const url = ['--url', monitor.api];

  const add = await runMountctl(['add', 'alice', 'ws1', monitor.hostFolder, '--desc', 'first', '--read-only', ...url]);
  assert.equal(add.code, 0, add.stderr);
  assert.match(add.stdout, /^mount saved; applying it/);
  assert.match(add.stdout, /alice\/ws1 {2}\S+ -> \/workspace\/alice\/ws1 \(ro\)/);
  assert.match(add.stdout, /operation op_[0-9a-f]{12} \(apply, (queued|running|failed)\)/);
  const stored = await monitor.store.get('alice', 'ws1');
  assert.equal(stored?.description, 'first');
  assert.equal(stored?.read_only, true);

  const show = await runMountctl(['show', 'alice', 'ws1', ...url]);
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, /user: +alice/);
  assert.match(show.stdout, /mode: +read-only/);
  assert.match(show.stdout, new RegExp(`host path: +${monitor.hostFolder}`));

  const ls = await runMountctl(['ls', ...url]);
  assert.equal(ls.code, 0, ls.stderr);
  const lines = ls.stdout.trim().split('\n');
  assert.match(lines[0]!, /^USER +WORKSPACE +STATE +MODE +HOST PATH +CONTAINER PATH +DESCRIPTION$/);
  assert.match(lines[1]!, /^alice +ws1 +(pending|failed) +ro /);

  const rm = await runMountctl(['rm', 'alice', 'ws1', ...url]);
  assert.equal(rm.code, 0, rm.stderr);
  assert.match(rm.stdout, /^mount removed;/);
  assert.equal(await monitor.store.get('alice', 'ws1'), undefined);

  const empty = await runMountctl(['ls', ...url]);
  assert.equal(empty.stdout, 'no mounts\n');
});

test('cli accepts the original tool commands and flags', async (t) => {
  const monitor = await startMonitor(t);
  const url = ['--url', monitor.api];

  const mount = await runMountctl(['mount', '-u', 'bob', '-w', 'ws2', '-p', monitor.hostFolder, '--desc', 'from flags', ...url]);
  assert.equal(mount.code, 0, mount.stderr);
  assert.equal((await monitor.store.get('bob', 'ws2'))?.description, 'from flags');

  const long = await runMountctl(['mount', '--user', 'carol', '--workspace', 'ws3', '--path', monitor.hostFolder, ...url]);
  assert.equal(long.code, 0, long.stderr);

  const list = await runMountctl(['list', ...url]);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^bob +ws2 /m);
  assert.match(list.stdout, /^carol +ws3 /m);

  const unmount = await runMountctl(['unmount', '-u', 'bob', '-w', 'ws2', ...url]);
  assert.equal(unmount.code, 0, unmount.stderr);
  assert.equal(await monitor.store.get('bob', 'ws2'), undefined);

  const restart = await runMountctl(['restart', ...url]);
  assert.equal(restart.code, 0, restart.stderr);
  assert.match(restart.stdout, /restart of the development container started/);
  assert.match(restart.stdout, /operation op_[0-9a-f]{12} \(restart, /);
});

test('cli mixes flags and positionals', async (t) => {
  const monitor = await startMonitor(t);
  const run = await runMountctl(['add', '-u', 'dave', 'ws4', monitor.hostFolder, '--url', monitor.api]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal((await monitor.store.get('dave', 'ws4'))?.local_path, monitor.hostFolder);
});

test('cli exits 1 on a rejected request', async (t) => {
  const monitor = await startMonitor(t);
  const url = ['--url', monitor.api];
  const cases: Array<[string[], string]> = [
    [['show', 'nobody', 'ws', ...url], 'MOUNT_NOT_FOUND'],
    [['rm', 'nobody', 'ws', ...url], 'MOUNT_NOT_FOUND'],
    [['add', 'alice', 'ws1', 'relative/path', ...url], 'INVALID_LOCAL_PATH'],
    [['add', 'alice', 'ws1', '/etc', ...url], 'PATH_NOT_ALLOWED'],
    [['add', 'bad/id', 'ws1', monitor.hostFolder, ...url], 'INVALID_USER_ID'],
    [['status', 'op_000000000000', ...url], 'OPERATION_NOT_FOUND'],
  ];
  for (const [args, code] of cases) {
    const run = await runMountctl(args);
    assert.equal(run.code, 1, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, new RegExp(`\\[${code}, HTTP \\d{3}\\]`), args.join(' '));
    assert.equal(run.stdout, '', args.join(' '));
  }
});

test('cli json prints the raw envelope', async (t) => {
  const monitor = await startMonitor(t);
  await monitor.store.upsert({ user_id: 'erin', workspace_id: 'ws5', local_path: monitor.hostFolder, container_path: '/workspace/erin/ws5', description: '', read_only: false });
  const ls = await runMountctl(['ls', '--json', '--url', monitor.api]);
  assert.equal(ls.code, 0, ls.stderr);
  const envelope = JSON.parse(ls.stdout);
  assert.equal(envelope.success, true);
  assert.equal(envelope.data.mounts[0].user_id, 'erin');

  const missing = await runMountctl(['show', 'nobody', 'ws', '--json', '--url', monitor.api]);
  assert.equal(missing.code, 1);
  const error = JSON.parse(missing.stdout);
  assert.equal(error.success, false);
  assert.equal(error.code, 'MOUNT_NOT_FOUND');
});

test('cli lang sets the message language', async (t) => {
  const monitor = await startMonitor(t);
  const english = await runMountctl(['show', 'nobody', 'ws', '--url', monitor.api]);
  assert.match(english.stderr, /mount nobody\/ws not found/);
  const chinese = await runMountctl(['show', 'nobody', 'ws', '--lang', 'zh-CN', '--url', monitor.api]);
  assert.match(chinese.stderr, /挂载点不存在：nobody\/ws/);
});

test('cli wait follows an apply to failed', async (t) => {
  const monitor = await startMonitor(t);
  const run = await runMountctl(['add', 'frank', 'ws6', monitor.hostFolder, '--wait', '--url', monitor.api]);
  assert.equal(run.code, 4, run.stderr);
  const lines = run.stderr.trim().split('\n');
  assert.match(lines[0]!, /^op_[0-9a-f]{12} apply step read-store at \d+\.\ds$/);
  assert.match(lines[1]!, /^op_[0-9a-f]{12} apply step inspect at \d+\.\ds$/);
  assert.match(lines.at(-1)!, /^op_[0-9a-f]{12} apply failed in \d+\.\ds at step inspect: DOCKER_UNAVAILABLE: /);
  assert.doesNotMatch(run.stderr, /\u001b\[/, 'no terminal control sequences when stderr is not a terminal');
  assert.match(run.stdout, /state: +failed/);
  assert.match(run.stdout, /error: +DOCKER_UNAVAILABLE: /);
});

test('cli wait json prints the final operation', async (t) => {
  const monitor = await startMonitor(t);
  const run = await runMountctl(['restart', '--wait', '--json', '--url', monitor.api]);
  assert.equal(run.code, 4, run.stderr);
  const envelope = JSON.parse(run.stdout);
  assert.equal(envelope.data.operation.kind, 'restart');
  assert.equal(envelope.data.operation.state, 'failed');
  assert.equal(envelope.data.operation.error.code, 'DOCKER_UNAVAILABLE');
});

test('cli status exits 4 for a failed operation', async (t) => {
  const monitor = await startMonitor(t);
  const operation = await monitor.reconciler.settled(monitor.reconciler.request('apply'));
  assert.equal(operation.state, 'failed');

  const run = await runMountctl(['status', operation.id, '--url', monitor.api]);
  assert.equal(run.code, 4, run.stderr);
  assert.match(run.stdout, new RegExp(`operation: ${operation.id}`));
  assert.match(run.stdout, /steps: +read-store \(\+\d+ ms\), inspect \(\+\d+ ms\)/);

  const waited = await runMountctl(['status', operation.id, '--wait', '--url', monitor.api]);
  assert.equal(waited.code, 4, waited.stderr);
});

test('cli sends the monitor token from the environment only', async (t) => {
  const monitor = await startMonitor(t, { env: { MONITOR_TOKEN: 'token-secret-1' } });
  const without = await runMountctl(['ls', '--url', monitor.api]);
  assert.equal(without.code, 1);
  assert.match(without.stderr, /\[UNAUTHORIZED, HTTP 401\]/);

  const wrong = await runMountctl(['ls', '--url', monitor.api], { PROXY_TOKEN: 'token-secret-1' });
  assert.equal(wrong.code, 1, 'PROXY_TOKEN is not sent to the monitor');

  const withToken = await runMountctl(['ls', '--url', monitor.api], { MONITOR_TOKEN: 'token-secret-1' });
  assert.equal(withToken.code, 0, withToken.stderr);
  for (const run of [without, wrong, withToken]) assert.doesNotMatch(run.stdout + run.stderr, /token-secret-1/);
});
