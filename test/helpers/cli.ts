/** Runs mountctl from source as a child process (`node --import tsx cli/main.ts`) and collects its output. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './stack.js';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI with `args`. The environment is the test's minus any token or
 * MOUNTCTL_URL, plus `env`; the child is asynchronous so that servers in
 * this process keep responding to it.
 */
export function runMountctl(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const base = { ...process.env };
  for (const name of ['MONITOR_TOKEN', 'PROXY_TOKEN', 'MOUNTCTL_URL']) delete base[name];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'cli', 'main.ts'), ...args], {
      cwd: REPO_ROOT,
      env: { ...base, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
