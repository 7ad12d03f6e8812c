/**
 * Apply latency and downtime: one mount edit applied by the monitor, by the
 * raw Engine API floor and by `docker compose up -d`, each recreating its own
 * busybox container on the local engine. Variants run interleaved, one apply
 * each per round, so that load from other processes spreads over all of them.
 *
 * Run: node --import tsx bench/apply.ts [--short] [--runs N] [--json FILE] [--engine d20|d26]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileRecreateJournal, type Operation } from '../lib/index.js';
import { parseBenchArgs } from './lib/args.js';
import { BENCH_IMAGE, benchName, docker, makeSourceFolders, openEngine, removeBenchContainers, runSleeper, type BenchEngine } from './lib/engine.js';
import { floorRecreate, RawEngine, sleeperBody } from './lib/floor.js';
import { callJson } from './lib/http.js';
import { startMonitor, type BenchMonitor } from './lib/monitor.js';
import { Recorder } from './lib/report.js';

const TARGET = '/workspace/bench/ws1';
const WARMUP_ROUNDS = 1;

interface MonitorApply {
  acceptMs: number;
  totalMs: number;
  downtimeMs: number;
  operation: Operation;
}

/** Posts a mount change and waits for its operation; throws unless the container was recreated. */
async function monitorApply(monitor: BenchMonitor, localPath: string): Promise<MonitorApply> {
  const started = performance.now();
  const reply = await callJson('POST', `${monitor.api}/mounts`, { user_id: 'bench', workspace_id: 'ws1', local_path: localPath });
  const acceptMs = performance.now() - started;
  if (reply.status !== 202) throw new Error(`POST /api/mounts returned ${reply.status}: ${JSON.stringify(reply.body)}`);
  const operation = monitor.reconciler.operation(reply.body.data.operation.id);
  if (!operation) throw new Error(`operation ${reply.body.data.operation.id} is not in the monitor's log`);
  const settled = await monitor.reconciler.settled(operation);
  const totalMs = performance.now() - started;
  if (settled.state !== 'succeeded' || !settled.result?.recreated) {
    throw new Error(`operation ${settled.id} ended ${settled.state}: ${JSON.stringify(settled.error ?? settled.result)}`);
  }
  return { acceptMs, totalMs, downtimeMs: settled.result.downtime_ms ?? Number.NaN, operation: settled };
}

/** Adds each step's duration (until the next step, the last one until the end) to `durations`. */
function addStepDurations(operation: Operation, durations: Map<string, number[]>): void {
  operation.steps.forEach((entry, index) => {
    const end = operation.steps[index + 1]?.at_ms ?? operation.duration_ms ?? entry.at_ms;
    const list = durations.get(entry.step) ?? [];
    list.push(end - entry.at_ms);
    durations.set(entry.step, list);
  });
}

/** Returns the compose project's file: one service like the other containers, its bind mount in long syntax. */
function composeText(container: string, source: string): string {
  return [
    'services:',
    '  app:',
    `    container_name: ${container}`,
    `    image: ${BENCH_IMAGE}`,
    '    init: true',
    '    network_mode: none',
    '    stop_grace_period: 1s',
    '    command: ["sleep", "3600"]',
    '    volumes:',
    '      - type: bind',
    `        source: ${source}`,
    `        target: ${TARGET}`,
    '',
  ].join('\n');
}

async function mountSourceOf(engine: BenchEngine, container: string): Promise<string> {
  return (await docker(engine, ['inspect', '--format', `{{range .Mounts}}{{if eq .Destination "${TARGET}"}}{{.Source}}{{end}}{{end}}`, container])).trim();
}

async function main(): Promise<void> {
  const args = parseBenchArgs();
  const recorder = new Recorder('apply');
  const engine = await openEngine(args.engine);
  const sources = await makeSourceFolders(2);
  const folders: string[] = [];
  const tempFolder = async () => {
    const folder = await mkdtemp(join(tmpdir(), 'mc-bench-'));
    folders.push(folder);
    return folder;
  };
  const monitors: BenchMonitor[] = [];
  const raw = new RawEngine(engine.socketPath, engine.apiVersion);
  const project = benchName('compose');
  const composeFolder = await tempFolder();
  const composeFile = join(composeFolder, 'compose.yml');
  const compose = (more: string[]) => docker(engine, ['compose', '-p', project, '-f', composeFile, ...more], { cwd: composeFolder });

  try {
    const fastName = benchName('apply');
    const defaultName = benchName('apply-default');
    const floorName = benchName('floor');
    const composeContainer = `${project}-app`;
    await runSleeper(engine, fastName);
    await runSleeper(engine, defaultName);
    let floorId = await runSleeper(engine, floorName, ['-v', `${sources.paths[0]}:${TARGET}`]);
    await writeFile(composeFile, composeText(composeContainer, sources.paths[0]!));
    await compose(['up', '-d', '--pull', 'never']);

    const fast = await startMonitor({ dockerHost: engine.host, container: fastName, folder: await tempFolder(), env: { MIN_UPTIME_MS: '0' } });
    monitors.push(fast);
    const slow = await startMonitor({ dockerHost: engine.host, container: defaultName, folder: await tempFolder() });
    monitors.push(slow);

    const samples = {
      monitor: [] as number[], monitorDefault: [] as number[], accept: [] as number[], floor: [] as number[], compose: [] as number[],
      downtimeMonitor: [] as number[], downtimeDefault: [] as number[], downtimeFloor: [] as number[],
    };
    const steps = new Map<string, number[]>();
    const rounds = WARMUP_ROUNDS + args.runs;
    console.log(`apply: ${rounds} rounds (${WARMUP_ROUNDS} warm-up) on ${engine.name} ${engine.version}`);
    for (let round = 0; round < rounds; round++) {
      const source = sources.paths[(round + 1) % 2]!;
      const keep = round >= WARMUP_ROUNDS;

      const ours = await monitorApply(fast, source);
      const floor = await floorRecreate(raw, floorName, floorId, sleeperBody(BENCH_IMAGE, source, TARGET));
      floorId = floor.newId;
      await writeFile(composeFile, composeText(composeContainer, source));
      const composeStarted = performance.now();
      await compose(['up', '-d', '--pull', 'never']);
      const composeMs = performance.now() - composeStarted;
      const ourDefault = await monitorApply(slow, source);

      if (!keep) continue;
      samples.monitor.push(ours.totalMs);
      samples.accept.push(ours.acceptMs);
      samples.downtimeMonitor.push(ours.downtimeMs);
      addStepDurations(ours.operation, steps);
      samples.floor.push(floor.totalMs);
      samples.downtimeFloor.push(floor.downtimeMs);
      samples.compose.push(composeMs);
      samples.monitorDefault.push(ourDefault.totalMs);
      samples.downtimeDefault.push(ourDefault.downtimeMs);
    }

    const expected = sources.paths[rounds % 2]!;
    for (const container of [fastName, defaultName, floorName, composeContainer]) {
      const actual = await mountSourceOf(engine, container);
      recorder.check('Apply latency', `${container.replace(/-\d+-[a-z0-9]+$/, '')} ends with the last mount`, actual === expected, `source ${actual}`);
    }

    const group = 'Apply latency';
    recorder.figure('apply.monitor', group, 'monitor: POST /api/mounts to operation succeeded, MIN_UPTIME_MS=0', 'ms', samples.monitor);
    recorder.figure('apply.monitor-default', group, 'monitor: same, product default MIN_UPTIME_MS=1000', 'ms', samples.monitorDefault);
    recorder.figure('apply.floor', group, 'raw Engine API floor (create, rename, stop, rename, start, inspect, remove)', 'ms', samples.floor);
    recorder.figure('apply.compose', group, '`docker compose up -d --pull never` after the same edit', 'ms', samples.compose);
    recorder.figure('apply.accept', group, 'monitor: POST /api/mounts to its 202 response', 'ms', samples.accept);
    const downtime = 'Downtime';
    recorder.figure('downtime.monitor', downtime, 'monitor: stop request of the old container to the new one running, MIN_UPTIME_MS=0', 'ms', samples.downtimeMonitor);
    recorder.figure('downtime.monitor-default', downtime, 'monitor: same, MIN_UPTIME_MS=1000', 'ms', samples.downtimeDefault);
    recorder.figure('downtime.floor', downtime, 'floor: stop request to the inspect that shows the new one running', 'ms', samples.downtimeFloor);
    for (const [step, durations] of steps) {
      recorder.figure(`apply.step.${step}`, 'Apply steps (monitor, MIN_UPTIME_MS=0)', `step ${step}`, 'ms', durations);
    }
    // The recreate writes its journal before each step: this is the cost of one such write on the same disk.
    const journal = new FileRecreateJournal(join(await tempFolder(), 'journal.json'));
    const writes: number[] = [];
    for (let i = 0; i < Math.max(10, args.runs); i++) {
      const started = performance.now();
      await journal.write({ operation_id: 'op_bench', name: fastName, old_id: 'f'.repeat(64), old_restart_policy: { Name: 'no' }, old_running: true, step: 'create' });
      writes.push(performance.now() - started);
    }
    recorder.figure('apply.journal-write', 'Apply steps (monitor, MIN_UPTIME_MS=0)', 'one recreate journal write (temporary file, fsync, rename, fsync of the folder)', 'ms', writes);
    recorder.note(
      `Each container runs ${BENCH_IMAGE} with docker-init, \`sleep 3600\`, a 1 s stop timeout and no network; ` +
        'every apply switches its one bind mount between two folders, so each one recreates the container.',
    );
    recorder.note(
      'The monitor is built in the benchmark process as servers/monitor/main.ts builds it, with its store, journal and compose file in a temporary folder on disk, ' +
        'and served on 127.0.0.1. The time ends when the operation reports succeeded, after the store and the compose file are updated.',
    );
  } finally {
    for (const monitor of monitors) await monitor.close();
    await raw.close();
    await compose(['down', '-t', '1']).catch(() => undefined);
    await removeBenchContainers(engine);
    await sources.cleanup();
    for (const folder of folders) await rm(folder, { recursive: true, force: true });
  }
  await recorder.save(args.json);
}

await main();
