/**
 * Memory: idle RSS of the compiled monitor and proxy processes next to a bare
 * node:http server, RSS and heap growth over many applies against an
 * in-memory engine, and RSS after applies against the real engine.
 *
 * Run: node --import tsx bench/memory.ts [--short] [--runs N] [--json FILE] [--engine d20|d26]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBenchArgs } from './lib/args.js';
import { buildScripts, REPO_ROOT, type BuiltScripts } from './lib/build.js';
import { benchName, openEngine, removeBenchContainers, runSleeper, type BenchEngine } from './lib/engine.js';
import { callJson } from './lib/http.js';
import { composeFileFor } from './lib/monitor.js';
import { freePort, imageNodeOptions, rssMiB, runToEnd, startProcess, stopProcess, type StartedProcess } from './lib/process.js';
import { Recorder } from './lib/report.js';

/** The servers run with the image's Node flags. */
const SERVER_NODE_OPTIONS = imageNodeOptions(REPO_ROOT);

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface LoopResult {
  applies: number;
  before: { rss: number; heap: number };
  after: { rss: number; heap: number };
  elapsedMs: number;
}

/** Starts the monitor, the proxy and the bare server, sends each one request, waits `idleMs`, and returns their RSS in MiB. */
async function idleRss(scripts: BuiltScripts, engine: BenchEngine, container: string, idleMs: number): Promise<{ monitor: number; proxy: number; bare: number }> {
  const folder = await mkdtemp(join(tmpdir(), 'mc-bench-idle-'));
  const started: StartedProcess[] = [];
  try {
    const composeFile = join(folder, 'docker-compose.dev.yml');
    await writeFile(composeFile, composeFileFor(container, 'local/busybox:test'));
    const [monitorPort, proxyPort, barePort] = [await freePort(), await freePort(), await freePort()];
    const monitor = await startProcess(process.execPath, [scripts.monitor], {
      ready: 'monitor started',
      env: {
        NODE_OPTIONS: SERVER_NODE_OPTIONS, HOST: '127.0.0.1', PORT: String(monitorPort), MOUNT_DATA_FILE: join(folder, 'mounts.json'), COMPOSE_FILE: composeFile,
        DOCKER_HOST: engine.host, DEV_CONTAINER: container, LOG_LEVEL: 'info',
      },
    });
    started.push(monitor);
    const proxy = await startProcess(process.execPath, [scripts.proxy], {
      ready: 'dev proxy started',
      env: { NODE_OPTIONS: SERVER_NODE_OPTIONS, HOST: '127.0.0.1', PORT: String(proxyPort), MONITOR_API: `http://127.0.0.1:${monitorPort}/api`, LOG_LEVEL: 'info' },
    });
    started.push(proxy);
    const bare = await startProcess(process.execPath, [scripts.bareServer], { ready: 'bare server started', env: { NODE_OPTIONS: SERVER_NODE_OPTIONS, PORT: String(barePort) } });
    started.push(bare);

    const viaProxy = await callJson('GET', `http://127.0.0.1:${proxyPort}/api/mounts/test-monitor`);
    if (viaProxy.status !== 200 || viaProxy.body?.data?.status !== 'connected') throw new Error(`proxy health returned ${viaProxy.status}: ${JSON.stringify(viaProxy.body)}`);
    await callJson('GET', `http://127.0.0.1:${monitorPort}/api/mounts`);
    await callJson('GET', `http://127.0.0.1:${barePort}/`);
    await sleep(idleMs);
    return { monitor: await rssMiB(monitor.pid), proxy: await rssMiB(proxy.pid), bare: await rssMiB(bare.pid) };
  } finally {
    for (const process of started) await stopProcess(process);
    await rm(folder, { recursive: true, force: true });
  }
}

async function applyLoop(scripts: BuiltScripts, args: string[]): Promise<LoopResult> {
  const output = await runToEnd(process.execPath, ['--expose-gc', ...SERVER_NODE_OPTIONS.split(' '), scripts.applyLoop, ...args], 900_000);
  const line = output.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as LoopResult;
}

async function main(): Promise<void> {
  const args = parseBenchArgs();
  const recorder = new Recorder('memory');
  const engine = await openEngine(args.engine);
  const scripts = await buildScripts();
  const fakeApplies = args.short ? 100 : 1000;
  const realApplies = args.short ? 5 : 50;
  const container = benchName('memory');

  try {
    await runSleeper(engine, container);
    const idle = { monitor: [] as number[], proxy: [] as number[], bare: [] as number[] };
    for (let run = 0; run < args.runs; run++) {
      const rss = await idleRss(scripts, engine, container, args.short ? 1000 : 2000);
      idle.monitor.push(rss.monitor);
      idle.proxy.push(rss.proxy);
      idle.bare.push(rss.bare);
    }
    const group = 'Memory';
    recorder.figure('memory.idle.monitor', group, 'idle RSS, monitor (dist/servers/monitor/main.js)', 'MiB', idle.monitor);
    recorder.figure('memory.idle.proxy', group, 'idle RSS, dev proxy (dist/servers/dev-proxy/main.js)', 'MiB', idle.proxy);
    recorder.figure('memory.idle.bare', group, 'idle RSS, bare node:http server', 'MiB', idle.bare);

    const fake = { rss: [] as number[], percent: [] as number[], heap: [] as number[], after: [] as number[], perApply: [] as number[] };
    for (let run = 0; run < args.runs; run++) {
      const result = await applyLoop(scripts, ['--engine', 'fake', '--applies', String(fakeApplies)]);
      fake.rss.push(result.after.rss - result.before.rss);
      fake.percent.push(((result.after.rss - result.before.rss) / result.before.rss) * 100);
      fake.heap.push(result.after.heap - result.before.heap);
      fake.after.push(result.after.rss);
      fake.perApply.push(result.elapsedMs / result.applies);
    }
    recorder.figure('memory.fake.rss-growth', group, `RSS growth over ${fakeApplies} applies, in-memory engine`, 'MiB', fake.rss);
    recorder.figure('memory.fake.rss-growth-percent', group, `RSS growth over ${fakeApplies} applies, in-memory engine, against the RSS before them`, '%', fake.percent);
    recorder.figure('memory.fake.heap-growth', group, `used heap growth over ${fakeApplies} applies, in-memory engine`, 'MiB', fake.heap);
    recorder.figure('memory.fake.rss-after', group, `RSS after ${fakeApplies} applies, in-memory engine`, 'MiB', fake.after);
    recorder.figure('memory.fake.apply-ms', group, 'time per apply, in-memory engine, files on /dev/shm', 'ms', fake.perApply);

    const real = { rss: [] as number[], growth: [] as number[] };
    for (let run = 0; run < args.runs; run++) {
      const result = await applyLoop(scripts, ['--engine', 'real', '--applies', String(realApplies), '--warmup', '2', '--docker-host', engine.host, '--container', container]);
      real.rss.push(result.after.rss);
      real.growth.push(result.after.rss - result.before.rss);
    }
    recorder.figure('memory.real.rss-after', group, `RSS after ${realApplies} applies, real engine`, 'MiB', real.rss);
    recorder.figure('memory.real.rss-growth', group, `RSS growth over those ${realApplies} applies, real engine`, 'MiB', real.growth);

    recorder.note(
      'Servers run as JavaScript compiled by tsc with plain `node`, as in the image. Idle RSS is read from /proc/<pid>/status ' +
        `${args.short ? 1 : 2} s after one request through the proxy to the monitor (which inspects the container) and one to the bare server.`,
    );
    recorder.note(
      'Apply loops run in a child process started with --expose-gc and collect garbage before each reading; each apply is a POST /api/mounts?wait=true ' +
        'to the monitor built in that process, switching one mount between two folders. The in-memory engine (test/helpers/memory-engine.ts) answers every call at once, ' +
        'and its store, journal and compose file live on /dev/shm; the real-engine loop keeps them on disk. Growth is measured after 10 (in-memory) or 2 (real) warm-up applies.',
    );
  } finally {
    await removeBenchContainers(engine);
  }
  await recorder.save(args.json);
}

await main();
