/** Public API of mount-core: re-exports only. */
export * from './errors.js';
export * from './messages.js';
export * from './types.js';
export * from './validation/index.js';
export * from './store/index.js';
export * from './compose/index.js';
export * from './docker/index.js';
export { writeFileAtomic } from './fs/atomic-write.js';
export { recreateContainer, missingBindSource, NEXT_SUFFIX, PREV_SUFFIX, type RecreateOptions, type RecreateResult } from './recreate/recreate.js';
export { repairRecreate, type RepairOutcome } from './recreate/repair.js';
export { FileRecreateJournal, MemoryRecreateJournal, type JournalEntry, type RecreateJournal } from './recreate/journal.js';
export { buildReplacementSpec, managedMountsOf, sameMounts, type ManagedTargetTest, type ReplacementSpec } from './recreate/spec.js';
export type { RecreateEngine } from './recreate/engine.js';
export { Reconciler, reconcilerChannel, type ReconcilerOptions, type ReconcilerStore, type ApplyResultEntry, type ComposeWriter } from './reconciler/reconciler.js';
export { OperationLog, newOperationId, type Operation, type OperationKind, type OperationResult, type OperationState } from './reconciler/operations.js';
export * from './http/index.js';
export {
  ContainerWatchdog,
  WATCHDOG_CHANNEL_NAME,
  type ContainerWatchdogOptions,
  type RestartSkipReason,
  type WatchdogEngine,
  type WatchdogFailure,
  type WatchdogMessage,
  type WatchdogStats,
  type WatchdogTimers,
} from './reconciler/watchdog.js';
