/**
 * Finds the Docker engine the real-engine tests use. DOCKER_HOST names it; a
 * test file calls `findEngine()` once at top level and passes `engineSkip` to
 * its `describe` or `test`. Under CI=true an unreachable engine fails the run
 * instead of skipping it.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { NEXT_SUFFIX, PREV_SUFFIX } from '../../lib/recreate/recreate.js';

const run = promisify(execFile);

export interface TestEngine {
  /** DOCKER_HOST value, for example `unix:///var/lib/mount-core-engines/d20.sock`. */
  host: string;
  /** Unix socket path, when DOCKER_HOST is a unix URL. */
  socketPath: string | undefined;
  /** API version the daemon reports, for example `1.41`. */
  apiVersion: string;
  /** Engine version, for example `20.10.24`. */
  version: string;
}

const HOW_TO_START =
  'no Docker engine reachable at DOCKER_HOST; start one with `bash .ci/engines.sh install && bash .ci/engines.sh start` ' +
  'and set DOCKER_HOST=unix:///var/lib/mount-core-engines/d20.sock';

let cached: Promise<TestEngine | undefined> | undefined;
let announced = false;

async function probe(): Promise<TestEngine | undefined> {
  const host = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
  try {
    const { stdout } = await run('docker', ['-H', host, 'version', '--format', '{{.Server.Version}} {{.Server.APIVersion}}'], {
      timeout: 10_000,
    });
    const [version = '', apiVersion = ''] = stdout.trim().split(' ');
    const socketPath = host.startsWith('unix://') ? host.slice('unix://'.length) : undefined;
    return { host, socketPath, apiVersion, version };
  } catch {
    return undefined;
  }
}

/** Returns the reachable engine, or undefined outside CI; throws under CI when none responds. */
export async function findEngine(): Promise<TestEngine | undefined> {
  cached ??= probe();
  const engine = await cached;
  if (!engine && process.env.CI === 'true') throw new Error(`CI=true but ${HOW_TO_START}`);
  if (!engine && !announced) {
    announced = true;
    console.log(`# skipping real-engine tests: ${HOW_TO_START}`);
  }
  return engine;
}

/** Returns the `skip` option for node:test: false with an engine, else the reason. */
export function engineSkip(engine: TestEngine | undefined): string | false {
  return engine ? false : HOW_TO_START;
}

/** Runs the docker CLI against the test engine and returns stdout. */
export async function docker(engine: TestEngine, args: string[], timeoutMs = 120_000): Promise<string> {
  const { stdout } = await run('docker', ['-H', engine.host, ...args], { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

/** Returns a name unique to this process and call, for containers, networks and volumes a test makes. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/**
 * Removes each named container with its anonymous volumes, together with the
 * `-mount-core-next` and `-mount-core-prev` containers a recreate of it may
 * have left. Containers already gone are skipped.
 */
export async function removeContainers(engine: TestEngine, names: Iterable<string>): Promise<void> {
  for (const name of names) {
    for (const suffix of ['', NEXT_SUFFIX, PREV_SUFFIX]) {
      await docker(engine, ['rm', '-f', '-v', name + suffix]).catch(() => undefined);
    }
  }
}
