/**
 * Crash repair: run at start-up, before any new recreate. Reads the journal a
 * killed recreate left behind and either finishes it (the replacement already
 * runs under the container's name) or undoes it, then removes leftovers named
 * `<name>-mount-core-next` and `<name>-mount-core-prev`.
 */
import { EngineError } from '../errors.js';
import type { ContainerInspect } from '../docker/types.js';
import type { RecreateEngine } from './engine.js';
import type { RecreateJournal } from './journal.js';
import { NEXT_SUFFIX, PREV_SUFFIX } from './recreate.js';
import { rollBack } from './rollback.js';

export type RepairOutcome = 'nothing-to-do' | 'completed' | 'rolled-back' | 'leftovers-removed';

async function inspectOrUndefined(engine: RecreateEngine, id: string): Promise<ContainerInspect | undefined> {
  try {
    return await engine.containerInspect({ id });
  } catch (error) {
    if (error instanceof EngineError && error.isNotFound) return undefined;
    throw error;
  }
}

/**
 * Handles a journal whose old container is gone, removed by the recreate
 * itself or by someone else: the replacement is the only copy of the
 * container left, so it gets the name and runs when the old one ran.
 */
async function keepReplacement(engine: RecreateEngine, newId: string | undefined, name: string, wasRunning: boolean): Promise<RepairOutcome> {
  const replacement = newId === undefined ? undefined : await inspectOrUndefined(engine, newId);
  if (!replacement) return 'nothing-to-do';
  if (replacement.Name.replace(/^\//, '') !== name) await engine.containerRename({ id: replacement.Id, name });
  if (wasRunning && !replacement.State.Running) await engine.containerStart({ id: replacement.Id });
  return 'completed';
}

/** Finishes or undoes an interrupted recreate of `name`; returns what it did. */
export async function repairRecreate(engine: RecreateEngine, journal: RecreateJournal, name: string): Promise<RepairOutcome> {
  const entry = await journal.read();
  let outcome: RepairOutcome = 'nothing-to-do';

  if (entry && entry.name === name) {
    const current = await inspectOrUndefined(engine, name);
    if (entry.new_id && current?.Id === entry.new_id && current.State.Running) {
      await engine.containerRemove({ id: entry.old_id, force: true, volumes: false }).catch((error: unknown) => {
        if (!(error instanceof EngineError && error.isNotFound)) throw error;
      });
      outcome = 'completed';
    } else {
      const old = await inspectOrUndefined(engine, entry.old_id);
      if (old) {
        if (entry.new_id) {
          await engine.containerRemove({ id: entry.new_id, force: true, volumes: false }).catch((error: unknown) => {
            if (!(error instanceof EngineError && error.isNotFound)) throw error;
          });
        }
        const renamed = old.Name.replace(/^\//, '') !== name;
        const policy = old.HostConfig.RestartPolicy?.Name ?? 'no';
        await rollBack(
          engine,
          { ...entry, new_id: undefined },
          { parked: renamed, policyParked: policy !== entry.old_restart_policy.Name, stoppedOld: entry.old_running },
        );
        outcome = 'rolled-back';
      } else {
        outcome = await keepReplacement(engine, entry.new_id, name, entry.old_running);
      }
    }
    await journal.clear();
  }

  // Leftovers with no journal: a crash between create and the first journal write, or a lost journal.
  const current = await inspectOrUndefined(engine, name);
  const next = await inspectOrUndefined(engine, name + NEXT_SUFFIX);
  const prev = await inspectOrUndefined(engine, name + PREV_SUFFIX);
  if (next) {
    await engine.containerRemove({ id: next.Id, force: true, volumes: false });
    if (outcome === 'nothing-to-do') outcome = 'leftovers-removed';
  }
  if (prev) {
    if (current) {
      await engine.containerRemove({ id: prev.Id, force: true, volumes: false });
    } else {
      // NOTE: without a journal the old restart policy is unknown; the parked one (`no`) stays.
      await engine.containerRename({ id: prev.Id, name });
      if (!prev.State.Running) await engine.containerStart({ id: prev.Id });
    }
    if (outcome === 'nothing-to-do') outcome = 'leftovers-removed';
  }
  return outcome;
}
