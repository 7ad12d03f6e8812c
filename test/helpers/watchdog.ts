/**
 * Helpers for the watchdog tests: a busybox container that exits on request,
 * through a file in a bind-mounted folder, and a recorder of the messages on
 * `mount-core:watchdog` for one container.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WATCHDOG_CHANNEL_NAME, type WatchdogMessage } from '../../lib/reconciler/watchdog.js';
import { docker, uniqueName, type TestEngine } from './engine.js';

/**
 * PID 1 of a crashable container: exits 3 once for each `/ctl/crash` file
 * (removing it, so the next start runs normally), and exits 4 at every start
 * while `/ctl/crash-loop` exists.
 */
const CRASHABLE_SCRIPT = [
  'while :; do',
  '  if [ -e /ctl/crash-loop ]; then exit 4; fi',
  '  if [ -e /ctl/crash ]; then rm -f /ctl/crash; exit 3; fi',
  '  sleep 0.1',
  'done',
].join('\n');

export interface CrashableContainer {
  name: string;
  /** Host folder mounted at /ctl. */
  control: string;
  /** Makes the main process exit with code 3 once. */
  crash(): Promise<void>;
  /** Makes every start exit with code 4 until stopLoop(). */
  crashLoop(): Promise<void>;
  stopLoop(): Promise<void>;
  /** Removes the container and its control folder. */
  remove(): Promise<void>;
}

/** Runs a crashable busybox container with no network on the test engine. */
export async function startCrashable(engine: TestEngine, prefix = 'mc-wd', extraArgs: string[] = []): Promise<CrashableContainer> {
  const name = uniqueName(prefix);
  const control = await mkdtemp(join(tmpdir(), 'mc-ctl-'));
  await docker(engine, [
    'run', '-d', '--pull', 'never', '--network', 'none', '--stop-timeout', '1', '--name', name,
    '-v', `${control}:/ctl`, ...extraArgs, 'local/busybox:test', 'sh', '-c', CRASHABLE_SCRIPT,
  ]);
  return {
    name,
    control,
    crash: () => writeFile(join(control, 'crash'), ''),
    crashLoop: () => writeFile(join(control, 'crash-loop'), ''),
    stopLoop: () => rm(join(control, 'crash-loop'), { force: true }),
    remove: async () => {
      await docker(engine, ['rm', '-f', '-v', name]).catch(() => undefined);
      await rm(control, { recursive: true, force: true });
    },
  };
}

/** Records the watchdog messages about one container until close(). */
export class WatchdogRecorder {
  readonly messages: WatchdogMessage[] = [];
  readonly #waiters = new Set<() => void>();
  readonly #listener = (message: unknown) => {
    if ((message as WatchdogMessage).container !== this.container) return;
    this.messages.push(message as WatchdogMessage);
    for (const wake of this.#waiters) wake();
  };

  constructor(readonly container: string) {
    subscribe(WATCHDOG_CHANNEL_NAME, this.#listener);
  }

  /** Index of the next message, for `waitFor(…, from)`. */
  mark(): number {
    return this.messages.length;
  }

  /** Messages from index `from` on that match `event`. */
  all<E extends WatchdogMessage['event']>(event: E, from = 0): Array<Extract<WatchdogMessage, { event: E }>> {
    return this.messages.slice(from).filter((m): m is Extract<WatchdogMessage, { event: E }> => m.event === event);
  }

  /** Resolves with the first message from index `from` on that is `event` and passes `test`; rejects after `timeoutMs`. */
  waitFor<E extends WatchdogMessage['event']>(
    event: E,
    options: { from?: number; timeoutMs?: number; test?: (message: Extract<WatchdogMessage, { event: E }>) => boolean } = {},
  ): Promise<Extract<WatchdogMessage, { event: E }>> {
    const { from = 0, timeoutMs = 15_000, test = () => true } = options;
    const find = () => this.all(event, from).find(test);
    const found = find();
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const wake = () => {
        const match = find();
        if (!match) return;
        this.#waiters.delete(wake);
        clearTimeout(timer);
        resolve(match);
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(wake);
        const seen = this.messages.slice(from).map((m) => m.event).join(', ') || 'none';
        reject(new Error(`no watchdog message "${event}" for ${this.container} within ${timeoutMs} ms; messages seen: ${seen}`));
      }, timeoutMs);
      this.#waiters.add(wake);
    });
  }

  close(): void {
    unsubscribe(WATCHDOG_CHANNEL_NAME, this.#listener);
  }
}

/** Resolves after `ms` milliseconds. */
export const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
