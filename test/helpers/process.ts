/** Helpers for tests that run a server as a child process and read its JSON log lines. */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import type { TestContext } from 'node:test';
import { REPO_ROOT } from './stack.js';

/**
 * Spawns `node --import tsx <script>` from the repository root with `variables`
 * on top of this process's environment less the names in `cleared`, and kills
 * the child after the test if it still runs.
 */
export function spawnServer(t: TestContext, script: string, cleared: readonly string[], variables: Record<string, string>): ChildProcess {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of cleared) delete env[name];
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: REPO_ROOT,
    env: { ...env, ...variables },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return child;
}

/** Collects the messages of the JSON log lines a child writes on stdout. */
export function logMessages(child: ChildProcess): string[] {
  const messages: string[] = [];
  let buffered = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      try {
        messages.push(String((JSON.parse(line) as { message?: unknown }).message));
      } catch {
        // Lines that are not JSON are skipped.
      }
    }
  });
  return messages;
}

/** Polls until `messages` contains `message`, and fails when the child exits first. */
export async function waitForLog(child: ChildProcess, messages: string[], message: string): Promise<void> {
  while (!messages.includes(message)) {
    if (child.exitCode !== null || child.signalCode !== null) assert.fail(`process exited before logging "${message}"`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export function collect(stream: NodeJS.ReadableStream | null): () => string {
  let text = '';
  stream?.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
  });
  return () => text;
}
