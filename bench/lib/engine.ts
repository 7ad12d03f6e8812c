/**
 * The Docker engine the benchmarks use: one of the two local project engines,
 * reached only through its unix socket. Every container a benchmark creates
 * is named `mc-bench-…`, runs local/busybox:test on `--network none` with
 * docker-init as PID 1 and a 1 s stop timeout, so that a stop takes tens of
 * milliseconds, and is removed by `removeBenchContainers`.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { EngineName } from './args.js';

const run = promisify(execFile);

export const BENCH_IMAGE = 'local/busybox:test';
export const NAME_PREFIX = 'mc-bench-';

export interface BenchEngine {
  name: EngineName;
  socketPath: string;
  /** DOCKER_HOST value for the socket. */
  host: string;
  /** Engine version, for example `26.1.5`. */
  version: string;
  apiVersion: string;
}

/** Returns the engine `name` after checking that it replies and has the benchmark image; throws with how to start it. */
export async function openEngine(name: EngineName): Promise<BenchEngine> {
  const socketPath = `/var/lib/mount-core-engines/${name}.sock`;
  const host = `unix://${socketPath}`;
  let output: string;
  try {
    ({ stdout: output } = await run('docker', ['-H', host, 'version', '--format', '{{.Server.Version}} {{.Server.APIVersion}}'], { timeout: 15_000 }));
  } catch (error) {
    throw new Error(`engine ${name} at ${host} is not reachable; start it with \`bash .ci/engines.sh install && bash .ci/engines.sh start\` (${String(error)})`);
  }
  const [version = '', apiVersion = ''] = output.trim().split(' ');
  const engine = { name, socketPath, host, version, apiVersion };
  try {
    await docker(engine, ['image', 'inspect', '--format', '{{.Id}}', BENCH_IMAGE]);
  } catch {
    throw new Error(`image ${BENCH_IMAGE} is missing on ${name}; create it with \`DOCKER_HOST=${host} bash .ci/images.sh\``);
  }
  return engine;
}

/** Runs the docker CLI against `engine` and returns its standard output. */
export async function docker(engine: BenchEngine, args: string[], options: { cwd?: string; timeoutMs?: number } = {}): Promise<string> {
  const { stdout } = await run('docker', ['-H', engine.host, ...args], {
    cwd: options.cwd,
    timeout: options.timeoutMs ?? 120_000,
    maxBuffer: 16 * 1024 * 1024,
    env: { ...process.env, DOCKER_HOST: engine.host },
  });
  return stdout;
}

/** Returns a container name unique to this process: `mc-bench-<role>-<pid>-<random>`. */
export function benchName(role: string): string {
  return `${NAME_PREFIX}${role}-${process.pid}-${Math.floor(Math.random() * 36 ** 4).toString(36)}`;
}

/** Starts a busybox container that sleeps and stops within milliseconds of SIGTERM; returns its id. */
export async function runSleeper(engine: BenchEngine, name: string, extraArgs: string[] = []): Promise<string> {
  const args = ['run', '-d', '--name', name, '--network', 'none', '--init', '--stop-timeout', '1', ...extraArgs, BENCH_IMAGE, 'sleep', '3600'];
  return (await docker(engine, args)).trim();
}

/** Force-removes, with their anonymous volumes, the `mc-bench-` containers whose names carry this process's id. */
export async function removeBenchContainers(engine: BenchEngine): Promise<void> {
  const names = (await docker(engine, ['ps', '-a', '--filter', `name=^/${NAME_PREFIX}`, '--format', '{{.Names}}'])).split('\n');
  const mine = names.filter((name) => name.startsWith(NAME_PREFIX) && name.includes(`-${process.pid}-`));
  if (mine.length > 0) await docker(engine, ['rm', '-f', '-v', ...mine]);
}

/** Makes a temporary folder on disk (not tmpfs here) with `count` empty subfolders `src-0` … to bind-mount. */
export async function makeSourceFolders(count: number): Promise<{ root: string; paths: string[]; cleanup: () => Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), 'mc-bench-'));
  const paths: string[] = [];
  for (let i = 0; i < count; i++) {
    const path = join(root, `src-${i}`);
    await mkdir(path);
    paths.push(path);
  }
  return { root, paths, cleanup: () => rm(root, { recursive: true, force: true }) };
}
