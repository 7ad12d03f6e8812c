/**
 * Runs the real monitor or dev-proxy entry point as a child process
 * (`node --import tsx servers/<name>/main.ts`) with only the environment a
 * test gives it, and collects its JSON log lines.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { REPO_ROOT } from './stack.js';

export interface ServerProcess {
  child: ChildProcess;
  /** Parsed JSON log lines from stdout, in order. */
  logs: Array<Record<string, unknown>>;
  /** Everything the process wrote to stderr. */
  stderr(): string;
  /** Sends SIGTERM, then SIGKILL after `timeoutMs`; resolves with the exit code. */
  stop(timeoutMs?: number): Promise<number | null>;
}

/**
 * Starts `servers/<server>/main.ts`. The child gets PATH and HOME and then
 * `env`, nothing else from this process, so no MONITOR_API or DOCKER_HOST of
 * the developer's shell leaks into it.
 */
export function startServerProcess(server: 'monitor' | 'dev-proxy', env: Record<string, string>): ServerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', `servers/${server}/main.ts`], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Array<Record<string, unknown>> = [];
  let pending = '';
  let errors = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    let newline = pending.indexOf('\n');
    while (newline !== -1) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ unparsed: line });
      }
      newline = pending.indexOf('\n');
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    errors += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  return {
    child,
    logs,
    stderr: () => errors,
    async stop(timeoutMs = 35_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
