import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { DockerClient } from '../../lib/docker/index.js';
import type { Operation } from '../../lib/reconciler/operations.js';
import { Reconciler, reconcilerChannel, type ReconcilerOptions } from '../../lib/reconciler/reconciler.js';
import { FileRecreateJournal } from '../../lib/recreate/journal.js';
import { NEXT_SUFFIX, PREV_SUFFIX } from '../../lib/recreate/recreate.js';
import { repairRecreate } from '../../lib/recreate/repair.js';
import { MountStore } from '../../lib/store/index.js';
import { checkHostPath, createHostPathPolicy } from '../../lib/validation/index.js';
import { managedTargetTest } from '../../lib/validation/managed-target.js';
import { docker, engineSkip, findEngine, uniqueName, removeContainers } from '../helpers/engine.js';
import { startServerProcess } from '../helpers/server-process.js';
import { startSocketRelay, type SocketRelay } from '../helpers/socket-relay.js';
import { call, eventually, freePort } from '../helpers/stack.js';

const engine = await findEngine();
const isManaged = managedTargetTest('/workspace');

describe('engine outage', { skip: engineSkip(engine) }, () => {
  let root: string;
  let realClient: DockerClient;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'mc-outage-'));
    realClient = new DockerClient({ host: engine!.host });
  });

  after(async () => {
    await realClient.close();
    await rm(root, { recursive: true, force: true });
  });

  /** Runs a busybox container on the real engine and returns its name; it is removed after the test. */
  async function startContainer(t: TestContext): Promise<string> {
    const name = uniqueName('mc-outage');
    t.after(async () => {
      await removeContainers(engine!, [name]);
    });
    await docker(engine!, ['run', '-d', '--pull', 'never', '--network', 'none', '--stop-timeout', '1', '--name', name, 'local/busybox:test']);
    return name;
  }

  async function startRelay(t: TestContext): Promise<SocketRelay> {
    const relay = await startSocketRelay(engine!.socketPath!);
    t.after(() => relay.close());
    return relay;
  }

  async function hostFolder(name: string): Promise<string> {
    const path = join(root, name);
    await mkdir(path, { recursive: true });
    return path;
  }

  /** Container paths of the managed mounts the real engine reports, sorted. */
  async function managedTargets(name: string): Promise<string[]> {
    const inspect = await realClient.containerInspect({ id: name });
    return inspect.Mounts.map((m) => m.Destination).filter((target) => isManaged(target)).sort();
  }

  /** Names of the containers whose name starts with `name`, the recreate's leftovers included. */
  async function namesLike(name: string): Promise<string[]> {
    const output = await docker(engine!, ['ps', '-a', '--filter', `name=${name}`, '--format', '{{.Names}}']);
    return output.split('\n').filter(Boolean).sort();
  }

  /** Builds a Reconciler wired as the monitor wires it, with a DockerClient on the relay socket. */
  function monitorReconciler(t: TestContext, relay: SocketRelay, name: string, recreate: ReconcilerOptions['recreate'] = {}) {
    const client = new DockerClient({ host: relay.host, timeoutMs: 5000 });
    const store = new MountStore({ file: join(root, `${name}.json`), workspaceRoot: '/workspace' });
    const journal = new FileRecreateJournal(join(root, `${name}.journal.json`));
    const policy = createHostPathPolicy({});
    const reconciler = new Reconciler({
      store,
      engine: client,
      container: name,
      isManaged,
      journal,
      checkMount: (mount) => checkHostPath(mount.local_path, policy),
      repair: () => repairRecreate(client, journal, name),
      recreate: { stopTimeoutSeconds: 0, minUptimeMs: 200, ...recreate },
    });
    const finished: Operation[] = [];
    const onMessage = (message: unknown) => {
      const { event, operation } = message as { event: string; operation: Operation };
      if (event === 'operation-end' && reconciler.operation(operation.id) === operation) finished.push(operation);
    };
    subscribe(reconcilerChannel.name, onMessage);
    t.after(async () => {
      unsubscribe(reconcilerChannel.name, onMessage);
      reconciler.close();
      await client.close();
    });
    return { store, reconciler, finished };
  }

  const request = (userId: string, workspaceId: string, localPath: string) => ({
    user_id: userId,
    workspace_id: workspaceId,
    local_path: localPath,
    container_path: `/workspace/${userId}/${workspaceId}`,
    description: '',
    read_only: false,
  });

  test('change while the engine is down stays pending, then applies', async (t) => {
    const relay = await startRelay(t);
    const name = await startContainer(t);
    const { store, reconciler, finished } = monitorReconciler(t, relay, name);
    const folder = await hostFolder('down-a');

    await relay.pause('refuse');
    const { revision } = await store.upsert(request('u1', 'a', folder));
    const failed = await reconciler.settled(reconciler.request('apply', revision));
    assert.equal(failed.state, 'failed');
    assert.equal(failed.error?.code, 'DOCKER_UNAVAILABLE');
    assert.equal((await store.get('u1', 'a'))?.state, 'pending');
    // Retries while the engine is still down fail the same way and change nothing.
    await eventually('a retry while down', async () => (finished.length >= 2 ? true : undefined), 10_000);
    for (const operation of finished) assert.equal(operation.error?.code, 'DOCKER_UNAVAILABLE');
    assert.equal((await store.get('u1', 'a'))?.state, 'pending');
    assert.deepEqual(await managedTargets(name), []);

    const resumedAt = Date.now();
    await relay.resume();
    await eventually('the mount in the container', async () => ((await managedTargets(name)).includes('/workspace/u1/a') ? true : undefined), 20_000);
    t.diagnostic(`mount applied ${Date.now() - resumedAt} ms after the engine came back, with no new request`);
    await eventually('the store to record it', async () => ((await store.get('u1', 'a'))?.state === 'applied' ? true : undefined), 5000);
    assert.deepEqual(await namesLike(name), [name]);
  });

  test('engine lost in the middle of a recreate is repaired and retried', async (t) => {
    const relay = await startRelay(t);
    const name = await startContainer(t);
    let cut = false;
    const { store, reconciler } = monitorReconciler(t, relay, name, {
      onStep: async (step) => {
        if (step === 'stop-old' && !cut) {
          cut = true;
          await relay.pause('refuse');
        }
      },
    });
    const folder = await hostFolder('mid-a');

    const { revision } = await store.upsert(request('u1', 'mid', folder));
    const failed = await reconciler.settled(reconciler.request('apply', revision));
    assert.equal(failed.state, 'failed');
    assert.equal(failed.error?.code, 'RECREATE_FAILED');
    assert.equal(failed.error?.step, 'stop-old');
    assert.equal((await store.get('u1', 'mid'))?.state, 'pending');
    // The old container is parked and the replacement was created: the interrupted state repair must undo.
    assert.deepEqual(await namesLike(name), [name + NEXT_SUFFIX, name + PREV_SUFFIX].sort());

    const resumedAt = Date.now();
    await relay.resume();
    await eventually('the mount in the container', async () => {
      const names = await namesLike(name);
      if (names.length !== 1 || names[0] !== name) return undefined;
      return (await managedTargets(name)).includes('/workspace/u1/mid') ? true : undefined;
    }, 20_000);
    t.diagnostic(`repaired and applied ${Date.now() - resumedAt} ms after the engine came back`);
    await eventually('the store to record it', async () => ((await store.get('u1', 'mid'))?.state === 'applied' ? true : undefined), 5000);
    assert.equal((await realClient.containerInspect({ id: name })).State.Running, true);
    assert.deepEqual(await namesLike(name), [name]);
  });

  test('monitor process accepts changes while the engine is down', async (t) => {
    const relay = await startRelay(t);
    const name = await startContainer(t);
    const folder = await hostFolder('monitor-a');
    const data = await mkdtemp(join(root, 'monitor-data-'));
    const port = await freePort();
    const monitor = startServerProcess('monitor', {
      HOST: '127.0.0.1',
      PORT: String(port),
      DOCKER_HOST: relay.host,
      MOUNT_DATA_FILE: join(data, 'mounts.json'),
      COMPOSE_FILE: '',
      DEV_CONTAINER: name,
      DEBUG_MODE: '1',
      STOP_TIMEOUT_SECONDS: '0',
      MIN_UPTIME_MS: '200',
      ENGINE_TIMEOUT_MS: '5000',
    });
    t.after(async () => {
      await monitor.stop();
    });
    const api = `http://127.0.0.1:${port}/api`;
    await eventually('the monitor to serve', async () => ((await call('GET', `${api}/health`)).status === 200 ? true : undefined), 20_000);
    await eventually('the start-up apply', async () => {
      const health = await call('GET', `${api}/health`);
      return health.body?.data?.operations?.running === null ? true : undefined;
    }, 20_000);

    await relay.pause('refuse');
    const saved = await call('POST', `${api}/mounts`, { user_id: 'u1', workspace_id: 'a', local_path: folder });
    assert.equal(saved.status, 202, JSON.stringify(saved.body));
    assert.equal(saved.body.data.mount.state, 'pending');
    const operationId = saved.body.data.operation.id as string;
    const failed = await eventually('the operation to fail', async () => {
      const operation = (await call('GET', `${api}/operations/${operationId}`)).body?.data?.operation;
      return operation?.state === 'failed' ? operation : undefined;
    }, 15_000);
    assert.equal(failed.error.code, 'DOCKER_UNAVAILABLE');
    const health = await call('GET', `${api}/health`);
    assert.equal(health.status, 200);
    assert.equal(health.body.data.docker.reachable, false);
    assert.equal(health.body.data.docker.error_code, 'DOCKER_UNAVAILABLE');
    assert.equal((await call('GET', `${api}/mounts/u1/a`)).body.data.mount.state, 'pending');

    const resumedAt = Date.now();
    await relay.resume();
    await eventually('the mount in the container', async () => ((await managedTargets(name)).includes('/workspace/u1/a') ? true : undefined), 30_000);
    t.diagnostic(`monitor applied the mount ${Date.now() - resumedAt} ms after the engine came back`);
    await eventually('the mount to show applied', async () => {
      const mount = (await call('GET', `${api}/mounts/u1/a`)).body?.data?.mount;
      return mount?.state === 'applied' ? true : undefined;
    }, 5000);
    assert.equal((await call('GET', `${api}/health`)).body.data.docker.reachable, true);
    assert.deepEqual(await namesLike(name), [name]);

    const logged = (message: string) => monitor.logs.filter((line) => line.message === message);
    assert.equal(logged('container events stream lost').length, 1);
    assert.ok(logged('container events stream reopened').length >= 1);
    const errors = monitor.logs.filter((line) => line.level === 'error' && line.message !== 'operation finished');
    assert.deepEqual(errors, []);
    assert.equal(await monitor.stop(), 0);
  });
});
