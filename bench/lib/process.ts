/** Child processes of the benchmarks: free ports, start-up lines, memory from /proc, and timed stops. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';

export interface StartedProcess {
  child: ChildProcess;
  pid: number;
  /** Every stdout line so far, for error messages. */
  lines: string[];
}

/**
 * Returns the NODE_OPTIONS value the Dockerfile sets for both servers, so
 * that benchmarks run the servers with the flags the image runs them with.
 */
export function imageNodeOptions(repoRoot: string): string {
  const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
  const match = /^ENV NODE_OPTIONS="?([^"\n]+)"?$/m.exec(dockerfile);
  if (!match) throw new Error('the Dockerfile has no `ENV NODE_OPTIONS=...` line');
  return match[1]!;
}

/** Returns a TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Spawns `command args` and resolves once a stdout line contains `ready`;
 * rejects when the process exits first or after `timeoutMs`.
 */
export async function startProcess(
  command: string,
  args: string[],
  options: { env: Record<string, string>; ready: string; timeoutMs?: number },
): Promise<StartedProcess> {
  const child = spawn(command, args, { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const reader = createInterface({ input: child.stdout! });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${args.join(' ')} did not print "${options.ready}" within ${options.timeoutMs ?? 30_000} ms: ${stderr}${lines.join('\n')}`));
    }, options.timeoutMs ?? 30_000);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(' ')} exited (${code ?? signal}) before it was ready: ${stderr}${lines.join('\n')}`));
    });
    reader.on('line', (line) => {
      lines.push(line);
      if (line.includes(options.ready)) {
        clearTimeout(timer);
        resolve({ child, pid: child.pid!, lines });
      }
    });
  });
}

/** Returns the resident set size of process `pid` in MiB, from VmRSS in /proc/<pid>/status. */
export async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!match) throw new Error(`no VmRSS line in /proc/${pid}/status`);
  return Number(match[1]) / 1024;
}

/** Sends SIGTERM and returns the milliseconds until the process exits; SIGKILL after `limitMs`. */
export async function stopProcess(started: StartedProcess, limitMs = 10_000): Promise<number> {
  const { child } = started;
  if (child.exitCode !== null || child.signalCode !== null) return 0;
  const exited = once(child, 'exit');
  const sent = performance.now();
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
  await exited;
  clearTimeout(timer);
  return performance.now() - sent;
}

/** Runs `command args` to the end and returns its stdout; rejects on a non-zero exit. */
export async function runToEnd(command: string, args: string[], timeoutMs: number): Promise<string> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
  clearTimeout(timer);
  if (code !== 0) throw new Error(`${args.join(' ')} exited with ${code ?? signal}`);
  return stdout;
}
