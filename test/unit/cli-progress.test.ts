/** The --wait follower in process: the redrawn terminal line, plain lines, a timeout and a server that went away. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiClient } from '../../cli/client.js';
import { followOperation } from '../../cli/progress.js';
import { startMonitor } from '../helpers/monitor.js';
import { freePort } from '../helpers/stack.js';

const clientFor = (baseUrl: string) => new ApiClient({ baseUrl, proxy: false, token: undefined, language: 'en' });

test('progress redraws one line on a terminal', async (t) => {
  // The delay keeps the apply running for a few polls before it fails.
  const monitor = await startMonitor(t, { env: { APPLY_DELAY_MS: '400' } });
  const operation = monitor.reconciler.request('apply');
  const writes: string[] = [];
  const result = await followOperation(clientFor(monitor.api), operation.id, { write: (text) => writes.push(text), tty: true, timeoutMs: 10_000, intervalMs: 50 });

  assert.equal(result.kind, 'settled');
  assert.equal(result.kind === 'settled' && result.failed, true);
  const redraws = writes.filter((text) => text.startsWith('\r\u001b[2K') && text.includes(`${operation.id} apply running`));
  assert.ok(redraws.length >= 2, `expected several redraws, got ${JSON.stringify(writes)}`);
  assert.match(redraws[0]!, /\(\d+\.\ds\)$/);
  assert.ok(redraws.every((text) => !text.includes('\n')), 'a redrawn line has no line feed');
  assert.match(writes.at(-1)!, new RegExp(`^${operation.id} apply failed in \\d+\\.\\ds at step inspect: DOCKER_UNAVAILABLE: .*\\n$`));
  assert.equal(writes.at(-2), '\r\u001b[2K', 'the progress line is cleared before the result');
});

test('progress prints plain lines once', async (t) => {
  const monitor = await startMonitor(t, { env: { APPLY_DELAY_MS: '200' } });
  const operation = monitor.reconciler.request('apply');
  const writes: string[] = [];
  await followOperation(clientFor(monitor.api), operation.id, { write: (text) => writes.push(text), tty: false, timeoutMs: 10_000, intervalMs: 20 });
  const lines = writes.join('').trim().split('\n');
  assert.deepEqual(lines.slice(0, 2).map((line) => line.replace(/ at \d+\.\ds$/, '')), [`${operation.id} apply step read-store`, `${operation.id} apply step inspect`]);
  assert.equal(lines.length, 3, 'each step once, then the result');
});

test('progress gives up after the timeout', async (t) => {
  const monitor = await startMonitor(t, { env: { APPLY_DELAY_MS: '2000' } });
  const operation = monitor.reconciler.request('apply');
  const result = await followOperation(clientFor(monitor.api), operation.id, { write: () => {}, tty: false, timeoutMs: 150, intervalMs: 20 });
  assert.equal(result.kind, 'timeout');
  assert.equal(result.kind === 'timeout' && result.lastError, undefined);
});

test('progress keeps polling an unreachable server', async () => {
  const writes: string[] = [];
  const baseUrl = `http://127.0.0.1:${await freePort()}/api`;
  const result = await followOperation(clientFor(baseUrl), 'op_000000000000', { write: (text) => writes.push(text), tty: false, timeoutMs: 300, intervalMs: 20 });
  assert.equal(result.kind, 'timeout');
  assert.match(String(result.kind === 'timeout' && result.lastError?.message), /ECONNREFUSED/);
  assert.equal(writes.length, 1, 'the outage is announced once');
  assert.match(writes[0]!, /^op_000000000000 waiting for the server to respond again: cannot reach/);
});

test('progress returns a rejected reply', async (t) => {
  const monitor = await startMonitor(t);
  const result = await followOperation(clientFor(monitor.api), 'op_000000000000', { write: () => {}, tty: false, timeoutMs: 1000 });
  assert.equal(result.kind, 'rejected');
  assert.equal(result.kind === 'rejected' && result.reply.envelope.code, 'OPERATION_NOT_FOUND');
});
