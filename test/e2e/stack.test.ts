import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { docker, engineSkip, findEngine } from '../helpers/engine.js';
import { buildStackImage, call, eventually, startStack, type TestStack } from '../helpers/stack.js';

const engine = await findEngine();

describe('compose stack end to end', { skip: engineSkip(engine) }, () => {
  let stack: TestStack;
  let hostRoot: string;
  let original: string;

  before(async () => {
    await buildStackImage(engine!);
    stack = await startStack(engine!);
    original = await readFile(stack.composeFile, 'utf8');
    hostRoot = await mkdtemp(join(tmpdir(), 'mc-host-'));
  });

  after(async () => {
    if (stack) {
      if (process.env.MC_KEEP_STACK_LOGS) console.log(await stack.compose(['logs', '--no-color']).catch(String));
      await stack.down();
    }
    if (hostRoot) await rm(hostRoot, { recursive: true, force: true });
  });

  const waitForOperation = (id: string) =>
    eventually(`operation ${id}`, async () => {
      const answer = await call('GET', `${stack.monitorUrl}/operations/${id}`);
      const state = answer.body?.data?.operation?.state;
      return state === 'succeeded' || state === 'failed' ? answer.body.data.operation : undefined;
    });

  test('test-monitor reports connected', async () => {
    const answer = await call('GET', `${stack.proxyUrl}/test-monitor`);
    assert.equal(answer.status, 200);
    assert.equal(answer.body.success, true);
    assert.equal(answer.body.message, '监控API可用');
    assert.equal(answer.body.data.status, 'connected');
    assert.equal(answer.body.data.api_url, stack.monitorUrl);
  });

  test('mount through the proxy reaches the recreated container', async () => {
    const folder = join(hostRoot, 'ws1');
    await mkdir(folder);
    await writeFile(join(folder, 'marker.txt'), 'hello from the host\n');
    const before = (await docker(engine!, ['inspect', '-f', '{{.Id}}', 'openmanus-core-dev'])).trim();

    const answer = await call('POST', `${stack.proxyUrl}/mount`, {
      user_id: 'user1',
      workspace_id: 'ws1',
      local_path: folder,
      description: '测试挂载点',
    });
    assert.equal(answer.status, 202, JSON.stringify(answer.body));
    assert.equal(answer.body.success, true);
    assert.equal(answer.body.data.mount.container_path, '/workspace/user1/ws1');
    const operation = await waitForOperation(answer.body.data.operation.id);
    assert.equal(operation.state, 'succeeded', JSON.stringify(operation));
    assert.equal(operation.result.recreated, true);

    const afterId = (await docker(engine!, ['inspect', '-f', '{{.Id}}', 'openmanus-core-dev'])).trim();
    assert.notEqual(afterId, before);
    assert.equal((await docker(engine!, ['exec', 'openmanus-core-dev', 'cat', '/workspace/user1/ws1/marker.txt'])).trim(), 'hello from the host');

    const listed = await eventually('proxy back after recreate', async () => {
      const list = await call('GET', `${stack.proxyUrl}/mounts`);
      return list.status === 200 ? list.body : undefined;
    });
    assert.equal(listed.data.mounts.length, 1);
    assert.equal(listed.data.mounts[0].state, 'applied');
    assert.equal(listed.data.mounts[0].local_path, folder);

    const compose = await readFile(stack.composeFile, 'utf8');
    assert.match(compose, /target: \/workspace\/user1\/ws1/);
    assert.match(compose, /create_host_path: false/);
    assert.ok(compose.startsWith('# mount-core development stack.'), 'header comment kept');
    assert.ok(compose.includes('# Shared with the monitor: the mount store'), 'inline comments kept');
  });

  test('repeating the same mount recreates nothing', async () => {
    const before = (await docker(engine!, ['inspect', '-f', '{{.Id}}', 'openmanus-core-dev'])).trim();
    const answer = await call('POST', `${stack.monitorUrl}/mounts`, {
      user_id: 'user1',
      workspace_id: 'ws1',
      local_path: join(hostRoot, 'ws1'),
      description: '测试挂载点',
    });
    assert.equal(answer.status, 200);
    assert.equal(answer.body.data.operation, null);
    assert.equal((await docker(engine!, ['inspect', '-f', '{{.Id}}', 'openmanus-core-dev'])).trim(), before);
  });

  test('missing host folder fails and keeps the container', async () => {
    const before = (await docker(engine!, ['inspect', '-f', '{{.Id}}', 'openmanus-core-dev'])).trim();
    const missing = join(hostRoot, 'does-not-exist');
    const answer = await call('POST', `${stack.monitorUrl}/mounts?wait=true`, { user_id: 'user1', workspace_id: 'gone', local_path: missing });
    assert.equal(answer.status, 400, JSON.stringify(answer.body));
    assert.equal(answer.body.code, 'BIND_SOURCE_MISSING');
    assert.ok(answer.body.message.includes(missing));
    assert.equal((await docker(engine!, ['inspect', '-f', '{{.Id}}', 'openmanus-core-dev'])).trim(), before);
    const removed = await call('DELETE', `${stack.monitorUrl}/mounts/user1/gone?wait=true`);
    assert.equal(removed.status, 200, JSON.stringify(removed.body));
  });

  test('unmount through the proxy removes the folder', async () => {
    const answer = await call('DELETE', `${stack.proxyUrl}/mount/user1/ws1`, undefined, { 'accept-language': 'en' });
    assert.equal(answer.status, 202, JSON.stringify(answer.body));
    assert.match(answer.body.message, /removed/);
    const operation = await waitForOperation(answer.body.data.operation.id);
    assert.equal(operation.state, 'succeeded', JSON.stringify(operation));
    await assert.rejects(docker(engine!, ['exec', 'openmanus-core-dev', 'ls', '/workspace/user1/ws1']));
    assert.equal(await readFile(stack.composeFile, 'utf8'), original);
  });
});
