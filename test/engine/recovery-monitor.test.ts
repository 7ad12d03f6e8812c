import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { docker, engineSkip, findEngine } from '../helpers/engine.js';
import { startServerProcess } from '../helpers/server-process.js';
import { call, eventually, freePort } from '../helpers/stack.js';
import { startCrashable } from '../helpers/watchdog.js';

const engine = await findEngine();

describe('monitor process restarts a crashed container', { skip: engineSkip(engine) }, () => {
  test('restart is logged and counted', async (t) => {
    const container = await startCrashable(engine!, 'mc-wd-monitor');
    const data = await mkdtemp(join(tmpdir(), 'mc-wd-monitor-'));
    const port = await freePort();
    const monitor = startServerProcess('monitor', {
      HOST: '127.0.0.1',
      PORT: String(port),
      DOCKER_HOST: engine!.host,
      MOUNT_DATA_FILE: join(data, 'mounts.json'),
      COMPOSE_FILE: '',
      DEV_CONTAINER: container.name,
      DEBUG_MODE: '1',
      MIN_UPTIME_MS: '200',
    });
    t.after(async () => {
      await monitor.stop();
      await container.remove();
      await rm(data, { recursive: true, force: true });
    });
    const api = `http://127.0.0.1:${port}/api`;
    const logged = (message: string) => monitor.logs.filter((line) => line.message === message);
    await eventually('the monitor to follow events', async () => (logged('following container events').length > 0 ? true : undefined), 20_000);

    const crashedAt = Date.now();
    await container.crash();
    const finished = await eventually('a finished restart', async () => logged('container restart finished')[0], 15_000);
    t.diagnostic(`running again ${Date.now() - crashedAt} ms after the crash was triggered`);
    const started = logged('container restart started');
    assert.equal(started.length, 1);
    assert.equal(started[0]!.restart_id, finished.restart_id);
    assert.equal(started[0]!.reason, 'exited with code 3');
    assert.equal(logged('development container died')[0]?.exit_code, 3);
    assert.equal((await docker(engine!, ['inspect', '-f', '{{.State.Running}}', container.name])).trim(), 'true');

    const stats = await call('GET', `${api}/debug/stats`);
    assert.equal(stats.status, 200);
    assert.equal(stats.body.data.watchdog.restarts, 1);
    assert.equal(stats.body.data.watchdog.last_reason, 'exited with code 3');
    assert.equal(stats.body.data.watchdog.gave_up, false);
    assert.equal(stats.body.data.watchdog.following, true);

    await docker(engine!, ['stop', container.name]);
    await eventually('the stop to be logged', async () => (logged('development container stopped on request').length > 0 ? true : undefined), 10_000);
    // Longer than the first restart delay (1 s), so a wrong restart would have started by now.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(logged('container restart started').length, 1);
    assert.equal((await docker(engine!, ['inspect', '-f', '{{.State.Running}}', container.name])).trim(), 'false');
    assert.equal(await monitor.stop(), 0);
  });
});
