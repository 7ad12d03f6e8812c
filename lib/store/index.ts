export { MountStore, type ApplyResult, type MountStoreOptions, type StoreSnapshot } from './store.js';
export { parseStore, serializeStore, sortMounts, STORE_FORMAT, type ParsedStore, type ParseStoreOptions, type StoreData } from './format.js';
export {
  acquireLock,
  DEFAULT_LOCK_TIMEOUT_MS,
  DEFAULT_STALE_LOCK_MS,
  withLock,
  type HeldLock,
  type LockOptions,
} from './lock.js';
