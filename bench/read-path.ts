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
async function startPair(scripts: BuiltScripts, engine: BenchEngine, folder: string, count: number): Promise<{ monitor: string; proxy: string; processes: StartedProcess[] }> {
  const store = join(folder, `mounts-${count}.json`);
  await writeStoreFile(store, count);
  const composeFile = join(folder, 'docker-compose.dev.yml');
  // The container does not exist, so the monitor's start-up apply stops at its first inspect and leaves the store as written.
  const container = benchName('absent');
  await writeFile(composeFile, composeFileFor(container, 'local/busybox:test'));
  const monitorPort = await freePort();
  const proxyPort = await freePort();
  const monitor = await startProcess(process.execPath, [scripts.monitor], {
    ready: 'monitor started',
    env: { NODE_OPTIONS: SERVER_NODE_OPTIONS, HOST: '127.0.0.1', PORT: String(monitorPort), MOUNT_DATA_FILE: store, COMPOSE_FILE: composeFile, DOCKER_HOST: engine.host, DEV_CONTAINER: container, LOG_LEVEL: 'info' },
  });
  const proxy = await startProcess(process.execPath, [scripts.proxy], {
    ready: 'dev proxy started',
    env: { NODE_OPTIONS: SERVER_NODE_OPTIONS, HOST: '127.0.0.1', PORT: String(proxyPort), MONITOR_API: `http://127.0.0.1:${monitorPort}/api`, LOG_LEVEL: 'info' },
  });
  const urls = { monitor: `http://127.0.0.1:${monitorPort}/api/mounts`, proxy: `http://127.0.0.1:${proxyPort}/api/mounts/mounts` };
  for (const url of Object.values(urls)) {
    const reply = await callJson('GET', url);
    if (reply.status !== 200 || reply.body?.data?.mounts?.length !== count) {
      throw new Error(`GET ${url} returned ${reply.status} with ${reply.body?.data?.mounts?.length} mounts, expected ${count}`);
    }
  }
  return { ...urls, processes: [monitor, proxy] };
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
      const pair = await startPair(scripts, engine, folder, count);
      try {
        const size = (await stat(join(folder, `mounts-${count}.json`))).size;
        recorder.note(`The store with ${count.toLocaleString('en-US')} mounts is ${(size / 1024).toFixed(0)} KiB on disk.`);
        for (const connections of [1, 32]) {
          const samples = { monitor: [] as LoadSample[], proxy: [] as LoadSample[] };
          if (!args.short) {
            await load(pair.monitor, connections, 1);
            await load(pair.proxy, connections, 1);
          }
          for (let run = 0; run < args.runs; run++) {
            samples.monitor.push(await load(pair.monitor, connections, seconds));
            samples.proxy.push(await load(pair.proxy, connections, seconds));
          }
          for (const target of ['monitor', 'proxy'] as const) {
            const id = `read.${target}.${count}.c${connections}`;
            const label = `${target === 'monitor' ? 'monitor' : 'through the proxy'}, ${count.toLocaleString('en-US')} mounts, ${connections} connection${connections > 1 ? 's' : ''}`;
            recorder.figure(`${id}.rps`, 'Read path: GET /api/mounts', `${label}: throughput`, 'req/s', samples[target].map((s) => s.requestsPerSecond));
            recorder.figure(`${id}.p99`, 'Read path: GET /api/mounts', `${label}: p99 latency`, 'ms', samples[target].map((s) => s.p99Ms));
          }
        }
      } finally {
        for (const started of pair.processes) await stopProcess(started);
      }
    }
    recorder.note(
      `Each sample is a ${seconds} s autocannon run (keep-alive, no pipelining)${args.short ? '' : ' after a 1 s warm-up per configuration'}. Throughput is 2xx replies divided by the run time. ` +
        'p99 is autocannon\'s, whose histogram keeps whole milliseconds, so a p99 below 1 ms shows as 0, and a run with no reply at all counts its whole length as its p99. ' +
        'The load generator, the monitor and the proxy share the machine\'s cores.',
    );
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
  await recorder.save(args.json);
}

await main();
