/**
 * Read path: GET /api/mounts with a small and a large store, over 1 and 32
 * keep-alive connections, on the monitor directly and through the dev proxy
 * (GET /api/mounts/mounts), both compiled and run as their own processes on
 * 127.0.0.1. Load comes from autocannon in this process; each sample is a
 * fixed-length run, and the runs of both targets alternate.
 *
 * Run: node --import tsx bench/read-path.ts [--short] [--runs N] [--json FILE] [--engine d20|d26]
 */
import autocannon from 'autocannon';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBenchArgs } from './lib/args.js';
import { DEFAULT_READ_CACHE_SETTLE_MS } from '../lib/store/read-cache.js';
import { buildScripts, REPO_ROOT, type BuiltScripts } from './lib/build.js';
import { benchName, openEngine, type BenchEngine } from './lib/engine.js';
import { callJson } from './lib/http.js';
import { composeFileFor } from './lib/monitor.js';
import { freePort, imageNodeOptions, startProcess, stopProcess, type StartedProcess } from './lib/process.js';
import { Recorder } from './lib/report.js';
import { writeStoreFile } from './lib/store-file.js';

/** The servers run with the image's Node flags. */
const SERVER_NODE_OPTIONS = imageNodeOptions(REPO_ROOT);

interface LoadSample {
  requestsPerSecond: number;
  p99Ms: number;
}

/** Sends GET `url` over `connections` keep-alive connections for `seconds`; throws on any error or non-2xx reply. */
async function load(url: string, connections: number, seconds: number): Promise<LoadSample> {
  const result = await autocannon({ url, connections, duration: seconds, pipelining: 1, headers: { 'accept-language': 'en' } });
  if (result.errors > 0 || result.non2xx > 0) {
    throw new Error(`${url}: ${result.errors} errors and ${result.non2xx} non-2xx replies over ${connections} connections`);
  }
  // With no reply inside the run, autocannon reports a p99 of 0; the run length is then the honest lower bound.
  const p99Ms = result['2xx'] > 0 ? result.latency.p99 : seconds * 1000;
  return { requestsPerSecond: result['2xx'] / result.duration, p99Ms };
}

/** Starts the compiled monitor on a store of `count` mounts and the proxy in front of it. */
/** The servers read from: the monitor, the proxy that forwards every read, and the proxy as the stack runs it. */
const TARGETS = ['monitor', 'proxy', 'stack-proxy'] as const;
type ReadTarget = (typeof TARGETS)[number];

const TARGET_LABELS: Record<ReadTarget, string> = {
  monitor: 'monitor',
  proxy: 'through the proxy, forwarding (fallback off)',
  'stack-proxy': 'through the proxy as the stack runs it (fallback on: reads from the shared store)',
};

async function startServers(
  scripts: BuiltScripts,
  engine: BenchEngine,
  folder: string,
  count: number,
): Promise<{ urls: Record<ReadTarget, string>; processes: StartedProcess[]; sameData: boolean }> {
  const store = join(folder, `mounts-${count}.json`);
  await writeStoreFile(store, count);
  const writtenAt = Date.now();
  const composeFile = join(folder, 'docker-compose.dev.yml');
  // The container does not exist, so the monitor's start-up apply stops at its first inspect and leaves the store as written.
  const container = benchName('absent');
  await writeFile(composeFile, composeFileFor(container, 'local/busybox:test'));
  const monitorPort = await freePort();
  const proxyPort = await freePort();
  const stackProxyPort = await freePort();
  const monitor = await startProcess(process.execPath, [scripts.monitor], {
    ready: 'monitor started',
    env: { NODE_OPTIONS: SERVER_NODE_OPTIONS, HOST: '127.0.0.1', PORT: String(monitorPort), MOUNT_DATA_FILE: store, COMPOSE_FILE: composeFile, DOCKER_HOST: engine.host, DEV_CONTAINER: container, LOG_LEVEL: 'info' },
  });
  const proxy = await startProcess(process.execPath, [scripts.proxy], {
    ready: 'dev proxy started',
    env: { NODE_OPTIONS: SERVER_NODE_OPTIONS, HOST: '127.0.0.1', PORT: String(proxyPort), MONITOR_API: `http://127.0.0.1:${monitorPort}/api`, LOG_LEVEL: 'info' },
  });
  // The stack's compose file turns the fallback on and gives the proxy the monitor's store.
  const stackProxy = await startProcess(process.execPath, [scripts.proxy], {
    ready: 'dev proxy started',
    env: {
      NODE_OPTIONS: SERVER_NODE_OPTIONS, HOST: '127.0.0.1', PORT: String(stackProxyPort), MONITOR_API: `http://127.0.0.1:${monitorPort}/api`,
      MONITOR_API_FALLBACK: '1', MOUNT_DATA_FILE: store, LOG_LEVEL: 'info',
    },
  });
  const urls: Record<ReadTarget, string> = {
    monitor: `http://127.0.0.1:${monitorPort}/api/mounts`,
    proxy: `http://127.0.0.1:${proxyPort}/api/mounts/mounts`,
    'stack-proxy': `http://127.0.0.1:${stackProxyPort}/api/mounts/mounts`,
  };
  // A store reuses its parse only once the file is 2 s old (DEFAULT_READ_CACHE_SETTLE_MS). A store is read
  // far more often than it is written, so every server is measured in that state.
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, writtenAt + DEFAULT_READ_CACHE_SETTLE_MS + 100 - Date.now())));
  const data: string[] = [];
  for (const url of Object.values(urls)) {
    const reply = await callJson('GET', url);
    if (reply.status !== 200 || reply.body?.data?.mounts?.length !== count) {
      throw new Error(`GET ${url} returned ${reply.status} with ${reply.body?.data?.mounts?.length} mounts, expected ${count}`);
    }
    data.push(JSON.stringify(reply.body.data));
  }
  return { urls, processes: [monitor, proxy, stackProxy], sameData: data.every((entry) => entry === data[0]) };
}

async function main(): Promise<void> {
  const args = parseBenchArgs();
  const recorder = new Recorder('read-path');
  const engine = await openEngine(args.engine);
  const scripts = await buildScripts();
  const sizes = args.short ? [10, 1000] : [10, 10_000];
  const seconds = args.short ? 1 : 3;
  const folder = await mkdtemp(join(tmpdir(), 'mc-bench-read-'));

  try {
    for (const count of sizes) {
      const servers = await startServers(scripts, engine, folder, count);
      try {
        const size = (await stat(join(folder, `mounts-${count}.json`))).size;
        recorder.note(`The store with ${count.toLocaleString('en-US')} mounts is ${(size / 1024).toFixed(0)} KiB on disk.`);
        recorder.check('Read path: GET /api/mounts', `with ${count.toLocaleString('en-US')} mounts, both proxies return the monitor's data`, servers.sameData, 'compared as JSON');
        for (const connections of [1, 32]) {
          const samples: Record<ReadTarget, LoadSample[]> = { monitor: [], proxy: [], 'stack-proxy': [] };
          if (!args.short) {
            for (const target of TARGETS) await load(servers.urls[target], connections, 1);
          }
          for (let run = 0; run < args.runs; run++) {
            for (const target of TARGETS) samples[target].push(await load(servers.urls[target], connections, seconds));
          }
          for (const target of TARGETS) {
            const id = `read.${target}.${count}.c${connections}`;
            const label = `${TARGET_LABELS[target]}, ${count.toLocaleString('en-US')} mounts, ${connections} connection${connections > 1 ? 's' : ''}`;
            recorder.figure(`${id}.rps`, 'Read path: GET /api/mounts', `${label}: throughput`, 'req/s', samples[target].map((s) => s.requestsPerSecond));
            recorder.figure(`${id}.p99`, 'Read path: GET /api/mounts', `${label}: p99 latency`, 'ms', samples[target].map((s) => s.p99Ms));
          }
        }
      } finally {
        for (const started of servers.processes) await stopProcess(started);
      }
    }
    recorder.note(
      `Each sample is a ${seconds} s autocannon run (keep-alive, no pipelining)${args.short ? '' : ' after a 1 s warm-up per configuration'}. Throughput is 2xx replies divided by the run time. ` +
        'p99 is autocannon\'s, whose histogram keeps whole milliseconds, so a p99 below 1 ms shows as 0, and a run with no reply at all counts its whole length as its p99. ' +
        'The load generator, the monitor and the proxies share the machine\'s cores. ' +
        'One proxy runs without the fallback and forwards every read; the other runs as docker-compose.dev.yml sets it up (MONITOR_API_FALLBACK=1 with the monitor\'s store) and serves the list from the store. ' +
        'Measuring starts once the store file is 2 s old, when the store reuses its parse.',
    );
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
  await recorder.save(args.json);
}

await main();
