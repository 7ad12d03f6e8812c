/** Shapes shared by the store, the compose transform, the reconciler and the servers. */

/** State of a mount: in the running container, waiting for an apply, or rejected by the last one. */
export type MountState = 'applied' | 'pending' | 'failed';

/** A mount request after validation: ids checked, `local_path` normalised, target computed. */
export interface ValidMountRequest {
  user_id: string;
  workspace_id: string;
  /** Normalised absolute host path, exactly as the Engine will receive it. */
  local_path: string;
  /** `WORKSPACE_ROOT/<user_id>/<workspace_id>` inside the development container. */
  container_path: string;
  description: string;
  read_only: boolean;
}

/** Failure of the last apply of a mount. */
export interface MountFailure {
  code: string;
  message: string;
  step?: string;
  /** Facts of the error (path, daemon message, status), for rendering the message in another language. */
  details?: Record<string, unknown>;
}

/** A mount record as the store keeps it and the API returns it. */
export interface Mount extends ValidMountRequest {
  /** ISO 8601 time of the first request for this user and workspace. */
  created_at: string;
  /** ISO 8601 time of the last change to the request's content. */
  updated_at: string;
  state: MountState;
  /** Set while `state` is `failed`. */
  error?: MountFailure;
}

/** The part of a mount that the container sees; two mounts with equal specs need no recreate. */
export interface MountSpec {
  local_path: string;
  container_path: string;
  read_only: boolean;
}

/** Store key of a mount, the same `user:workspace` form the original flat file used. */
export function mountKey(userId: string, workspaceId: string): string {
  return `${userId}:${workspaceId}`;
}
