/** Waiting for a started container to run, and to stay running. */
import { RecreateError } from '../errors.js';
import type { RecreateEngine } from './engine.js';

export interface WaitOptions {
  timeoutMs: number;
  /** How long the container must keep running (and healthy) before it counts. */
  minUptimeMs: number;
  pollIntervalMs: number;
  now: () => number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Polls inspect until the container runs (and is healthy where it has a
 * healthcheck) and has stayed so for `minUptimeMs` without a restart.
 * Returns the time it was first seen running; throws a RecreateError at step
 * `wait-running` when it exits, restarts, turns unhealthy or times out.
 */
export async function waitUntilRunning(engine: RecreateEngine, id: string, options: WaitOptions): Promise<number> {
  const deadline = options.now() + options.timeoutMs;
  let firstRunningAt: number | undefined;
  let restartCount: unknown;
  let startedAt: string | undefined;

  const fail = (reason: string): never => {
    throw new RecreateError('RECREATE_FAILED', 'wait-running', false, `the replacement container did not stay up: ${reason}`, {
      details: { reason },
    });
  };

  for (;;) {
    const inspect = await engine.containerInspect({ id });
    const { State: state } = inspect;
    const health = state.Health?.Status;
    if (!state.Running || state.Restarting) {
      if (firstRunningAt !== undefined || state.Status === 'exited' || state.Status === 'dead') {
        fail(`it is ${state.Status} (exit code ${state.ExitCode ?? 'unknown'})`);
      }
    } else if (startedAt !== undefined && (state.StartedAt !== startedAt || inspect.RestartCount !== restartCount)) {
      fail('it restarted after it first ran');
    } else if (health === 'unhealthy') {
      fail('its healthcheck reports unhealthy');
    } else if (health === undefined || health === 'healthy') {
      firstRunningAt ??= options.now();
      startedAt ??= state.StartedAt;
      restartCount ??= inspect.RestartCount;
      if (options.now() - firstRunningAt >= options.minUptimeMs) return firstRunningAt;
    }
    if (options.now() >= deadline) {
      fail(`it was not ${health === undefined ? 'running' : 'healthy'} within ${options.timeoutMs} ms (state ${state.Status}${health ? `, health ${health}` : ''})`);
    }
    await sleep(options.pollIntervalMs);
  }
}
