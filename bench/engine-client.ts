/**
 * Engine client: container inspects per second against one running container,
 * at concurrency 1 and 16, with mount-core's DockerClient, with dockerode and
 * with plain node:http over a keep-alive Agent, all on the same unix socket.
 * Each sample is a fixed number of inspects with every response body parsed.
 * The same runs are repeated against a stub daemon in a child process that
 * returns the recorded inspect body at once, because against the real daemon
 * its own time per inspect hides most of the clients' differences.
 *
 * Run: node --import tsx bench/engine-client.ts [--short] [--runs N] [--json FILE] [--engine d20|d26]
 */
import Docker from 'dockerode';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerClient } from '../lib/index.js';
import { parseBenchArgs } from './lib/args.js';
import { benchName, openEngine, removeBenchContainers, runSleeper } from './lib/engine.js';
import { startProcess, stopProcess, type StartedProcess } from './lib/process.js';
import { rawInspectPool } from './lib/raw-inspect.js';
import { Recorder } from './lib/report.js';

type Inspect = () => Promise<unknown>;

/** Runs `total` calls of `inspect` with `concurrency` in flight and returns calls per second. */
async function rate(inspect: Inspect, total: number, concurrency: number): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next += 1;
        await inspect();
      }
    }),
  );
  return total / ((performance.now() - started) / 1000);
}

/** Returns an inspect call made with node:http alone: a keep-alive Agent, the whole body read and parsed as JSON. */
function httpInspect(socketPath: string, path: string, agent: Agent): Inspect {
  return () =>
    new Promise((resolve, reject) => {
      const req = request({ socketPath, path, agent, headers: { host: 'localhost' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          if (res.statusCode !== 200) reject(new Error(`GET ${path} returned ${res.statusCode}`));
          else resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
}

/** Records each client's ops/s against the daemon at `socketPath`, alternating clients run by run. */
async function compareClients(recorder: Recorder, options: { socketPath: string; id: string; total: number; runs: number; group: string; prefix: string }): Promise<void> {
  const { socketPath, id, total, runs } = options;
  const ours = new DockerClient({ host: `unix://${socketPath}` });
  const dockerode = new Docker({ socketPath });
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const version = await ours.apiVersion();
  const raw = rawInspectPool(socketPath, `/v${version}/containers/${id}/json`, 16);
  try {
    const clients: Array<[string, string, Inspect]> = [
      ['ours', 'mount-core DockerClient', () => ours.containerInspect({ id })],
      ['dockerode', 'dockerode', () => dockerode.getContainer(id).inspect()],
      ['http', 'node:http with a keep-alive Agent', httpInspect(socketPath, `/v${version}/containers/${id}/json`, agent)],
      ['raw', 'least possible client: raw socket, request bytes built once, no timeouts (bench/lib/raw-inspect.ts)', raw.inspect],
    ];
    for (const concurrency of [1, 16]) {
      const samples = new Map<string, number[]>(clients.map(([key]) => [key, []]));
      for (const [, , inspect] of clients) await rate(inspect, Math.min(100, total), concurrency);
      for (let run = 0; run < runs; run++) {
        for (const [key, , inspect] of clients) samples.get(key)!.push(await rate(inspect, total, concurrency));
      }
      for (const [key, label] of clients) {
        recorder.figure(`${options.prefix}.${key}.c${concurrency}`, options.group, `${label}, concurrency ${concurrency}`, 'ops/s', samples.get(key)!);
      }
    }
  } finally {
    await ours.close();
    agent.destroy();
    raw.close();
  }
}

async function main(): Promise<void> {
  const args = parseBenchArgs();
  const recorder = new Recorder('engine-client');
  const engine = await openEngine(args.engine);
  const total = args.short ? 200 : 2000;
  const name = benchName('inspect');
  const folder = await mkdtemp(join(tmpdir(), 'mc-bench-stub-'));
  let stub: StartedProcess | undefined;

  try {
    const id = await runSleeper(engine, name);
    await compareClients(recorder, { socketPath: engine.socketPath, id, total, runs: args.runs, group: 'Engine client: container inspect', prefix: 'engine' });

    const probe = new DockerClient({ host: engine.host });
    const body = JSON.stringify(await probe.containerInspect({ id }));
    await probe.close();
    await writeFile(join(folder, 'inspect.json'), body);
    const socketPath = join(folder, 'stub.sock');
    stub = await startProcess(process.execPath, ['--import', 'tsx', 'bench/children/stub-engine.ts', socketPath, join(folder, 'inspect.json'), engine.apiVersion], {
      ready: 'stub engine started',
      env: {},
    });
    const stubTotal = args.short ? 1000 : 10_000;
    await compareClients(recorder, { socketPath, id, total: stubTotal, runs: args.runs, group: 'Engine client: container inspect against a stub daemon', prefix: 'stub' });
    recorder.note(
      `Each sample is ${total.toLocaleString('en-US')} GET /containers/{id}/json calls on a running busybox container (${stubTotal.toLocaleString('en-US')} against the stub), ` +
        `every body parsed as JSON; the three clients alternate run by run after a 100-call warm-up each. The stub is a node:http server on a unix socket in a child process that returns the recorded ${body.length}-byte inspect body. ` +
        'dockerode uses its default transport (docker-modem over node:http).',
    );
  } finally {
    if (stub) await stopProcess(stub);
    await removeBenchContainers(engine);
    await rm(folder, { recursive: true, force: true });
  }
  await recorder.save(args.json);
}

await main();
