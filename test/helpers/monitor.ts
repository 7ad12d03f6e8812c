/**
 * Serves the real monitor handler on 127.0.0.1 port 0, with a real MountStore
 * in a temp folder. Its DockerClient points at a socket path that does not
 * exist, so every apply fails fast with DOCKER_UNAVAILABLE and no Engine is
 * contacted. startProxy puts the proxy handler in front.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { DockerClient } from '../../lib/docker/index.js';
import { Reconciler } from '../../lib/reconciler/reconciler.js';
import { MountStore } from '../../lib/store/index.js';
import { createHostPathPolicy } from '../../lib/validation/index.js';
import { managedTargetTest } from '../../lib/validation/managed-target.js';
import { createLogger, type Logger } from '../../servers/common/log.js';
import { createDevProxyHandler, type DevProxyHandler } from '../../servers/dev-proxy/handler.js';
import { createMonitorHandler, type MonitorHandler } from '../../servers/monitor/app.js';
import { loadMonitorConfig, type MonitorConfig } from '../../servers/monitor/config.js';
import { MonitorMetrics } from '../../servers/monitor/metrics.js';
import { listen } from './http.js';

export interface TestMonitor {
  /** Base URL of the monitor API, `http://127.0.0.1:PORT/api`. */
  api: string;
  /** `http://127.0.0.1:PORT`, for routes outside `/api` such as `/metrics`. */
  origin: string;
  /** A folder inside the host path allow list, which exists. */
  hostFolder: string;
  folder: string;
  config: MonitorConfig;
  store: MountStore;
  reconciler: Reconciler;
  handler: MonitorHandler;
  metrics: MonitorMetrics | undefined;
  /** JSON log lines the monitor wrote. */
  logLines: string[];
}

export interface TestMonitorOptions {
  /** Extra environment for loadMonitorConfig, such as MONITOR_TOKEN or DEBUG_MODE. */
  env?: Record<string, string>;
  /** Serve `/metrics` from a MonitorMetrics subscribed for the test's duration. Default: false. */
  metrics?: boolean;
}

export async function startMonitor(t: TestContext, options: TestMonitorOptions = {}): Promise<TestMonitor> {
  const folder = await mkdtemp(join(tmpdir(), 'mc-monitor-'));
  t.after(() => rm(folder, { recursive: true, force: true }));
  const hostFolder = join(folder, 'host', 'project');
  await mkdir(hostFolder, { recursive: true });

  const config = loadMonitorConfig({
    MOUNT_DATA_FILE: join(folder, 'data', 'mounts.json'),
    COMPOSE_FILE: '',
    DOCKER_HOST: `unix://${join(folder, 'missing-docker.sock')}`,
    HOST_PATH_ALLOW: join(folder, 'host'),
    ENGINE_TIMEOUT_MS: '2000',
    ...options.env,
  });
  await mkdir(join(folder, 'data'), { recursive: true });
  const logLines: string[] = [];
  const log: Logger = createLogger('monitor', 'debug', (line) => logLines.push(line));
  const policy = createHostPathPolicy({ allow: config.hostPathAllow, deny: config.hostPathDeny, style: config.hostPathStyle });
  const store = new MountStore({ file: config.mountDataFile, workspaceRoot: config.workspaceRoot });
  const engine = new DockerClient({ host: config.dockerHost, timeoutMs: config.engineTimeoutMs });
  const isManaged = managedTargetTest(config.workspaceRoot);
  // Retries are pushed past the end of any test, so each apply runs only when a test requests it.
  const reconciler = new Reconciler({
    store,
    engine,
    container: config.devContainer,
    isManaged,
    applyDelayMs: config.applyDelayMs,
    retryDelaysMs: [3_600_000],
  });
  const metrics = options.metrics ? new MonitorMetrics({ store }) : undefined;
  t.after(async () => {
    reconciler.close();
    metrics?.close();
    await engine.close();
  });

  const handler = createMonitorHandler({ config, store, reconciler, engine, policy, isManaged, log, metrics });
  const origin = await listen(t, createServer(handler));
  return { api: `${origin}/api`, origin, hostFolder, folder, config, store, reconciler, handler, metrics, logLines };
}

/** Serves the proxy handler for `prefix` in front of `monitorApi` on 127.0.0.1 port 0; returns its base URL and the handler. */
export async function startProxy(t: TestContext, monitorApi: string, prefix = '/api/mounts'): Promise<{ url: string; handler: DevProxyHandler }> {
  const handler = createDevProxyHandler({ monitorApi, prefix, timeoutMs: 5000 });
  t.after(() => handler.close());
  const origin = await listen(t, createServer((req, res) => handler(req, res)));
  return { url: `${origin}${prefix}`, handler };
}
