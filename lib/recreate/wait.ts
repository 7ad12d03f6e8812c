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

/** When the replacement's process was first seen running, and when it was first seen ready (running and healthy). */
export interface RunningTimes {
  runningAt: number;
  readyAt: number;
}

/**
 * Polls inspect until the container runs (and is healthy where it has a
 * healthcheck) and has stayed so for `minUptimeMs` without a restart.
 * Returns when it was first seen running and first seen ready; throws a RecreateError at step
 * `wait-running` when it exits, restarts, turns unhealthy or times out.
 */
export async function waitUntilRunning(engine: RecreateEngine, id: string, options: WaitOptions): Promise<RunningTimes> {
  const deadline = options.now() + options.timeoutMs;
  let processRunningAt: number | undefined;
  let firstRunningAt: number | undefined;
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
    // With a restart policy a crashing replacement never shows `exited`: it is restarting, or running again
    // with a restart count above zero. The exit code is only kept while it is restarting.
    const restarts = typeof inspect.RestartCount === 'number' ? inspect.RestartCount : 0;
    if (state.Restarting) fail(`it exited with code ${state.ExitCode} and its restart policy is restarting it`);
    if (restarts > 0) fail(`it exited and its restart policy restarted it ${restarts} time(s)`);
    if (state.Running) processRunningAt ??= options.now();
    if (!state.Running) {
      if (firstRunningAt !== undefined || state.Status === 'exited' || state.Status === 'dead') {
        fail(`it is ${state.Status} (exit code ${state.ExitCode ?? 'unknown'})`);
      }
    } else if (startedAt !== undefined && state.StartedAt !== startedAt) {
      fail('it restarted after it first ran');
    } else if (health === 'unhealthy') {
      fail('its healthcheck reports unhealthy');
    } else if (health === undefined || health === 'healthy') {
      firstRunningAt ??= options.now();
      startedAt ??= state.StartedAt;
      if (options.now() - firstRunningAt >= options.minUptimeMs) return { runningAt: processRunningAt ?? firstRunningAt, readyAt: firstRunningAt };
    }
    if (options.now() >= deadline) {
      fail(`it was not ${health === undefined ? 'running' : 'healthy'} within ${options.timeoutMs} ms (state ${state.Status}${health ? `, health ${health}` : ''})`);
    }
    await sleep(options.pollIntervalMs);
  }
}
