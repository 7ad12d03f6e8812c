/**
 * DockerClient against the real engine that DOCKER_HOST names. Containers use
 * `--network none`, the local image `local/busybox:test` (never pulled) and a
 * unique name, and are removed in t.after.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { EngineError, MountCoreError } from '../../lib/errors.js';
import { DockerClient, type ContainerCreateBody } from '../../lib/docker/index.js';
import { docker as dockerCli, engineSkip, findEngine, uniqueName, type TestEngine } from '../helpers/engine.js';

const engine = await findEngine();
const skip = engineSkip(engine);
const IMAGE = 'local/busybox:test';

function connect(t: TestContext, found: TestEngine): DockerClient {
  const client = new DockerClient({ host: found.host, timeoutMs: 15_000 });
  t.after(() => client.close());
  return client;
}

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mount-core-engine-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Removes the container with the CLI, so cleanup does not depend on the client under test. */
function removeAfter(t: TestContext, found: TestEngine, name: string): void {
  t.after(async () => {
    await dockerCli(found, ['rm', '--force', '--volumes', name]).catch(() => undefined);
  });
}

function createBody(mounts: NonNullable<ContainerCreateBody['HostConfig']>['Mounts']): ContainerCreateBody {
  return {
    Image: IMAGE,
    Labels: { 'mount-core.test': 'docker-client' },
    HostConfig: { NetworkMode: 'none', Mounts: mounts },
  };
}

async function rejection(promise: Promise<unknown>): Promise<MountCoreError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof MountCoreError, `expected a MountCoreError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the call to fail');
}

test('ping version and negotiation match the engine', { skip }, async (t) => {
  assert.ok(engine);
  const client = connect(t, engine);
  const ping = await client.ping();
  assert.equal(ping.apiVersion, engine.apiVersion);
  assert.equal(ping.osType, 'linux');

  const version = await client.version();
  assert.equal(version.ApiVersion, engine.apiVersion);
  assert.equal(version.Version, engine.version);
  assert.equal(await client.apiVersion(), engine.apiVersion);

  const info = await client.info();
  assert.equal(info.ServerVersion, engine.version);
});

test('image and network inspect', { skip }, async (t) => {
  assert.ok(engine);
  const client = connect(t, engine);
  const image = await client.imageInspect({ id: IMAGE });
  assert.match(image.Id, /^sha256:[0-9a-f]{64}$/);
  assert.ok(image.RepoTags?.includes(IMAGE));

  const network = await client.networkInspect({ id: 'none' });
  assert.equal(network.Name, 'none');
  assert.equal(network.Driver, 'null');
});

test('container lifecycle', { skip }, async (t) => {
  assert.ok(engine);
  const client = connect(t, engine);
  const dir = await tempDir(t);
  const name = uniqueName('mc-client-life');
  removeAfter(t, engine, name);
  removeAfter(t, engine, `${name}-renamed`);

  const created = await client.containerCreate({ name, body: createBody([{ Type: 'bind', Source: dir, Target: '/data', ReadOnly: true }]) });
  assert.match(created.Id, /^[0-9a-f]{64}$/);
  const fresh = await client.containerInspect({ id: created.Id });
  assert.equal(fresh.Name, `/${name}`);
  assert.equal(fresh.State.Status, 'created');
  assert.equal(fresh.HostConfig.NetworkMode, 'none');
  const mount = fresh.Mounts.find((entry) => entry.Destination === '/data');
  assert.equal(mount?.Type, 'bind');
  assert.equal(mount?.Source, dir);
  assert.equal(mount?.RW, false);

  const listed = await client.containerList({ all: true, filters: { name: [name] } });
  assert.deepEqual(listed.map((entry) => entry.Id), [created.Id]);

  assert.deepEqual(await client.containerStart({ id: created.Id }), { alreadyInState: false });
  assert.equal((await client.containerInspect({ id: name })).State.Running, true);
  assert.deepEqual(await client.containerStart({ id: created.Id }), { alreadyInState: true });

  // busybox sleep as PID 1 ignores SIGTERM, so stop waits out the timeout and kills.
  const stopStarted = Date.now();
  assert.deepEqual(await client.containerStop({ id: created.Id, timeoutSeconds: 1 }), { alreadyInState: false });
  assert.ok(Date.now() - stopStarted >= 900, `stop returned after ${Date.now() - stopStarted} ms`);
  const stopped = await client.containerInspect({ id: created.Id });
  assert.equal(stopped.State.Running, false);
  assert.equal(stopped.State.Status, 'exited');
  assert.deepEqual(await client.containerStop({ id: created.Id, timeoutSeconds: 1 }), { alreadyInState: true });

  assert.deepEqual(await client.containerStart({ id: created.Id }), { alreadyInState: false });
  await client.containerKill({ id: created.Id, signal: 'SIGKILL' });
  const waited = await client.containerWait({ id: created.Id, condition: 'not-running' });
  assert.equal(waited.StatusCode, 137);

  await client.containerRename({ id: created.Id, name: `${name}-renamed` });
  assert.equal((await client.containerInspect({ id: created.Id })).Name, `/${name}-renamed`);

  await client.containerUpdate({ id: created.Id, body: { RestartPolicy: { Name: 'unless-stopped' } } });
  assert.equal((await client.containerInspect({ id: created.Id })).HostConfig.RestartPolicy?.Name, 'unless-stopped');

  assert.deepEqual(await client.containerRemove({ id: created.Id, force: true }), { alreadyInState: false });
  assert.deepEqual(await client.containerRemove({ id: created.Id, force: true }), { alreadyInState: true });
  const inspectError = await rejection(client.containerInspect({ id: created.Id }));
  assert.equal(inspectError.code, 'CONTAINER_NOT_FOUND');
});

test('missing bind source is rejected at create', { skip }, async (t) => {
  assert.ok(engine);
  const client = connect(t, engine);
  const dir = await tempDir(t);
  const name = uniqueName('mc-client-missing');
  removeAfter(t, engine, name);
  const source = join(dir, 'does-not-exist');

  const error = await rejection(client.containerCreate({ name, body: createBody([{ Type: 'bind', Source: source, Target: '/data' }]) }));
  assert.ok(error instanceof EngineError);
  assert.equal(error.statusCode, 400);
  assert.equal(error.code, 'ENGINE_ERROR');
  assert.ok(error.daemonMessage.includes('bind source path does not exist'), error.daemonMessage);
  t.diagnostic(`API ${engine.apiVersion} daemon message: ${error.daemonMessage}`);

  const listed = await client.containerList({ all: true, filters: { name: [name] } });
  assert.deepEqual(listed, []);
});

test('events report start then die', { skip }, async (t) => {
  assert.ok(engine);
  const client = connect(t, engine);
  const name = uniqueName('mc-client-events');
  removeAfter(t, engine, name);
  const { Id: id } = await client.containerCreate({ name, body: createBody([]) });

  // `since` makes the daemon replay events from before the stream was opened, so the
  // start cannot be missed while the request is still on its way.
  const since = new Date(Date.now() - 1000);
  const controller = new AbortController();
  const guard = setTimeout(() => controller.abort(), 10_000);
  t.after(() => clearTimeout(guard));
  const actions: string[] = [];
  const collected = (async () => {
    for await (const event of client.events({ since, filters: { type: ['container'], container: [id] }, signal: controller.signal })) {
      assert.equal(event.Actor.ID, id);
      actions.push(event.Action);
      if (event.Action === 'die') controller.abort();
    }
  })();

  await client.containerStart({ id });
  await client.containerStop({ id, timeoutSeconds: 0 });
  await collected;

  assert.ok(actions.includes('start'), `actions: ${actions.join(', ')}`);
  assert.ok(actions.includes('die'), `actions: ${actions.join(', ')}`);
  assert.ok(actions.indexOf('start') < actions.indexOf('die'), `actions: ${actions.join(', ')}`);
  assert.equal(actions.filter((action) => action === 'start').length, 1);
});

test('archive stat on created container', { skip }, async (t) => {
  assert.ok(engine);
  const client = connect(t, engine);
  const dir = await tempDir(t);
  const hostDir = join(dir, 'folder');
  const hostFile = join(dir, 'note.txt');
  await writeFile(hostFile, 'twelve bytes');
  await mkdir(hostDir);
  await writeFile(join(hostDir, 'inside.txt'), 'x');
  const name = uniqueName('mc-client-stat');
  removeAfter(t, engine, name);
  const { Id: id } = await client.containerCreate({
    name,
    body: createBody([
      { Type: 'bind', Source: hostDir, Target: '/mnt/folder', ReadOnly: true },
      { Type: 'bind', Source: hostFile, Target: '/mnt/note.txt', ReadOnly: true },
    ]),
  });
  assert.equal((await client.containerInspect({ id })).State.Status, 'created');

  const folder = await client.containerArchiveStat({ id, path: '/mnt/folder' });
  assert.equal(folder.isDirectory, true);
  assert.equal(folder.name, 'folder');
  const inside = await client.containerArchiveStat({ id, path: '/mnt/folder/inside.txt' });
  assert.equal(inside.isDirectory, false);
  assert.equal(inside.size, 1);
  const file = await client.containerArchiveStat({ id, path: '/mnt/note.txt' });
  assert.equal(file.isDirectory, false);
  assert.equal(file.size, 12);
  const imageDir = await client.containerArchiveStat({ id, path: '/bin' });
  assert.equal(imageDir.isDirectory, true);
  t.diagnostic(`API ${engine.apiVersion} stat modes: folder ${folder.mode}, file ${file.mode}`);

  const missing = await rejection(client.containerArchiveStat({ id, path: '/mnt/nothing-here' }));
  assert.ok(missing instanceof EngineError);
  assert.equal(missing.statusCode, 404);
  assert.equal((await client.containerInspect({ id })).State.Status, 'created');
});
