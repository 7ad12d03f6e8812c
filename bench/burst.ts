/**
 * Burst: 100 mutations from 10 concurrent clients (10 each, one after the
 * other on one keep-alive connection) against the monitor and a real
 * container. Counts the recreates the burst causes, checks that every request
 * succeeded and that the store and the container end in the expected state,
 * then times a lone change from its POST to the start of its operation.
 *
 * Run: node --import tsx bench/burst.ts [--short] [--runs N] [--json FILE] [--engine d20|d26]
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'undici';
import { managedMountsOf, type Operation } from '../lib/index.js';
import { parseBenchArgs } from './lib/args.js';
import { benchName, makeSourceFolders, openEngine, removeBenchContainers, runSleeper } from './lib/engine.js';
import { callJson } from './lib/http.js';
import { startMonitor, type BenchMonitor } from './lib/monitor.js';
import { Recorder } from './lib/report.js';

const CLIENTS = 10;
const REQUESTS_PER_CLIENT = 10;
const SOURCES = 20;

interface ChannelMessage {
  event: string;
  operation: Operation;
}

/** Resolves once the reconciler has neither a running nor a queued operation; throws after `timeoutMs`. */
async function idle(monitor: BenchMonitor, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { running, queued } = monitor.reconciler.status();
    if (!running && !queued) return;
    if (Date.now() > deadline) throw new Error(`the reconciler was still busy after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Returns one client's requests: changes to its own workspace, ending with a save (even clients) or a removal (odd). */
function plan(client: number, round: number, sources: string[]): Array<{ method: 'POST' | 'DELETE'; path: string; body?: string }> {
  const requests: Array<{ method: 'POST' | 'DELETE'; path: string; body?: string }> = [];
  const workspace = `c${client}`;
  for (let i = 0; i < REQUESTS_PER_CLIENT - 1; i++) {
    const localPath = sources[(client + i + round) % sources.length];
    requests.push({ method: 'POST', path: '/api/mounts', body: JSON.stringify({ user_id: 'burst', workspace_id: workspace, local_path: localPath }) });
  }
  if (client % 2 === 0) {
    requests.push({ method: 'POST', path: '/api/mounts', body: JSON.stringify({ user_id: 'burst', workspace_id: workspace, local_path: sources[client] }) });
  } else {
    requests.push({ method: 'DELETE', path: `/api/mounts/burst/${workspace}` });
  }
  return requests;
}

async function main(): Promise<void> {
  const args = parseBenchArgs();
  const recorder = new Recorder('burst');
  const engine = await openEngine(args.engine);
  const sources = await makeSourceFolders(SOURCES);
  const folder = await mkdtemp(join(tmpdir(), 'mc-bench-burst-'));
  const container = benchName('burst');
  const ended: Operation[] = [];
  const startedAt = new Map<string, number>();
  const onMessage = (message: unknown) => {
    const { event, operation } = message as ChannelMessage;
    if (event === 'operation-start') startedAt.set(operation.id, performance.now());
    if (event === 'operation-end') ended.push(operation);
  };
  subscribe('mount-core:reconciler', onMessage);
  let monitor: BenchMonitor | undefined;

  try {
    await runSleeper(engine, container);
    monitor = await startMonitor({ dockerHost: engine.host, container, folder, env: { MIN_UPTIME_MS: '0' } });
    const origin = new URL(monitor.api).origin;
    const expected = new Map<string, string>();
    for (let client = 0; client < CLIENTS; client += 2) expected.set(`/workspace/burst/c${client}`, sources.paths[client]!);

    // Warm-up: the first operation also runs the crash repair.
    await callJson('POST', `${monitor.api}/mounts?wait=true`, { user_id: 'lone', workspace_id: 'ws1', local_path: sources.paths[0] });

    const recreates: number[] = [];
    const settle: number[] = [];
    const requestsDone: number[] = [];
    const loneStart: number[] = [];
    const failures: string[] = [];
    for (let round = 0; round < args.runs; round++) {
      ended.length = 0;
      const clients = Array.from({ length: CLIENTS }, () => new Client(origin, { pipelining: 1 }));
      const burstStarted = performance.now();
      await Promise.all(
        clients.map(async (client, index) => {
          for (const request of plan(index, round, sources.paths)) {
            const reply = await client.request({
              method: request.method,
              path: request.path,
              headers: request.body ? { 'content-type': 'application/json', 'accept-language': 'en' } : { 'accept-language': 'en' },
              body: request.body,
            });
            const text = await reply.body.text();
            if (reply.statusCode !== 200 && reply.statusCode !== 202) failures.push(`${request.method} ${request.path}: ${reply.statusCode} ${text}`);
          }
        }),
      );
      requestsDone.push(performance.now() - burstStarted);
      await Promise.all(clients.map((client) => client.close()));
      await idle(monitor);
      settle.push(performance.now() - burstStarted);
      recreates.push(ended.filter((operation) => operation.result?.recreated).length);
      const failed = ended.filter((operation) => operation.state === 'failed');
      for (const operation of failed) failures.push(`operation ${operation.id} failed: ${JSON.stringify(operation.error)}`);

      // The state after the burst: the store and the container's managed mounts both match the last request of each client.
      const snapshot = await monitor.store.read();
      const burstMounts = snapshot.mounts.filter((mount) => mount.user_id === 'burst');
      const storeOk = burstMounts.length === expected.size && burstMounts.every((m) => expected.get(m.container_path) === m.local_path && m.state === 'applied');
      const inspect = await monitor.client.containerInspect({ id: container });
      const actual = managedMountsOf(inspect, (path) => path.startsWith('/workspace/burst/'));
      const containerOk = actual.length === expected.size && actual.every((m) => expected.get(m.container_path) === m.local_path);
      if (!storeOk) failures.push(`round ${round}: store holds ${JSON.stringify(burstMounts.map((m) => [m.container_path, m.local_path, m.state]))}`);
      if (!containerOk) failures.push(`round ${round}: container has ${JSON.stringify(actual)}`);

      // A lone change from idle: the time from its POST to the start of its operation.
      const lonePosted = performance.now();
      const reply = await callJson('POST', `${monitor.api}/mounts`, { user_id: 'lone', workspace_id: 'ws1', local_path: sources.paths[(round + 1) % 2] });
      if (reply.status !== 202) throw new Error(`lone POST returned ${reply.status}: ${JSON.stringify(reply.body)}`);
      const operation = monitor.reconciler.operation(reply.body.data.operation.id)!;
      await monitor.reconciler.settled(operation);
      loneStart.push((startedAt.get(operation.id) ?? Number.NaN) - lonePosted);
    }

    const group = 'Burst';
    recorder.figure('burst.recreates', group, `recreates caused by ${CLIENTS * REQUESTS_PER_CLIENT} mutations from ${CLIENTS} clients`, 'recreates', recreates);
    recorder.figure('burst.requests', group, `first request of the burst to the last of its ${CLIENTS * REQUESTS_PER_CLIENT} responses`, 'ms', requestsDone);
    recorder.figure('burst.settle', group, 'first request of the burst to the reconciler idle again', 'ms', settle);
    recorder.figure('burst.lone-start', group, 'lone change from idle: POST sent to its operation started', 'ms', loneStart);
    recorder.check(group, 'every request answered 200 or 202, every operation succeeded, store and container end as requested', failures.length === 0,
      failures.length === 0 ? `${args.runs} bursts of ${CLIENTS * REQUESTS_PER_CLIENT} requests` : failures.slice(0, 5).join('; '));
    recorder.note(
      `Each client owns one workspace and sends ${REQUESTS_PER_CLIENT - 1} saves with changing folders, then a final save (even clients) or a removal (odd clients); ` +
        'the monitor runs with MIN_UPTIME_MS=0 and the product default APPLY_DELAY_MS=0 against a real busybox container.',
    );
  } finally {
    unsubscribe('mount-core:reconciler', onMessage);
    await monitor?.close();
    await removeBenchContainers(engine);
    await sources.cleanup();
    await rm(folder, { recursive: true, force: true });
  }
  await recorder.save(args.json);
}

await main();
