/** The monitor's configuration, read from the environment once at start. */
import { dirname, isAbsolute, join } from 'node:path';
import { parseDockerHost } from '../../lib/docker/docker-host.js';
import { ConfigError } from '../../lib/errors.js';
import { checkBearerToken, DEFAULT_MAX_MUTATIONS_IN_FLIGHT } from '../../lib/http/index.js';
import type { Language } from '../../lib/messages.js';
import { readAbsolutePath, readFlag, readInteger, readLanguage, readList, readLogLevel, readOptional, readPort, readString, type Env } from '../common/env.js';
import { readRequestTimeouts } from '../common/http-server.js';
import type { LogLevel } from '../common/log.js';
import { createHostRoot, normalizeHostPath, validateWorkspaceRoot } from '../../lib/validation/index.js';

export interface MonitorConfig {
  port: number;
  host: string;
  debugMode: boolean;
  workspaceRoot: string;
  devContainer: string;
  devService: string;
  /** Compose file to keep in sync; empty string turns the sync off. */
  composeFile: string;
  mountDataFile: string;
  /** Recreate journal, beside the store so it survives the monitor's container. */
  journalFile: string;
  dockerHost: string;
  token: string | undefined;
  hostPathAllow: string[];
  /** HOST_PATH_DENY, plus the socket path of a unix DOCKER_HOST. */
  hostPathDeny: string[];
  hostPathStyle: 'posix' | 'windows';
  /** Folder that shows the host's `/` read-only (HOST_ROOT). When undefined, only the text of host paths is checked. */
  hostRoot: string | undefined;
  /** Requests that change mounts handled at once; more get 429. */
  maxMutationsInFlight: number;
  /** Time a client has to send the request headers (node:http headersTimeout). */
  headersTimeoutMs: number;
  /** Time a client has to send the whole request (node:http requestTimeout). */
  requestTimeoutMs: number;
  applyDelayMs: number;
  /** Automatic restarts of the development container allowed per watchdog window. */
  watchdogMaxRestarts: number;
  watchdogWindowMs: number;
  /** Seconds a stop waits before killing; unset, the container's own stop timeout (compose's stop_grace_period), else 10. */
  stopTimeoutSeconds: number | undefined;
  startTimeoutMs: number;
  minUptimeMs: number;
  engineTimeoutMs: number;
  storePollMs: number;
  language: Language;
  logLevel: LogLevel;
  selfContainerId: string | undefined;
}

/** Reads and checks every variable; throws ConfigError on the first invalid one. */
export function loadMonitorConfig(env: Env): MonitorConfig {
  const mountDataFile = readString(env, 'MOUNT_DATA_FILE', '/data/mounts.json');
  if (!isAbsolute(mountDataFile)) {
    throw new ConfigError(`MOUNT_DATA_FILE=${JSON.stringify(mountDataFile)} is invalid: expected an absolute path`, {
      details: { reason: 'MOUNT_DATA_FILE: expected an absolute path' },
    });
  }
  const composeFile = readString(env, 'COMPOSE_FILE', '/stack/docker-compose.dev.yml');
  const style = readString(env, 'HOST_PATH_STYLE', 'posix');
  if (style !== 'posix' && style !== 'windows') {
    throw new ConfigError(`HOST_PATH_STYLE=${JSON.stringify(style)} is invalid: expected posix or windows`, {
      details: { reason: 'HOST_PATH_STYLE: expected posix or windows' },
    });
  }
  const devContainer = readString(env, 'DEV_CONTAINER', 'openmanus-core-dev');
  const dockerHost = readString(env, 'DOCKER_HOST', 'unix:///var/run/docker.sock');
  checkDockerHost(dockerHost);
  const workspaceRoot = validateWorkspaceRoot(readString(env, 'WORKSPACE_ROOT', '/workspace'), 'WORKSPACE_ROOT');
  const hostRoot = readHostRoot(env, style);
  const timeouts = readRequestTimeouts(env, { headersTimeoutMs: 10_000, requestTimeoutMs: 120_000 });
  return {
    port: readPort(env, 'PORT', 8089),
    host: readString(env, 'HOST', '0.0.0.0'),
    debugMode: readFlag(env, 'DEBUG_MODE', false),
    workspaceRoot,
    devContainer,
    devService: readString(env, 'DEV_SERVICE', devContainer),
    composeFile: env.COMPOSE_FILE === '' ? '' : composeFile,
    mountDataFile,
    journalFile: readAbsolutePath(env, 'RECREATE_JOURNAL_FILE', join(dirname(mountDataFile), 'recreate-journal.json')),
    dockerHost,
    token: checkBearerToken('MONITOR_TOKEN', readOptional(env, 'MONITOR_TOKEN')),
    hostPathAllow: readList(env, 'HOST_PATH_ALLOW'),
    hostPathDeny: [...readList(env, 'HOST_PATH_DENY'), ...socketDenyEntry(dockerHost, style)],
    hostPathStyle: style,
    hostRoot,
    maxMutationsInFlight: readInteger(env, 'MAX_MUTATIONS_IN_FLIGHT', DEFAULT_MAX_MUTATIONS_IN_FLIGHT, 1, 10_000),
    ...timeouts,
    applyDelayMs: readInteger(env, 'APPLY_DELAY_MS', 0, 0, 60_000),
    watchdogMaxRestarts: readInteger(env, 'WATCHDOG_MAX_RESTARTS', 5, 1, 1000),
    watchdogWindowMs: readInteger(env, 'WATCHDOG_WINDOW_MS', 600_000, 1000, 86_400_000),
    stopTimeoutSeconds: readOptional(env, 'STOP_TIMEOUT_SECONDS') === undefined ? undefined : readInteger(env, 'STOP_TIMEOUT_SECONDS', 10, 0, 3600),
    startTimeoutMs: readInteger(env, 'START_TIMEOUT_MS', 60_000, 1000, 3_600_000),
    minUptimeMs: readInteger(env, 'MIN_UPTIME_MS', 1000, 0, 600_000),
    engineTimeoutMs: readInteger(env, 'ENGINE_TIMEOUT_MS', 30_000, 100, 600_000),
    storePollMs: readInteger(env, 'STORE_POLL_MS', 2000, 100, 600_000),
    language: readLanguage(env, 'LANGUAGE', 'zh-CN'),
    logLevel: readLogLevel(env, 'LOG_LEVEL'),
    selfContainerId: readOptional(env, 'SELF_CONTAINER_ID'),
  };
}

/** Reads HOST_ROOT: a normalised absolute path, and only with POSIX host paths. */
function readHostRoot(env: Env, style: 'posix' | 'windows'): string | undefined {
  const value = readOptional(env, 'HOST_ROOT');
  if (value === undefined) return undefined;
  if (style !== 'posix') {
    throw new ConfigError('HOST_ROOT is set but HOST_PATH_STYLE is windows: a host root works only with a Linux host', {
      details: { reason: 'HOST_ROOT: needs HOST_PATH_STYLE=posix' },
    });
  }
  try {
    return createHostRoot({ root: value }).root;
  } catch {
    throw new ConfigError(`HOST_ROOT=${JSON.stringify(value)} is invalid: expected a normalised absolute path such as /host`, {
      details: { reason: 'HOST_ROOT: expected a normalised absolute path such as /host' },
    });
  }
}

/**
 * Returns the socket path of a unix DOCKER_HOST as a deny entry, so that the
 * socket the monitor uses cannot be mounted even where it is not at one of
 * the usual paths. checkDockerHost has already rejected an invalid DOCKER_HOST.
 */
function socketDenyEntry(dockerHost: string, style: 'posix' | 'windows'): string[] {
  if (style !== 'posix') return [];
  try {
    const host = parseDockerHost(dockerHost);
    return host.kind === 'unix' ? [normalizeHostPath(host.socketPath, 'posix')] : [];
  } catch {
    return [];
  }
}

/** Checks DOCKER_HOST at start, so that a bad value stops the monitor with one line instead of a stack trace. */
function checkDockerHost(value: string): void {
  try {
    parseDockerHost(value);
  } catch (error) {
    // The client's message quotes the value with any credentials hidden, so it is used as it is.
    throw new ConfigError(`DOCKER_HOST is invalid: ${error instanceof Error ? error.message : String(error)}`, {
      details: { reason: 'DOCKER_HOST: expected unix:///path, tcp://host:port or http://host:port' },
    });
  }
}
