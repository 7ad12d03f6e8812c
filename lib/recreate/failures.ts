/**
 * Turns whatever a recreate step threw into the RecreateError callers see:
 * the step, whether the old container was restored, and the daemon's reason.
 */
import { EngineError, MountCoreError, RecreateError, RecreateRefusedError, type RecreateStep } from '../errors.js';

const MISSING_SOURCE = /bind source path does not exist:\s*(.+)$/;

/** Returns the host path of a missing bind source named in an Engine error, if the error is one. */
export function missingBindSource(error: unknown): string | undefined {
  if (!(error instanceof EngineError) || error.statusCode !== 400) return undefined;
  return MISSING_SOURCE.exec(error.daemonMessage.trim())?.[1]?.trim();
}

/** Returns the daemon's own message for an Engine error, else the error's message. */
export function reasonOf(error: unknown): string {
  if (error instanceof EngineError) return error.daemonMessage;
  return error instanceof Error ? error.message : String(error);
}

/** Builds the details of a RecreateError that describe its cause. */
function causeDetails(error: unknown): Record<string, unknown> {
  const details: Record<string, unknown> = { reason: reasonOf(error) };
  if (error instanceof EngineError) details.daemon_message = error.daemonMessage;
  if (error instanceof MountCoreError && error.code !== 'ENGINE_ERROR') details.cause_code = error.code;
  return details;
}

/**
 * Maps `error`, thrown at `step` of the recreate of `name`, to the error the
 * caller gets. `rollbackError` is what stopped the rollback, when it failed.
 */
export function toRecreateFailure(error: unknown, step: RecreateStep, restored: boolean, name: string, rollbackError?: unknown): MountCoreError {
  if (error instanceof RecreateRefusedError) return error;
  const rollback = rollbackError === undefined ? {} : { rollback_reason: reasonOf(rollbackError) };
  if (error instanceof RecreateError && error.code === 'BIND_SOURCE_NOT_DIRECTORY') {
    return new RecreateError(error.code, error.step, restored, error.message, { details: { ...error.details, ...rollback } });
  }
  const source = missingBindSource(error);
  if (source !== undefined) {
    return new RecreateError('BIND_SOURCE_MISSING', step, restored, `host path ${source} does not exist; ${name} was not recreated`, {
      cause: error,
      details: { path: source, container: name, ...causeDetails(error), ...rollback },
    });
  }
  const state = restored ? 'the old container was restored' : `restoring the old container failed (${reasonOf(rollbackError)})`;
  return new RecreateError('RECREATE_FAILED', step, restored, `recreate of ${name} failed at step ${step} (${reasonOf(error)}); ${state}`, {
    cause: error,
    details: { container: name, ...causeDetails(error), ...rollback },
  });
}

/** Builds the error for a replacement that runs while the parked old container could not be removed; repair removes it later. */
export function toRemoveOldFailure(error: unknown, name: string, newId: string | undefined): RecreateError {
  return new RecreateError('RECREATE_FAILED', 'remove-old', false, `the replacement runs but removing the old container failed: ${reasonOf(error)}`, {
    cause: error,
    details: { container: name, ...causeDetails(error), new_id: newId },
  });
}
