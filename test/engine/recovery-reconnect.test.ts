import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { DockerClient } from '../../lib/docker/index.js';
import { ContainerWatchdog, type ContainerWatchdogOptions } from '../../lib/reconciler/watchdog.js';
import { docker, engineSkip, findEngine } from '../helpers/engine.js';
import { startSocketRelay } from '../helpers/socket-relay.js';
import { delay, startCrashable, WatchdogRecorder, type CrashableContainer } from '../helpers/watchdog.js';

const engine = await findEngine();

describe('watchdog events stream through a failing socket', { skip: engineSkip(engine) }, () => {
  /** Starts a crashable container on the real engine, and a watchdog that reaches the engine through a relay. */
  async function setUp(t: TestContext, options: { clientTimeoutMs?: number; watchdog?: Partial<ContainerWatchdogOptions> } = {}) {
    const relay = await startSocketRelay(engine!.socketPath!);
    const client = new DockerClient({ host: relay.host, timeoutMs: options.clientTimeoutMs ?? 5000 });
    const container = await startCrashable(engine!, 'mc-wd-relay');
    const recorder = new WatchdogRecorder(container.name);
    const watchdog = new ContainerWatchdog({
      engine: client,
      container: container.name,
      initialDelayMs: 200,
      reconnectDelaysMs: [200, 400],
      ...options.watchdog,
    });
    t.after(async () => {
      await watchdog.close();
      recorder.close();
      await client.close();
      await relay.close();
      await container.remove();
    });
    watchdog.start();
    await recorder.waitFor('stream-open');
    return { relay, client, container, recorder, watchdog };
  }

  /** Polls the real engine until the container has exited. */
  async function waitExited(container: CrashableContainer): Promise<void> {
    const deadline = Date.now() + 10_000;
    while ((await docker(engine!, ['inspect', '-f', '{{.State.Running}}', container.name])).trim() !== 'false') {
      if (Date.now() > deadline) throw new Error(`${container.name} still runs 10 s after the crash was triggered`);
      await delay(100);
    }
  }

  const running = async (container: CrashableContainer) =>
    (await docker(engine!, ['inspect', '-f', '{{.State.Running}}', container.name])).trim() === 'true';

  test('replays a death missed while the stream was down', async (t) => {
    const { relay, container, recorder, watchdog } = await setUp(t);
    const from = recorder.mark();
    await relay.pause('reset');
    await recorder.waitFor('stream-closed', { from });

    await container.crash();
    await waitExited(container);
    assert.equal(recorder.all('death', from).length, 0);

    const resumedAt = Date.now();
    await relay.resume();
    const reopened = await recorder.waitFor('stream-open', { from, test: (m) => m.reconnect });
    assert.equal(typeof reopened.since, 'number');
    const death = await recorder.waitFor('death', { from });
    assert.equal(death.decision, 'restart');
    assert.equal(death.exit_code, 3);
    const end = await recorder.waitFor('restart-end', { from });
    assert.equal(end.ok, true);
    t.diagnostic(`running again ${Date.now() - resumedAt} ms after the relay resumed`);
    assert.equal(await running(container), true);
    assert.equal(recorder.all('death', from).length, 1);
    assert.ok(watchdog.stats().stream_reconnects >= 1);
  });

  test('refused connections are retried until the engine is back', async (t) => {
    const { relay, container, recorder, watchdog } = await setUp(t);
    const from = recorder.mark();
    await relay.pause('refuse');
    await recorder.waitFor('stream-closed', { from, test: (m) => m.attempt >= 3 });
    const failures = recorder.all('stream-closed', from).slice(1);
    assert.ok(failures.length >= 2);
    for (const message of failures) assert.equal(message.error?.code, 'DOCKER_UNAVAILABLE');
    assert.equal(watchdog.stats().following, false);

    await relay.resume();
    await recorder.waitFor('stream-open', { from, test: (m) => m.reconnect });
    assert.equal(watchdog.stats().following, true);
    await container.crash();
    const end = await recorder.waitFor('restart-end', { from });
    assert.equal(end.ok, true);
    assert.equal(await running(container), true);
  });

  test('replayed events are not acted on twice', async (t) => {
    const { relay, client, container, recorder } = await setUp(t, { watchdog: { initialDelayMs: 2000, maxDelayMs: 2000 } });
    await container.crash();
    const death = await recorder.waitFor('death');
    assert.equal(death.decision, 'restart');
    const from = recorder.mark();
    await relay.pause('reset');
    await recorder.waitFor('stream-closed', { from });
    await relay.resume();
    const reopened = await recorder.waitFor('stream-open', { from, test: (m) => m.reconnect });
    // A second reader from the same point shows what the reopened stream replays.
    const replayed: string[] = [];
    const controller = new AbortController();
    const reader = (async () => {
      const filters = { type: ['container'], container: [container.name] };
      for await (const event of client.events({ since: reopened.since!, filters, signal: controller.signal })) replayed.push(event.Action);
    })();
    const end = await recorder.waitFor('restart-end', { from });
    controller.abort();
    await reader;
    assert.equal(end.ok, true);
    assert.ok(replayed.includes('die'), `replayed: ${replayed.join(', ')}`);
    assert.equal(recorder.all('death').length, 1);
    assert.equal(recorder.all('restart').length, 1);
    assert.equal(await running(container), true);
  });

  test('idle stream outlives the client timeout', async (t) => {
    const { container, recorder, watchdog } = await setUp(t, { clientTimeoutMs: 1000 });
    const from = recorder.mark();
    await delay(3000);
    assert.equal(recorder.all('stream-closed', from).length, 0);
    assert.equal(watchdog.stats().stream_reconnects, 0);
    // The death arrives on the stream opened before the idle time.
    await container.crash();
    const death = await recorder.waitFor('death', { from });
    assert.equal(death.exit_code, 3);
    assert.equal(recorder.all('stream-closed', from).length, 0);
  });
});
