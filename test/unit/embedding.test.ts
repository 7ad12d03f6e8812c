/**
 * examples/embed-proxy.ts as a child process, importing `mount-core/dev-proxy`
 * from source (the `mount-core-source` export condition), in front of a fake
 * monitor on 127.0.0.1 that records what the proxy forwards.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { test } from 'node:test';
import { listen } from '../helpers/http.js';
import { collect } from '../helpers/process.js';
import { REPO_ROOT } from '../helpers/stack.js';

interface Forwarded {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

test('embedded proxy serves beside own routes', { timeout: 20_000 }, async (t) => {
  const forwarded: Forwarded[] = [];
  const monitor = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      forwarded.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const status = req.method === 'POST' ? 202 : 200;
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ success: true, message: 'from the fake monitor', data: { mount: null, operation: null } }));
    });
  });
  const monitorOrigin = await listen(t, monitor);

  const env: NodeJS.ProcessEnv = { ...process.env, MONITOR_API: `${monitorOrigin}/api`, PORT: '0', MONITOR_TOKEN: 'embed-token' };
  const child = spawn(process.execPath, ['--conditions=mount-core-source', '--import', 'tsx', 'examples/embed-proxy.ts'], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const stdout = collect(child.stdout);
  const stderr = collect(child.stderr);
  while (!stdout().includes('\n')) {
    if (child.exitCode !== null) assert.fail(`example exited early: ${stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const started = JSON.parse(stdout().split('\n')[0]!) as { message: string; url: string; monitor_api: string };
  assert.equal(started.message, 'service started');
  assert.equal(started.monitor_api, `${monitorOrigin}/api`);
  const base = started.url;

  const own = await fetch(`${base}/hello`);
  assert.equal(own.status, 200);
  assert.equal(await own.text(), 'hello from the service\n');

  const missing = await fetch(`${base}/elsewhere`);
  assert.equal(missing.status, 404);
  assert.equal(await missing.text(), 'not found\n', 'paths outside the prefix reach the service, not the proxy');
  assert.equal(forwarded.length, 0);

  const check = await fetch(`${base}/api/mounts/test-monitor`);
  assert.equal(check.status, 200);
  const health = (await check.json()) as { data: { status: string; api_url: string } };
  assert.equal(health.data.status, 'connected');
  assert.equal(forwarded[0]?.url, '/api/health');

  const body = JSON.stringify({ user_id: 'alice', workspace_id: 'ws1', local_path: '/srv/alice' });
  const added = await fetch(`${base}/api/mounts/mount`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  assert.equal(added.status, 202);
  assert.equal(((await added.json()) as { message: string }).message, 'from the fake monitor');
  assert.deepEqual([forwarded[1]?.method, forwarded[1]?.url, forwarded[1]?.body], ['POST', '/api/mounts', body]);
  assert.equal(forwarded[1]?.headers.authorization, 'Bearer embed-token');

  const unknown = await fetch(`${base}/api/mounts/nothing`);
  assert.equal(unknown.status, 404);
  assert.equal(((await unknown.json()) as { code: string }).code, 'ROUTE_NOT_FOUND', 'paths inside the prefix stay with the proxy');

  const document = await fetch(`${base}/api/mounts/openapi.json`);
  assert.equal(document.status, 200);
  assert.equal(((await document.json()) as { openapi: string }).openapi, '3.1.0');

  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
  assert.match(stdout(), /"service stopped"/);
  assert.equal(forwarded.length, 2, 'only the two proxied requests reached the monitor');
});
