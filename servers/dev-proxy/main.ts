#!/usr/bin/env node
/** Starts the development container's proxy: reads the environment, serves, and exits quickly on SIGTERM. */
import { createServer, type ServerResponse } from 'node:http';
import { ConfigError, MountCoreError } from '../../lib/errors.js';
import { checkBearerToken, DEFAULT_MAX_MUTATIONS_IN_FLIGHT } from '../../lib/http/index.js';
import { MountStore } from '../../lib/store/index.js';
import { createHostPathPolicy, validateWorkspaceRoot } from '../../lib/validation/index.js';
import { readAbsolutePath, readFlag, readInteger, readLanguage, readList, readLogLevel, readOptional, readPort, readString } from '../common/env.js';
import { readRequestTimeouts, serverOptions, type RequestTimeouts } from '../common/http-server.js';
import { createLogger, errorFields } from '../common/log.js';
import { createDevProxyHandler, type DevProxyHandler } from './handler.js';

const env = process.env;
let handler: DevProxyHandler;
let settings: {
  port: number;
  host: string;
  monitorApi: string;
  fallback: boolean;
  /** With fallback: the list and single-mount reads are served from the store. */
  storeReads: boolean;
  /** With fallback: the store file, shared with the monitor. */
  storeFile: string | undefined;
  logLevel: ReturnType<typeof readLogLevel>;
  timeouts: RequestTimeouts;
  proxyToken: string | undefined;
};
try {
  const fallback = readFlag(env, 'MONITOR_API_FALLBACK', false);
  settings = {
    port: readPort(env, 'PORT', 5172),
    host: readString(env, 'HOST', '0.0.0.0'),
    monitorApi: readString(env, 'MONITOR_API', 'http://openmanus-monitor:8089/api'),
    fallback,
    storeReads: readFlag(env, 'PROXY_STORE_READS', true),
    storeFile: fallback ? readAbsolutePath(env, 'MOUNT_DATA_FILE', '/data/mounts.json') : undefined,
    logLevel: readLogLevel(env, 'LOG_LEVEL'),
    timeouts: readRequestTimeouts(env, { headersTimeoutMs: 10_000, requestTimeoutMs: 60_000 }),
    proxyToken: checkBearerToken('PROXY_TOKEN', readOptional(env, 'PROXY_TOKEN')),
  };
  const workspaceRoot = validateWorkspaceRoot(readString(env, 'WORKSPACE_ROOT', '/workspace'), 'WORKSPACE_ROOT');
  const style = readString(env, 'HOST_PATH_STYLE', 'posix');
  if (style !== 'posix' && style !== 'windows') {
    throw new ConfigError(`HOST_PATH_STYLE=${JSON.stringify(style)} is invalid: expected posix or windows`, {
      details: { reason: 'HOST_PATH_STYLE: expected posix or windows' },
    });
  }
  handler = createDevProxyHandler({
    monitorApi: settings.monitorApi,
    token: checkBearerToken('MONITOR_TOKEN', readOptional(env, 'MONITOR_TOKEN')),
    proxyToken: settings.proxyToken,
    maxMutationsInFlight: readInteger(env, 'MAX_MUTATIONS_IN_FLIGHT', DEFAULT_MAX_MUTATIONS_IN_FLIGHT, 1, 10_000),
    timeoutMs: readInteger(env, 'MONITOR_TIMEOUT_MS', 15_000, 100, 600_000),
    language: readLanguage(env, 'LANGUAGE', 'zh-CN'),
    fallback: settings.fallback
      ? {
          store: new MountStore({ file: settings.storeFile!, workspaceRoot }),
          policy: createHostPathPolicy({
            allow: readList(env, 'HOST_PATH_ALLOW'),
            deny: readList(env, 'HOST_PATH_DENY'),
            style,
          }),
          workspaceRoot,
          serveReads: settings.storeReads,
        }
      : undefined,
    onError: (error, req) => {
      const status = error instanceof MountCoreError ? error.status : 500;
      log[status >= 500 ? 'error' : 'info']('request failed', { method: req.method, path: req.url, status, ...errorFields(error) });
    },
  });
} catch (error) {
  console.error(`mount-dev-proxy: invalid configuration: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}

const log = createLogger('dev-proxy', settings.logLevel);
let stopping = false;
// Responses in progress. Once the proxy is stopping, each is sent with `Connection: close`, because an
// open keep-alive connection would keep server.close() from finishing before the 5 s exit timer fires.
const open = new Set<ServerResponse>();
const server = createServer(serverOptions(settings.timeouts), (req, res) => {
  if (stopping) res.setHeader('connection', 'close');
  open.add(res);
  res.once('close', () => open.delete(res));
  handler(req, res);
});

server.listen(settings.port, settings.host, () => {
  log.info('dev proxy started', {
    port: settings.port,
    host: settings.host,
    monitor_api: settings.monitorApi,
    fallback: settings.fallback,
    store: settings.storeFile,
    store_reads: settings.fallback && settings.storeReads,
  });
  if (!settings.proxyToken) log.warn('PROXY_TOKEN is not set: every route is open to anyone who can reach this port');
});

// On SIGTERM, finish the responses in flight (a 202 being relayed while the
// monitor recreates this container), close idle connections, and exit.
function stop(signal: string): void {
  if (stopping) return;
  stopping = true;
  log.info('dev proxy stopping', { signal });
  for (const res of open) {
    if (!res.headersSent) res.setHeader('connection', 'close');
  }
  server.close(() => {
    void handler.close().finally(() => {
      log.info('dev proxy stopped', { signal });
      process.exit(0);
    });
  });
  server.closeIdleConnections();
  setTimeout(() => {
    log.warn('dev proxy stopped with requests still open', { signal });
    process.exit(0);
  }, 5000).unref();
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
