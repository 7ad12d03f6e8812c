/**
 * Brings up the real docker-compose.dev.yml on the test engine through a
 * loopback override: both services on the host network, nothing published,
 * each server bound to 127.0.0.1 on a free port, so no traffic leaves the
 * loopback interface. The compose file is copied to a temporary folder first,
 * because the monitor edits it.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TestEngine } from './engine.js';

const run = promisify(execFile);
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const STACK_IMAGE = 'mount-core:dev';
export const BASE_IMAGE = 'local/node:20';

export interface TestStack {
  project: string;
  folder: string;
  composeFile: string;
  monitorUrl: string;
  proxyUrl: string;
  /** Runs `docker compose` for this stack. */
  compose(args: string[]): Promise<string>;
  down(): Promise<void>;
}

/** Returns a TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

/** Builds dist/ and the stack image from the working tree; later layers are cached by the engine. */
export async function buildStackImage(engine: TestEngine): Promise<void> {
  await run('npm', ['run', 'build', '--silent'], { cwd: REPO_ROOT, timeout: 300_000 });
  await run('docker', ['-H', engine.host, 'build', '-q', '--build-arg', `NODE_IMAGE=${BASE_IMAGE}`, '-t', STACK_IMAGE, '.'], {
    cwd: REPO_ROOT,
    timeout: 300_000,
    env: { ...process.env, DOCKER_BUILDKIT: '0' },
  });
}

/** Starts the stack and waits until both services report healthy. */
export async function startStack(engine: TestEngine, extraEnv: Record<string, string> = {}): Promise<TestStack> {
  const folder = await mkdtemp(join(tmpdir(), 'mc-stack-'));
  const composeFile = join(folder, 'docker-compose.dev.yml');
  await copyFile(join(REPO_ROOT, 'docker-compose.dev.yml'), composeFile);
  const monitorPort = await freePort();
  const proxyPort = await freePort();
  const override = join(folder, 'loopback.override.yml');
  await writeFile(
    override,
    [
      'services:',
      '  openmanus-core-dev:',
      '    network_mode: host',
      '    ports: !reset []',
      '    environment:',
      '      HOST: 127.0.0.1',
      `      PORT: "${proxyPort}"`,
      `      MONITOR_API: http://127.0.0.1:${monitorPort}/api`,
      '  openmanus-monitor:',
      '    network_mode: host',
      '    ports: !reset []',
      '    environment:',
      '      HOST: 127.0.0.1',
      `      PORT: "${monitorPort}"`,
      '      MIN_UPTIME_MS: "500"',
      '',
    ].join('\n'),
  );
  const project = `mc-e2e-${process.pid}`;
  const env = {
    ...process.env,
    DOCKER_HOST: engine.host,
    DOCKER_SOCKET: engine.socketPath ?? '/var/run/docker.sock',
    NODE_IMAGE: BASE_IMAGE,
    DEBUG_MODE: '1',
    ...extraEnv,
  };
  const compose = async (args: string[]) => {
    const { stdout } = await run('docker', ['compose', '-p', project, '-f', composeFile, '-f', override, ...args], {
      cwd: folder,
      env,
      timeout: 180_000,
    });
    return stdout;
  };
  // A stack left over from an interrupted run still uses the fixed container names.
  await run('docker', ['-H', engine.host, 'rm', '-f', 'openmanus-core-dev', 'openmanus-monitor'], { timeout: 60_000 }).catch(() => undefined);
  await compose(['up', '-d', '--no-build', '--pull', 'never', '--wait']);
  return {
    project,
    folder,
    composeFile,
    monitorUrl: `http://127.0.0.1:${monitorPort}/api`,
    proxyUrl: `http://127.0.0.1:${proxyPort}/api/mounts`,
    compose,
    down: async () => {
      await compose(['down', '-v', '--remove-orphans', '-t', '2']).catch(() => undefined);
      await run('docker', ['-H', engine.host, 'rm', '-f', 'openmanus-core-dev', 'openmanus-monitor'], { timeout: 60_000 }).catch(() => undefined);
      await rm(folder, { recursive: true, force: true });
    },
  };
}

/** Sends a JSON request and returns status and parsed body; network errors are returned, not thrown. */
export async function call(
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any; error?: unknown }> {
  try {
    const response = await fetch(url, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  } catch (error) {
    return { status: 0, body: undefined, error };
  }
}

/** Polls `check` every 200 ms until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
