/**
 * Mapping of node:http and node:net socket errors, and of the transport's own
 * timeouts, to DockerUnavailableError and EngineTimeoutError, with the
 * original error kept as `cause`.
 */
import { DockerUnavailableError, EngineTimeoutError, MountCoreError } from '../errors.js';

/** Socket-level failures that mean the daemon cannot be reached or dropped the connection. */
const CONNECTION_ERROR_CODES = new Set([
  'ENOENT', 'ECONNREFUSED', 'EACCES', 'EPERM', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ENOTSOCK',
  'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT',
  // A response that breaks HTTP/1.1 framing (lib/docker/http1.ts): the socket does not speak the Engine API.
  'EPROTO',
]);

export interface FailureContext {
  request: { method: string; path: string };
  /** True when the transport's own timer aborted the request. */
  timedOut: boolean;
  timeoutMs: number;
  /** The DOCKER_HOST value, for error details. */
  hostValue: string;
}

/** Returns the mount-core error for `error`; MountCoreErrors and unknown errors pass through unchanged. */
export function toEngineFailure(error: unknown, context: FailureContext): Error {
  if (error instanceof MountCoreError) return error;
  const { request, timedOut, timeoutMs, hostValue } = context;
  if (timedOut) {
    return new EngineTimeoutError(`Docker Engine request ${request.method} ${request.path} timed out after ${timeoutMs} ms`, {
      details: { method: request.method, path: request.path, timeout_ms: timeoutMs, docker_host: hostValue },
      cause: error,
    });
  }

  const codes = errorCodes(error);
  if (codes.some((code) => CONNECTION_ERROR_CODES.has(code))) {
    const reason = error instanceof Error ? error.message : String(error);
    return new DockerUnavailableError(
      `cannot reach Docker Engine at ${hostValue} (${request.method} ${request.path}): ${reason}; check that dockerd runs and that the host option or DOCKER_HOST names it`,
      { details: { docker_host: hostValue, method: request.method, path: request.path, cause_code: codes[0] }, cause: error },
    );
  }
  return error instanceof Error ? error : new Error(String(error));
}

/** Returns the DockerUnavailableError for a request made after close(), because a closed client no longer reaches the daemon. */
export function closedClientError(request: { method: string; path: string }, hostValue: string): DockerUnavailableError {
  return new DockerUnavailableError(`Docker Engine client for ${hostValue} is closed (${request.method} ${request.path}); create a new DockerClient`, {
    details: { docker_host: hostValue, method: request.method, path: request.path },
  });
}

/** Collects `code` from an error, its cause and the members of an AggregateError. */
function errorCodes(error: unknown, depth = 0): string[] {
  if (typeof error !== 'object' || error === null || depth > 3) return [];
  const codes: string[] = [];
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') codes.push(code);
  if (error instanceof AggregateError) {
    for (const member of error.errors) codes.push(...errorCodes(member, depth + 1));
  }
  codes.push(...errorCodes((error as { cause?: unknown }).cause, depth + 1));
  return codes;
}
