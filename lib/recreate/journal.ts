/**
 * The recreate journal: one small JSON file beside the store that records how
 * far a recreate got, so that a monitor killed in the middle can finish or
 * undo it at its next start.
 */
import { readFile, rm } from 'node:fs/promises';
import { writeFileAtomic } from '../fs/atomic-write.js';
import type { RecreateStep } from '../errors.js';

export interface RestartPolicy {
  Name: string;
  MaximumRetryCount?: number;
}

export interface JournalEntry {
  operation_id: string;
  /** The container's name without the leading slash. */
  name: string;
  old_id: string;
  old_restart_policy: RestartPolicy;
  old_running: boolean;
  /** Set once the replacement exists. */
  new_id?: string;
  /** The step that is about to run or has just finished. */
  step: RecreateStep;
}

/** Storage for the progress of a recreate. */
export interface RecreateJournal {
  read(): Promise<JournalEntry | undefined>;
  write(entry: JournalEntry): Promise<void>;
  clear(): Promise<void>;
}

/** A journal in one file, replaced atomically on each write. */
export class FileRecreateJournal implements RecreateJournal {
  constructor(readonly file: string) {}

  async read(): Promise<JournalEntry | undefined> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    const entry = JSON.parse(text) as JournalEntry;
    if (typeof entry?.old_id !== 'string' || typeof entry.name !== 'string') {
      throw new Error(`recreate journal ${this.file} does not hold a journal entry`);
    }
    return entry;
  }

  async write(entry: JournalEntry): Promise<void> {
    // Repair reads the journal after a killed monitor, which a rename without fsync survives. After a
    // machine crash the journal may be a step behind, and repair falls back to the leftover names.
    await writeFileAtomic(this.file, `${JSON.stringify(entry, null, 2)}\n`, { durable: false });
  }

  async clear(): Promise<void> {
    await rm(this.file, { force: true });
  }
}

/** A journal that keeps nothing, for callers that accept no crash repair. */
export class MemoryRecreateJournal implements RecreateJournal {
  private entry: JournalEntry | undefined;

  async read(): Promise<JournalEntry | undefined> {
    return this.entry;
  }

  async write(entry: JournalEntry): Promise<void> {
    this.entry = { ...entry };
  }

  async clear(): Promise<void> {
    this.entry = undefined;
  }
}
