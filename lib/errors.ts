/**
 * Every error the library raises: one root class, one subclass per category,
 * and a closed set of stable UPPER_SNAKE codes. Callers branch on `code`, never
 * on message text. `message` is English; `localize()` in messages.ts renders
 * the same error in zh-CN or English for API responses.
 */

export type ErrorCode =
  // Request shape (HTTP layer).
  | 'INVALID_JSON'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'BODY_TOO_LARGE'
  | 'INVALID_FIELD'
  | 'UNKNOWN_FIELD'
  | 'MISSING_FIELD'
  | 'DUPLICATE_FIELD'
  | 'ROUTE_NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'UNAUTHORIZED'
  | 'DEBUG_DISABLED'
  | 'TOO_MANY_REQUESTS'
  // Mount request content.
  | 'INVALID_USER_ID'
  | 'INVALID_WORKSPACE_ID'
  | 'INVALID_LOCAL_PATH'
  | 'INVALID_DESCRIPTION'
  | 'INVALID_READ_ONLY'
  | 'PATH_NOT_ALLOWED'
  | 'MOUNT_NOT_FOUND'
  | 'OPERATION_NOT_FOUND'
  // Store and compose file.
  | 'STORE_CORRUPT'
  | 'STORE_IO'
  | 'STORE_LOCK_TIMEOUT'
  | 'COMPOSE_INVALID'
  | 'COMPOSE_IO'
  // Docker Engine.
  | 'DOCKER_UNAVAILABLE'
  | 'ENGINE_TIMEOUT'
  | 'ENGINE_ERROR'
  | 'ENGINE_VERSION_UNSUPPORTED'
  | 'CONTAINER_NOT_FOUND'
  | 'BIND_SOURCE_MISSING'
  | 'BIND_SOURCE_NOT_DIRECTORY'
  | 'RECREATE_REFUSED'
  | 'RECREATE_FAILED'
  // Servers.
  | 'MONITOR_UNAVAILABLE'
  | 'CONFIG_INVALID'
  | 'INTERNAL_ERROR';

/** Free-form facts about an error, rendered into messages and API `data`. */
export type ErrorDetails = Record<string, unknown>;

export interface MountCoreErrorOptions {
  details?: ErrorDetails;
  cause?: unknown;
}

/** Root of every error raised by mount-core. */
export class MountCoreError extends Error {
  readonly code: ErrorCode;
  /** HTTP status a server sends for this error. */
  readonly status: number;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, status: number, message: string, options: MountCoreErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    this.details = options.details ?? {};
  }
}

/** A request field or value is malformed (400). */
export class ValidationError extends MountCoreError {
  constructor(code: ErrorCode, message: string, options: MountCoreErrorOptions = {}) {
    super(code, 400, message, options);
  }
}

/** A request is well formed but names a host path the policy forbids (403). */
export class PolicyError extends MountCoreError {
  constructor(message: string, options: MountCoreErrorOptions = {}) {
    super('PATH_NOT_ALLOWED', 403, message, options);
  }
}

/** The named mount, operation or route does not exist (404). */
export class NotFoundError extends MountCoreError {
  constructor(code: 'MOUNT_NOT_FOUND' | 'OPERATION_NOT_FOUND' | 'ROUTE_NOT_FOUND' | 'CONTAINER_NOT_FOUND', message: string, options: MountCoreErrorOptions = {}) {
    super(code, 404, message, options);
  }
}

/** The mount store cannot be read, parsed, locked or written (500). */
export class StoreError extends MountCoreError {
  constructor(code: 'STORE_CORRUPT' | 'STORE_IO' | 'STORE_LOCK_TIMEOUT', message: string, options: MountCoreErrorOptions = {}) {
    super(code, code === 'STORE_LOCK_TIMEOUT' ? 503 : 500, message, options);
  }
}

/** A problem found in a compose file, with a path into the document. */
export interface ComposeProblem {
  /** Keys and indexes from the document root, for example `['services', 'dev', 'volumes', 2]`. */
  path: (string | number)[];
  message: string;
}

/** The compose file cannot be read, parsed, edited or written (500). */
export class ComposeError extends MountCoreError {
  readonly problems: ComposeProblem[];

  constructor(code: 'COMPOSE_INVALID' | 'COMPOSE_IO', message: string, problems: ComposeProblem[] = [], options: MountCoreErrorOptions = {}) {
    super(code, 500, message, { ...options, details: { ...options.details, problems } });
    this.problems = problems;
  }
}

/** The Docker socket cannot be reached at all (503); `cause` keeps the socket error. */
export class DockerUnavailableError extends MountCoreError {
  constructor(message: string, options: MountCoreErrorOptions = {}) {
    super('DOCKER_UNAVAILABLE', 503, message, options);
  }
}

/** An Engine API request timed out (504). */
export class EngineTimeoutError extends MountCoreError {
  constructor(message: string, options: MountCoreErrorOptions = {}) {
    super('ENGINE_TIMEOUT', 504, message, options);
  }
}

/** Error for a request the Engine returned a non-2xx status for. */
export class EngineError extends MountCoreError {
  /** HTTP status the daemon returned. */
  readonly statusCode: number;
  readonly method: string;
  readonly path: string;
  /** The daemon's own `message` field, or the start of its body. */
  readonly daemonMessage: string;

  constructor(statusCode: number, method: string, path: string, daemonMessage: string, options: MountCoreErrorOptions = {}) {
    // Only a 404 on a named container means the container is gone: create returns 404 for a missing
    // image, and an archive request for a missing path inside the container.
    const containerPath = /^\/?(v[\d.]+\/)?containers\/(?!create\b)[^/?]+(\/(json|start|stop|restart|kill|rename|update|wait))?(\?|$)/;
    const code: ErrorCode = statusCode === 404 && containerPath.test(path) ? 'CONTAINER_NOT_FOUND' : 'ENGINE_ERROR';
    super(code, code === 'CONTAINER_NOT_FOUND' ? 404 : 502, `Docker Engine answered ${statusCode} to ${method} ${path}: ${daemonMessage}`, {
      ...options,
      details: { status: statusCode, method, path, daemon_message: daemonMessage, ...options.details },
    });
    this.statusCode = statusCode;
    this.method = method;
    this.path = path;
    this.daemonMessage = daemonMessage;
  }

  get isNotFound(): boolean {
    return this.statusCode === 404;
  }

  get isConflict(): boolean {
    return this.statusCode === 409;
  }

  get isNotModified(): boolean {
    return this.statusCode === 304;
  }
}

/** Steps of a recreate, in order; failures record the step they came from. */
export type RecreateStep =
  | 'inspect'
  | 'check'
  | 'create'
  | 'connect-networks'
  | 'verify-sources'
  | 'park-old'
  | 'stop-old'
  | 'rename-new'
  | 'start-new'
  | 'wait-running'
  | 'remove-old'
  | 'rollback';

/** A recreate the library will not attempt, because it cannot be done safely (409). */
export class RecreateRefusedError extends MountCoreError {
  constructor(message: string, options: MountCoreErrorOptions = {}) {
    super('RECREATE_REFUSED', 409, message, options);
  }
}

/** A recreate that failed at `step`; the old container was kept or restored (502). */
export class RecreateError extends MountCoreError {
  readonly step: RecreateStep;
  /** True when the old container runs again under its own name after the failure. */
  readonly restored: boolean;

  constructor(
    code: 'RECREATE_FAILED' | 'BIND_SOURCE_MISSING' | 'BIND_SOURCE_NOT_DIRECTORY',
    step: RecreateStep,
    restored: boolean,
    message: string,
    options: MountCoreErrorOptions = {},
  ) {
    super(code, code === 'RECREATE_FAILED' ? 502 : 400, message, { ...options, details: { step, restored, ...options.details } });
    this.step = step;
    this.restored = restored;
  }
}

/** The proxy could not reach the monitor (503). */
export class MonitorUnavailableError extends MountCoreError {
  constructor(message: string, options: MountCoreErrorOptions = {}) {
    super('MONITOR_UNAVAILABLE', 503, message, options);
  }
}

/** A configuration value is invalid; servers print it as one line and exit. */
export class ConfigError extends MountCoreError {
  constructor(message: string, options: MountCoreErrorOptions = {}) {
    super('CONFIG_INVALID', 500, message, options);
  }
}

/** A request-level HTTP error: bad body, unknown route, wrong method, missing token. */
export class HttpError extends MountCoreError {}

/** Narrows an unknown thrown value to a MountCoreError with the given code. */
export function hasCode(error: unknown, code: ErrorCode): error is MountCoreError {
  return error instanceof MountCoreError && error.code === code;
}
