/**
 * Every Engine request of a full apply cycle belongs to the documented
 * allow-list, MONITOR_ENGINE_ENDPOINTS. The cycle runs through the library
 * (Reconciler, a real MountStore in a temp folder, the file journal and crash
 * repair) against a test container on the real engine named by DOCKER_HOST.
 * A subscriber on the `mount-core:engine` channel records each request.
 */
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DockerClient, ENGINE_CHANNEL_NAME, findEngineEndpoint, MONITOR_ENGINE_ENDPOINTS, type EngineRequestMessage } from '../../lib/docker/index.js';
import { Reconciler } from '../../lib/reconciler/reconciler.js';
import { FileRecreateJournal } from '../../lib/recreate/journal.js';
import { repairRecreate } from '../../lib/recreate/repair.js';
import { MountStore } from '../../lib/store/index.js';
import { checkHostPath, createHostPathPolicy, managedTargetTest } from '../../lib/validation/index.js';
import { docker, engineSkip, findEngine, uniqueName, removeContainers } from '../helpers/engine.js';

const engine = await findEngine();

test('allow-list matches only its endpoints', () => {
  const allowed: Array<[string, string]> = [
    ['GET', '/_ping'],
    ['GET', '/version'],
    ['GET', '/v1.41/containers/openmanus-core-dev/json'],
    ['POST', '/v1.45/containers/create'],
    ['HEAD', '/v1.41/containers/0123abcd/archive'],
    ['GET', '/v1.41/images/local%2Fbusybox%3Atest/json'],
    ['DELETE', '/v1.41/containers/openmanus-core-dev-mount-core-prev'],
    ['GET', '/v1.41/containers/json'],
    ['GET', '/v1.41/events'],
  ];
  for (const [method, path] of allowed) assert.ok(findEngineEndpoint(method, path), `${method} ${path}`);
  const refused: Array<[string, string]> = [
    ['POST', '/v1.41/containers/x/exec'],
    ['POST', '/v1.41/exec/x/start'],
    ['POST', '/v1.41/images/create'],
    ['POST', '/v1.41/build'],
    ['GET', '/v1.41/containers/x/archive'],
    ['PUT', '/v1.41/containers/x/archive'],
    ['POST', '/v1.41/containers/x/kill'],
    ['DELETE', '/v1.41/images/x'],
    ['POST', '/v1.41/volumes/create'],
    ['GET', '/v1.41/secrets'],
    ['GET', '/containers/x/json'],
    ['GET', '/v1.41/containers/x/json/extra'],
    ['POST', '/v1.41/containers/x/y/start'],
    ['GET', '/v1.41/_ping'],
  ];
  for (const [method, path] of refused) assert.equal(findEngineEndpoint(method, path), undefined, `${method} ${path}`);
});

describe('engine requests of an apply cycle', { skip: engineSkip(engine) }, () => {
  let client: DockerClient;
  let folder: string;
  let name: string;
  const seen: EngineRequestMessage[] = [];
  const record = (message: unknown) => {
    seen.push(message as EngineRequestMessage);
  };

  before(async () => {
    client = new DockerClient({ host: engine!.host });
    folder = await mkdtemp(join(tmpdir(), 'mc-allowlist-'));
    name = uniqueName('mc-allow');
    await docker(engine!, [
      'run', '-d', '--pull', 'never', '--network', 'none', '--stop-timeout', '1', '--restart', 'unless-stopped',
      '--name', name, 'local/busybox:test', 'sleep', '3600',
    ]);
    subscribe(ENGINE_CHANNEL_NAME, record);
  });

  after(async () => {
    unsubscribe(ENGINE_CHANNEL_NAME, record);
    await removeContainers(engine!, [name]);
    await client.close();
    await rm(folder, { recursive: true, force: true });
  });

  test('every request is on the allow-list', { timeout: 240_000 }, async () => {
    const workspace = join(folder, 'projects');
    await mkdir(join(workspace, 'a'), { recursive: true });
    await writeFile(join(workspace, 'notes.txt'), 'a file');
    const store = new MountStore({ file: join(folder, 'mounts.json'), workspaceRoot: '/workspace' });
    const journal = new FileRecreateJournal(join(folder, 'journal.json'));
    const policy = createHostPathPolicy({ allow: [workspace] });
    const reconciler = new Reconciler({
      store,
      engine: client,
      container: name,
      isManaged: managedTargetTest('/workspace'),
      journal,
      checkMount: (mount) => checkHostPath(mount.local_path, policy),
      repair: () => repairRecreate(client, journal, name),
      recreate: { stopTimeoutSeconds: 1, startTimeoutMs: 60_000, minUptimeMs: 300 },
      retryDelaysMs: [3_600_000],
    });

    const request = (path: string) => ({ user_id: 'u1', workspace_id: 'ws1', local_path: path, container_path: '/workspace/u1/ws1', description: '', read_only: false });
    const apply = async (revision?: number) => reconciler.settled(reconciler.request('apply', revision));

    const added = await apply((await store.upsert(request(join(workspace, 'a')))).revision);
    assert.equal(added.state, 'succeeded', JSON.stringify(added.error));
    assert.equal(added.result?.recreated, true);

    const removed = await apply((await store.remove('u1', 'ws1')).revision);
    assert.equal(removed.state, 'succeeded', JSON.stringify(removed.error));
    assert.equal(removed.result?.recreated, true);

    const restarted = await reconciler.settled(reconciler.request('restart'));
    assert.equal(restarted.state, 'succeeded', JSON.stringify(restarted.error));
    assert.equal(restarted.result?.restarted, true);

    await apply((await store.upsert(request(join(workspace, 'missing')))).revision);
    assert.equal((await store.get('u1', 'ws1'))?.error?.code, 'BIND_SOURCE_MISSING');

    await apply((await store.upsert(request(join(workspace, 'notes.txt')))).revision);
    assert.equal((await store.get('u1', 'ws1'))?.error?.code, 'BIND_SOURCE_NOT_DIRECTORY');

    assert.equal(await repairRecreate(client, journal, name), 'nothing-to-do');
    await client.apiVersion();
    reconciler.close();

    const outside = seen.filter((message) => findEngineEndpoint(message.method, message.path) === undefined);
    assert.deepEqual(outside.map((message) => `${message.method} ${message.path}`), []);

    // The cycle used the endpoints that change containers, so the check above covered them.
    const used = new Set(seen.map((message) => findEngineEndpoint(message.method, message.path)!));
    // Not reached here: /version (both daemons send the version in /_ping), network connect (one network) and events (no watchdog).
    const expected = MONITOR_ENGINE_ENDPOINTS.filter((endpoint) => !['/version', '/networks/{id}/connect', '/events'].includes(endpoint.path));
    assert.deepEqual(
      expected.filter((endpoint) => !used.has(endpoint)).map((endpoint) => `${endpoint.method} ${endpoint.path}`),
      [],
    );

    const running = await client.containerInspect({ id: name });
    assert.equal(running.State.Running, true);
  });
});
