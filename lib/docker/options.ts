/**
 * Options of DockerClient, their defaults and the checks that run in the
 * constructor, before any connection is made.
 */
import { ConfigError } from '../errors.js';
import { compareApiVersions, isApiVersion, normalizeApiVersion } from './api-version.js';
import { parseDockerHost, type DockerHost } from './docker-host.js';

export interface DockerClientOptions {
  /** DOCKER_HOST-style address of the daemon. Default `unix:///var/run/docker.sock`. */
  host?: string;
  /**
   * Limit for one request, in milliseconds, from sending it to reading the whole
   * response. Stop and restart add their stop timeout to it, and the events
   * stream applies it to the response headers only. Default 30000.
   */
  timeoutMs?: number;
  /** API version to use without negotiating, such as `1.43`. Default: negotiate with the daemon. */
  apiVersion?: string;
  /** Highest API version negotiation may choose. Default `1.45`. */
  maxApiVersion?: string;
  /** Lowest daemon API version accepted; an older daemon fails with ENGINE_ERROR. Default `1.41`. */
  minApiVersion?: string;
}

export interface ResolvedDockerClientOptions {
  /** The `host` option as given, for error details. */
  hostValue: string;
  host: DockerHost;
  timeoutMs: number;
  apiVersion: string | undefined;
  maxApiVersion: string;
  minApiVersion: string;
}

export const DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock';
export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_API_VERSION = '1.45';
export const DEFAULT_MIN_API_VERSION = '1.41';

/** Largest delay setTimeout accepts; a longer one fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Checks every option and fills in defaults; throws ConfigError naming the first invalid option. */
export function resolveDockerClientOptions(options: DockerClientOptions = {}): ResolvedDockerClientOptions {
  if (typeof options !== 'object' || options === null) {
    throw invalidOption('options', options, 'expected an object');
  }

  const hostValue = options.host ?? DEFAULT_DOCKER_HOST;
  if (typeof hostValue !== 'string') {
    throw invalidOption('host', hostValue, 'expected a string such as unix:///var/run/docker.sock');
  }
  const host = parseDockerHost(hostValue);

  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0 || timeoutMs > MAX_TIMER_MS) {
    throw invalidOption('timeoutMs', timeoutMs, `expected an integer number of milliseconds from 1 to ${MAX_TIMER_MS}`);
  }

  const maxApiVersion = options.maxApiVersion ?? DEFAULT_MAX_API_VERSION;
  if (!isApiVersion(maxApiVersion)) {
    throw invalidOption('maxApiVersion', maxApiVersion, 'expected an API version such as 1.45');
  }

  const minApiVersion = options.minApiVersion ?? DEFAULT_MIN_API_VERSION;
  if (!isApiVersion(minApiVersion)) {
    throw invalidOption('minApiVersion', minApiVersion, 'expected an API version such as 1.41');
  }
  if (compareApiVersions(minApiVersion, maxApiVersion) > 0) {
    throw invalidOption('minApiVersion', minApiVersion, `must not be above maxApiVersion ${maxApiVersion}`);
  }

  const apiVersion = options.apiVersion;
  if (apiVersion !== undefined) {
    if (!isApiVersion(apiVersion)) {
      throw invalidOption('apiVersion', apiVersion, 'expected an API version such as 1.43, or no value to negotiate');
    }
    if (compareApiVersions(apiVersion, minApiVersion) < 0 || compareApiVersions(apiVersion, maxApiVersion) > 0) {
      throw invalidOption('apiVersion', apiVersion, `must lie between minApiVersion ${minApiVersion} and maxApiVersion ${maxApiVersion}`);
    }
  }

  return {
    hostValue,
    host,
    timeoutMs,
    apiVersion: apiVersion === undefined ? undefined : normalizeApiVersion(apiVersion),
    maxApiVersion: normalizeApiVersion(maxApiVersion),
    minApiVersion: normalizeApiVersion(minApiVersion),
  };
}

/** Builds the ConfigError for one invalid option or argument, quoting its value. */
export function invalidOption(option: string, value: unknown, reason: string): ConfigError {
  return new ConfigError(`invalid ${option} ${quote(value)}: ${reason}`, {
    details: { option, value, reason: `${option} ${quote(value)}: ${reason}` },
  });
}

function quote(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  return Object.prototype.toString.call(value);
}
