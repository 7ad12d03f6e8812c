/** The compose transform: keeps the managed workspace mounts of one service in sync. */
export { syncComposeMounts, readManagedMounts } from './sync.js';
export { prepareComposeFile, syncComposeFile, type PreparedComposeFile } from './file.js';
export { parseShortVolume, isWindowsDrivePath, type ShortVolume, type ShortVolumeParse } from './short-volume.js';
export type {
  ComposeFileSyncResult,
  ComposeSyncOptions,
  ComposeSyncResult,
  ComposeTargetOptions,
  ManagedEntry,
} from './types.js';
