/** The monitor's configuration, read from the environment once at start. */
import { dirname, isAbsolute, join } from 'node:path';
import { ConfigError } from '../../lib/errors.js';
import type { Language } from '../../lib/messages.js';
import { readFlag, readInteger, readLanguage, readList, readLogLevel, readOptional, readPort, readString, type Env } from '../common/env.js';
import type { LogLevel } from '../common/log.js';

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
  hostPathDeny: string[];
  hostPathStyle: 'posix' | 'windows';
  applyDelayMs: number;
  stopTimeoutSeconds: number;
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
  return {
    port: readPort(env, 'PORT', 8089),
    host: readString(env, 'HOST', '0.0.0.0'),
    debugMode: readFlag(env, 'DEBUG_MODE', false),
    workspaceRoot: readString(env, 'WORKSPACE_ROOT', '/workspace'),
    devContainer,
    devService: readString(env, 'DEV_SERVICE', devContainer),
    composeFile: env.COMPOSE_FILE === '' ? '' : composeFile,
    mountDataFile,
    journalFile: readString(env, 'RECREATE_JOURNAL_FILE', join(dirname(mountDataFile), 'recreate-journal.json')),
    dockerHost: readString(env, 'DOCKER_HOST', 'unix:///var/run/docker.sock'),
    token: readOptional(env, 'MONITOR_TOKEN'),
    hostPathAllow: readList(env, 'HOST_PATH_ALLOW'),
    hostPathDeny: readList(env, 'HOST_PATH_DENY'),
    hostPathStyle: style,
    applyDelayMs: readInteger(env, 'APPLY_DELAY_MS', 0, 0, 60_000),
    stopTimeoutSeconds: readInteger(env, 'STOP_TIMEOUT_SECONDS', 10, 0, 3600),
    startTimeoutMs: readInteger(env, 'START_TIMEOUT_MS', 60_000, 1000, 3_600_000),
    minUptimeMs: readInteger(env, 'MIN_UPTIME_MS', 1000, 0, 600_000),
    engineTimeoutMs: readInteger(env, 'ENGINE_TIMEOUT_MS', 30_000, 100, 600_000),
    storePollMs: readInteger(env, 'STORE_POLL_MS', 2000, 100, 600_000),
    language: readLanguage(env, 'LANGUAGE', 'zh-CN'),
    logLevel: readLogLevel(env, 'LOG_LEVEL'),
    selfContainerId: readOptional(env, 'SELF_CONTAINER_ID'),
  };
}
