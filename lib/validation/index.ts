export { ID_MAX_LENGTH, ID_PATTERN, validateId, type IdField } from './ids.js';
export { HOST_PATH_MAX_BYTES, isWithin, normalizeHostPath, type HostPathStyle } from './host-path.js';
export {
  checkHostPath,
  createHostPathPolicy,
  DEFAULT_DENY,
  DEFAULT_WINDOWS_DENY,
  type HostPathPolicy,
  type HostPathPolicyOptions,
} from './host-path-policy.js';
export {
  containerPathFor,
  DESCRIPTION_MAX_LENGTH,
  validateMountKey,
  validateMountRequest,
  validateWorkspaceRoot,
  type MountRequestOptions,
} from './request.js';
export { managedTargetTest } from './managed-target.js';
export {
  checkHostFolder,
  createHostRoot,
  MAX_SYMLINKS,
  resolveHostPath,
  type HostRoot,
  type HostRootFs,
  type HostRootOptions,
  type ResolvedHostPath,
} from './host-root.js';
export { DISPLAY_SPOOFING } from './text.js';
