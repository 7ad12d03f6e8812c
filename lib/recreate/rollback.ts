/** Undoing a recreate: the old container gets back its name, restart policy and running state. */
import { EngineError } from '../errors.js';
import type { RecreateEngine } from './engine.js';
import type { JournalEntry } from './journal.js';

/** Steps already done to the old container, which a rollback undoes. */
export interface ParkedState {
  parked: boolean;
  policyParked: boolean;
  stoppedOld: boolean;
}

/** Awaits `call`, returning undefined when the Engine reports the object missing (404). */
export async function ignoreMissing<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (error) {
    if (error instanceof EngineError && error.isNotFound) return undefined;
    throw error;
  }
}

/** Undoes a recreate that stopped before the replacement was confirmed; steps already undone are skipped. */
export async function rollBack(engine: RecreateEngine, entry: JournalEntry, done: ParkedState): Promise<void> {
  if (entry.new_id) {
    await ignoreMissing(engine.containerRemove({ id: entry.new_id, force: true, volumes: false }));
  }
  if (done.parked) await engine.containerRename({ id: entry.old_id, name: entry.name });
  if (done.policyParked) {
    await engine.containerUpdate({ id: entry.old_id, body: { RestartPolicy: entry.old_restart_policy } });
  }
  if (done.stoppedOld || entry.old_running) {
    const old = await engine.containerInspect({ id: entry.old_id });
    if (!old.State.Running) await engine.containerStart({ id: entry.old_id });
  }
}
