import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DockerClient } from '../../lib/docker/index.js';
import { managedTargetTest } from '../../lib/validation/managed-target.js';
import { docker, engineSkip, findEngine, uniqueName, removeContainers } from '../helpers/engine.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { startSocketRelay, type SocketRelay } from '../helpers/socket-relay.js';
import { call, eventually, freePort } from '../helpers/stack.js';

const engine = await findEngine();
const isManaged = managedTargetTest('/workspace');

/** Mounts each side adds; each side also removes a quarter of its own and a quarter of the other side's. */
const ADDS_PER_SIDE = 100;
const REMOVED_OWN = 25;
const REMOVED_OTHER = 25;
const CONCURRENCY_PER_SIDE = 8;

type Side = 'monitor' | 'proxy';
const USER: Record<Side, string> = { monitor: 'mon', proxy: 'pxy' };
const other = (side: Side): Side => (side === 'monitor' ? 'proxy' : 'monitor');

describe('store shared by the monitor and the proxy in fallback', { skip: engineSkip(engine) }, () => {
  let root: string;
  let relay: SocketRelay;
  let client: DockerClient;
  let monitor: ServerProcess;
  let proxy: ServerProcess;
  let name: string;
  let storeFile: string;
  let monitorApi: string;
  let proxyApi: string;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'mc-two-writers-'));
    relay = await startSocketRelay(engine!.socketPath!);
    client = new DockerClient({ host: engine!.host });
    name = uniqueName('mc-writers');
    await docker(engine!, ['run', '-d', '--pull', 'never', '--network', 'none', '--stop-timeout', '1', '--name', name, 'local/busybox:test']);
    const data = join(root, 'data');
    await mkdir(data);
    storeFile = join(data, 'mounts.json');
    const [monitorPort, proxyPort, closedPort] = [await freePort(), await freePort(), await freePort()];
    monitor = startServerProcess('monitor', {
      HOST: '127.0.0.1',
      PORT: String(monitorPort),
      DOCKER_HOST: relay.host,
      MOUNT_DATA_FILE: storeFile,
      COMPOSE_FILE: '',
      DEV_CONTAINER: name,
      STOP_TIMEOUT_SECONDS: '0',
      MIN_UPTIME_MS: '200',
      STORE_POLL_MS: '500',
    });
    proxy = startServerProcess('dev-proxy', {
      HOST: '127.0.0.1',
      PORT: String(proxyPort),
      // Nothing listens there, so every change goes through the proxy's fallback into the shared store.
      MONITOR_API: `http://127.0.0.1:${closedPort}/api`,
      MONITOR_API_FALLBACK: '1',
      MOUNT_DATA_FILE: storeFile,
    });
    monitorApi = `http://127.0.0.1:${monitorPort}/api`;
    proxyApi = `http://127.0.0.1:${proxyPort}/api/mounts`;
    await eventually('the monitor to serve', async () => ((await call('GET', `${monitorApi}/health`)).status === 200 ? true : undefined), 20_000);
    await eventually('the proxy to serve', async () => ((await call('GET', `${proxyApi}/test-monitor`)).status === 503 ? true : undefined), 20_000);
  });

  after(async () => {
    await proxy?.stop();
    await monitor?.stop();
    await client?.close();
    await relay?.close();
    await removeContainers(engine!, [name]);
    await rm(root, { recursive: true, force: true });
  });

  test('hundreds of changes from both lose nothing', { timeout: 90_000 }, async (t) => {
    const folders = new Map<string, string>();
    for (const side of ['monitor', 'proxy'] as const) {
      for (let index = 0; index < ADDS_PER_SIDE; index += 1) {
        const path = join(root, 'hosts', USER[side], `w${index}`);
        await mkdir(path, { recursive: true });
        folders.set(`${USER[side]}:w${index}`, path);
      }
    }

    // Reads the store file as another process would, and parses every read.
    let reading = true;
    let reads = 0;
    const badReads: string[] = [];
    const reader = (async () => {
      let seen = false;
      while (reading) {
        let text: string | undefined;
        try {
          text = await readFile(storeFile, 'utf8');
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || seen) badReads.push(`read failed: ${String(error)}`);
        }
        if (text !== undefined) {
          seen = true;
          reads += 1;
          try {
            JSON.parse(text);
          } catch (error) {
            badReads.push(`invalid JSON (${text.length} bytes): ${String(error)}`);
          }
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();

    const add = (side: Side, index: number) => {
      const body = { user_id: USER[side], workspace_id: `w${index}`, local_path: folders.get(`${USER[side]}:w${index}`)! };
      return side === 'monitor' ? call('POST', `${monitorApi}/mounts`, body) : call('POST', `${proxyApi}/mount`, body);
    };
    const remove = (side: Side, userId: string, index: number) =>
      side === 'monitor' ? call('DELETE', `${monitorApi}/mounts/${userId}/w${index}`) : call('DELETE', `${proxyApi}/mount/${userId}/w${index}`);

    // Each removal waits for the add it undoes, so the final set is fixed while the order across sides is not.
    const added = new Map<string, Promise<unknown>>();
    const settle = new Map<string, () => void>();
    for (const side of ['monitor', 'proxy'] as const) {
      for (let index = 0; index < ADDS_PER_SIDE; index += 1) {
        added.set(`${USER[side]}:w${index}`, new Promise<void>((resolve) => settle.set(`${USER[side]}:w${index}`, resolve)));
      }
    }
    const failures: string[] = [];
    const check = (label: string, response: { status: number; body: any; error?: unknown }) => {
      if (response.status !== 202) failures.push(`${label}: ${response.status} ${JSON.stringify(response.body ?? String(response.error))}`);
    };

    const jobs = (side: Side): Array<() => Promise<void>> => {
      const list: Array<() => Promise<void>> = [];
      for (let index = 0; index < ADDS_PER_SIDE; index += 1) {
        list.push(async () => {
          check(`${side} add w${index}`, await add(side, index));
          settle.get(`${USER[side]}:w${index}`)!();
        });
        const removal = index - (ADDS_PER_SIDE - REMOVED_OWN - REMOVED_OTHER);
        if (removal >= 0 && removal < REMOVED_OWN) {
          list.push(async () => {
            await added.get(`${USER[side]}:w${removal}`);
            check(`${side} remove own w${removal}`, await remove(side, USER[side], removal));
          });
        } else if (removal >= REMOVED_OWN && removal < REMOVED_OWN + REMOVED_OTHER) {
          const target = USER[other(side)];
          list.push(async () => {
            await added.get(`${target}:w${removal}`);
            check(`${side} remove ${target}/w${removal}`, await remove(side, target, removal));
          });
        }
      }
      return list;
    };
    const runSide = async (side: Side) => {
      const queue = jobs(side);
      const workers = Array.from({ length: CONCURRENCY_PER_SIDE }, async () => {
        for (let job = queue.shift(); job; job = queue.shift()) await job();
      });
      await Promise.all(workers);
    };

    const startedAt = Date.now();
    await Promise.all([runSide('monitor'), runSide('proxy')]);
    const requestsMs = Date.now() - startedAt;
    const mutations = 2 * (ADDS_PER_SIDE + REMOVED_OWN + REMOVED_OTHER);
    t.diagnostic(`${mutations} changes answered in ${requestsMs} ms`);
    assert.deepEqual(failures, []);

    const expected = new Set<string>();
    for (const user of Object.values(USER)) {
      for (let index = REMOVED_OWN + REMOVED_OTHER; index < ADDS_PER_SIDE; index += 1) expected.add(`${user}:w${index}`);
    }
    const stored = JSON.parse(await readFile(storeFile, 'utf8')) as { revision: number; mounts: Record<string, { local_path: string; state: string }> };
    assert.deepEqual(Object.keys(stored.mounts).sort(), [...expected].sort());
    for (const [key, mount] of Object.entries(stored.mounts)) assert.equal(mount.local_path, folders.get(key));
    // Every add and every removal raised the revision by one, from an empty store.
    assert.equal(stored.revision, mutations);
    const listed = (await call('GET', `${monitorApi}/mounts`)).body.data.mounts as Array<{ user_id: string; workspace_id: string }>;
    assert.deepEqual(listed.map((m) => `${m.user_id}:${m.workspace_id}`).sort(), [...expected].sort());

    // The monitor applies what the proxy wrote as well: the container ends up with exactly the stored mounts.
    const want = [...expected].map((key) => `${folders.get(key)}->/workspace/${key.replace(':', '/')}`).sort();
    await eventually('the container to match the store', async () => {
      const inspect = await client.containerInspect({ id: name });
      const have = inspect.Mounts.filter((m) => isManaged(m.Destination)).map((m) => `${m.Source}->${m.Destination}`).sort();
      if (JSON.stringify(have) !== JSON.stringify(want)) return undefined;
      const file = JSON.parse(await readFile(storeFile, 'utf8')) as typeof stored;
      return Object.values(file.mounts).every((m) => m.state === 'applied') ? true : undefined;
    }, 45_000);
    t.diagnostic(`container matched the store ${Date.now() - startedAt - requestsMs} ms after the last answer`);

    reading = false;
    await reader;
    assert.deepEqual(badReads, []);
    assert.ok(reads > 100, `only ${reads} reads of the store`);
    t.diagnostic(`${reads} reads of the store file, all valid JSON`);

    const noticed = monitor.logs.filter((line) => line.message === 'store changed outside the monitor');
    assert.ok(noticed.length > 0, 'the monitor never logged a store change made by the proxy');
    const recreates = monitor.logs.filter((line) => line.message === 'operation finished' && (line.result as { recreated?: boolean } | undefined)?.recreated);
    t.diagnostic(`${recreates.length} recreates for ${mutations} changes`);
    const running = (await client.containerInspect({ id: name })).State.Running;
    assert.equal(running, true);
  });
});
