import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { DockerClient } from '../../lib/docker/index.js';
import { hasCode } from '../../lib/errors.js';
import { Reconciler } from '../../lib/reconciler/reconciler.js';
import { ContainerWatchdog, type ContainerWatchdogOptions } from '../../lib/reconciler/watchdog.js';
import { MemoryRecreateJournal } from '../../lib/recreate/journal.js';
import { NEXT_SUFFIX, PREV_SUFFIX } from '../../lib/recreate/recreate.js';
import { MountStore } from '../../lib/store/index.js';
import { managedTargetTest } from '../../lib/validation/managed-target.js';
import { docker, engineSkip, findEngine } from '../helpers/engine.js';
import { delay, startCrashable, WatchdogRecorder, type CrashableContainer } from '../helpers/watchdog.js';

const engine = await findEngine();

test('invalid watchdog options raise CONFIG_INVALID', () => {
  const client = new DockerClient({ host: 'unix:///nonexistent/docker.sock' });
  const cases: Array<[string, Partial<ContainerWatchdogOptions>]> = [
    ['container', { container: '' }],
    ['engine', { engine: {} as ContainerWatchdogOptions['engine'] }],
    ['maxRestarts', { maxRestarts: 0 }],
    ['windowMs', { windowMs: 1.5 }],
    ['initialDelayMs', { initialDelayMs: -1 }],
    ['maxDelayMs', { initialDelayMs: 2000, maxDelayMs: 1000 }],
    ['reconnectDelaysMs', { reconnectDelaysMs: [] }],
    ['isBusy', { isBusy: true as unknown as () => boolean }],
  ];
  for (const [option, options] of cases) {
    assert.throws(
      () => new ContainerWatchdog({ engine: client, container: 'dev', ...options }),
      (error: unknown) => hasCode(error, 'CONFIG_INVALID') && (error as { details: { option?: string } }).details.option === option,
      option,
    );
  }
});

describe('container watchdog on a real engine', { skip: engineSkip(engine) }, () => {
  let client: DockerClient;
  let root: string;

  before(async () => {
    client = new DockerClient({ host: engine!.host });
    root = await mkdtemp(join(tmpdir(), 'mc-watchdog-'));
  });

  after(async () => {
    await client.close();
    await rm(root, { recursive: true, force: true });
  });

  /** Starts a crashable container and a watchdog that follows it; both are removed after the test. */
  async function setUp(t: TestContext, options: Partial<ContainerWatchdogOptions> = {}) {
    const container = await startCrashable(engine!);
    const recorder = new WatchdogRecorder(container.name);
    const watchdog = new ContainerWatchdog({ engine: client, container: container.name, initialDelayMs: 200, ...options });
    t.after(async () => {
      await watchdog.close();
      recorder.close();
      await container.remove();
    });
    watchdog.start();
    await recorder.waitFor('stream-open');
    return { container, recorder, watchdog };
  }

  const inspect = (container: CrashableContainer) => client.containerInspect({ id: container.name });

  test('restarts a container that exits on its own', async (t) => {
    const { container, recorder, watchdog } = await setUp(t);
    const before = await inspect(container);

    const crashedAt = Date.now();
    await container.crash();
    const death = await recorder.waitFor('death');
    assert.equal(death.decision, 'restart');
    assert.equal(death.exit_code, 3);
    assert.equal(death.container_id, before.Id);
    const restart = await recorder.waitFor('restart');
    const end = await recorder.waitFor('restart-end', { test: (m) => m.restart_id === restart.restart_id });
    assert.equal(end.ok, true);
    t.diagnostic(`running again ${Date.now() - crashedAt} ms after the crash was triggered`);

    const after = await inspect(container);
    assert.equal(after.Id, before.Id);
    assert.equal(after.State.Running, true);
    assert.notEqual(after.State.StartedAt, before.State.StartedAt);
    const stats = watchdog.stats();
    assert.equal(stats.restarts, 1);
    assert.equal(stats.restart_failures, 0);
    assert.equal(stats.last_reason, 'exited with code 3');
    assert.equal(stats.gave_up, false);
    assert.equal(stats.following, true);
  });

  test('docker stop is not undone', async (t) => {
    const { container, recorder, watchdog } = await setUp(t);
    await docker(engine!, ['stop', container.name]);
    const death = await recorder.waitFor('death');
    assert.equal(death.decision, 'intentional');
    // Longer than the first restart delay, so a wrong restart would have happened by now.
    await delay(800);
    assert.equal(recorder.all('restart').length, 0);
    assert.equal((await inspect(container)).State.Running, false);
    assert.equal(watchdog.stats().restarts, 0);
  });

  test('docker kill is not undone', async (t) => {
    const { container, recorder, watchdog } = await setUp(t);
    await docker(engine!, ['kill', container.name]);
    const death = await recorder.waitFor('death');
    assert.equal(death.decision, 'intentional');
    assert.equal(death.exit_code, 137);
    await delay(800);
    assert.equal(recorder.all('restart').length, 0);
    assert.equal((await inspect(container)).State.Running, false);
    assert.equal(watchdog.stats().restarts, 0);
  });

  test('docker restart is left to the engine', async (t) => {
    const { container, recorder, watchdog } = await setUp(t);
    const before = await inspect(container);
    await docker(engine!, ['restart', '-t', '0', container.name]);
    const death = await recorder.waitFor('death');
    assert.equal(death.decision, 'intentional');
    await delay(800);
    assert.equal(recorder.all('restart').length, 0);
    const after = await inspect(container);
    assert.equal(after.State.Running, true);
    assert.notEqual(after.State.StartedAt, before.State.StartedAt);
    assert.equal(watchdog.stats().restarts, 0);
  });

  test('removed container is not created again', async (t) => {
    const { container, recorder, watchdog } = await setUp(t);
    await docker(engine!, ['rm', '-f', container.name]);
    await recorder.waitFor('removed');
    await delay(800);
    assert.equal(recorder.all('restart').length, 0);
    await assert.rejects(inspect(container), (error: unknown) => hasCode(error, 'CONTAINER_NOT_FOUND'));
    assert.equal(watchdog.stats().restarts, 0);
  });

  test('crash then removal cancels the restart', async (t) => {
    const { container, recorder } = await setUp(t, { initialDelayMs: 3000, maxDelayMs: 3000 });
    await container.crash();
    assert.equal((await recorder.waitFor('death')).decision, 'restart');
    await docker(engine!, ['rm', container.name]);
    const skipped = await recorder.waitFor('restart-skipped');
    assert.equal(skipped.reason, 'removed');
    assert.equal(recorder.all('restart').length, 0);
  });

  test('gives up after the cap and resumes on an operator start', async (t) => {
    const { container, recorder, watchdog } = await setUp(t, { maxRestarts: 3, initialDelayMs: 100, maxDelayMs: 400 });
    await container.crashLoop();
    const gaveUp = await recorder.waitFor('gave-up', { timeoutMs: 20_000 });
    assert.equal(gaveUp.restarts, 3);
    assert.equal(gaveUp.window_ms, 600_000);
    assert.equal(recorder.all('restart').length, 3);
    assert.deepEqual(recorder.all('death').map((m) => m.decision), ['restart', 'restart', 'restart', 'gave-up']);
    const delays = recorder.all('death').slice(0, 3).map((m) => m.delay_ms);
    assert.deepEqual(delays, [100, 200, 400]);
    await delay(800);
    assert.equal(recorder.all('restart').length, 3);
    assert.equal((await inspect(container)).State.Running, false);
    let stats = watchdog.stats();
    assert.equal(stats.gave_up, true);
    assert.equal(stats.restarts, 3);
    assert.equal(stats.restarts_in_window, 3);
    assert.equal(stats.last_reason, 'exited with code 4');

    await container.stopLoop();
    const from = recorder.mark();
    await docker(engine!, ['start', container.name]);
    await recorder.waitFor('resumed', { from });
    stats = watchdog.stats();
    assert.equal(stats.gave_up, false);
    assert.equal(stats.restarts_in_window, 0);
    await container.crash();
    const end = await recorder.waitFor('restart-end', { from });
    assert.equal(end.ok, true);
    assert.equal((await inspect(container)).State.Running, true);
  });

  test('waits while an apply runs', async (t) => {
    let busy = true;
    const { container, recorder } = await setUp(t, { isBusy: () => busy, busyPollMs: 50 });
    await container.crash();
    assert.equal((await recorder.waitFor('death')).decision, 'restart');
    await delay(1000);
    assert.equal(recorder.all('restart').length, 0);
    assert.equal((await inspect(container)).State.Running, false);
    busy = false;
    const end = await recorder.waitFor('restart-end');
    assert.equal(end.ok, true);
    assert.equal((await inspect(container)).State.Running, true);
  });

  test('leaves crashes to the engine restart policy', async (t) => {
    const container = await startCrashable(engine!, 'mc-wd-policy', ['--restart', 'on-failure']);
    const recorder = new WatchdogRecorder(container.name);
    const watchdog = new ContainerWatchdog({ engine: client, container: container.name, initialDelayMs: 500 });
    t.after(async () => {
      await watchdog.close();
      recorder.close();
      await container.remove();
    });
    watchdog.start();
    await recorder.waitFor('stream-open');
    await container.crash();
    assert.equal((await recorder.waitFor('death')).decision, 'restart');
    const skipped = await recorder.waitFor('restart-skipped');
    assert.ok(skipped.reason === 'started' || skipped.reason === 'running', `reason ${skipped.reason}`);
    assert.equal(recorder.all('restart').length, 0);
    assert.equal(watchdog.stats().restarts, 0);
  });

  test('recreate by the reconciler causes no restart', async (t) => {
    let reconciler: Reconciler | undefined;
    const { container, recorder } = await setUp(t, { isBusy: () => reconciler?.busy ?? false });
    const folder = join(root, 'recreate-a');
    await mkdir(folder, { recursive: true });
    const store = new MountStore({ file: join(root, `${container.name}.json`), workspaceRoot: '/workspace' });
    reconciler = new Reconciler({
      store,
      engine: client,
      container: container.name,
      isManaged: managedTargetTest('/workspace'),
      journal: new MemoryRecreateJournal(),
      recreate: { minUptimeMs: 200 },
    });
    t.after(() => reconciler?.close());

    const before = await inspect(container);
    const { revision } = await store.upsert({
      user_id: 'u1',
      workspace_id: 'a',
      local_path: folder,
      container_path: '/workspace/u1/a',
      description: '',
      read_only: false,
    });
    const operation = await reconciler.settled(reconciler.request('apply', revision));
    assert.equal(operation.state, 'succeeded', JSON.stringify(operation.error));
    assert.equal(operation.result?.recreated, true);
    const after = await inspect(container);
    assert.notEqual(after.Id, before.Id);

    // The old container's stop and removal run under the parked name; let their events arrive.
    await delay(1500);
    assert.equal(recorder.all('death').length, 0);
    assert.equal(recorder.all('restart').length, 0);
    const names = (await docker(engine!, ['ps', '-a', '--filter', `name=${container.name}`, '--format', '{{.Names}}'])).split('\n').filter(Boolean);
    assert.deepEqual(names, [container.name]);
    assert.ok(!names.includes(container.name + PREV_SUFFIX));
    assert.ok(!names.includes(container.name + NEXT_SUFFIX));

    // The watchdog follows the replacement, which has a new id under the same name.
    await container.crash();
    const death = await recorder.waitFor('death');
    assert.equal(death.container_id, after.Id);
    const end = await recorder.waitFor('restart-end');
    assert.equal(end.ok, true);
    assert.equal((await inspect(container)).State.Running, true);
  });
});
