/**
 * The monitor as servers/monitor/main.ts wires it (store, journal, compose
 * sync, reconciler, request handler), built in this process and served on
 * 127.0.0.1, so that a benchmark can time requests and also watch the
 * reconciler directly. It leaves out what main.ts adds around it: the store
 * watch and poll, signal handling and log lines.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  checkHostPath, createHostPathPolicy, DockerClient, FileRecreateJournal, managedTargetTest, MountStore, Reconciler,
  prepareComposeFile, repairRecreate, syncComposeFile, type RecreateEngine,
} from '../../lib/index.js';
import { createLogger } from '../../servers/common/log.js';
import { createMonitorHandler } from '../../servers/monitor/app.js';
import { loadMonitorConfig, type MonitorConfig } from '../../servers/monitor/config.js';

export interface BenchMonitorOptions {
  /** DOCKER_HOST of the engine. */
  dockerHost: string;
  /** Name of the development container, which must exist. */
  container: string;
  /** Folder for the store, the journal and the compose file. */
  folder: string;
  /** Environment on top of the product defaults, such as `{ MIN_UPTIME_MS: '0' }`. */
  env?: Record<string, string>;
  /** Wraps the engine the reconciler uses, for example to count calls. Default: the DockerClient itself. */
  wrapEngine?: (client: DockerClient) => RecreateEngine;
}

export interface BenchMonitor {
  /** Base URL of the API, `http://127.0.0.1:<port>/api`. */
  api: string;
  config: MonitorConfig;
  store: MountStore;
  reconciler: Reconciler;
  client: DockerClient;
  close(): Promise<void>;
}

/** Returns a compose file with one service named `service`, for the monitor to keep in sync. */
export function composeFileFor(service: string, image: string, volumes: string[] = []): string {
  const lines = [
    '# Written by the mount-core benchmarks.',
    'services:',
    `  ${service}:`,
    `    image: ${image}`,
    '    init: true',
    '    network_mode: none',
    '    stop_grace_period: 1s',
    '    command: ["sleep", "3600"]',
  ];
  if (volumes.length > 0) lines.push('    volumes:', ...volumes);
  return `${lines.join('\n')}\n`;
}

/** Builds the monitor for `options.container` and serves it on a free port of 127.0.0.1. */
export async function startMonitor(options: BenchMonitorOptions): Promise<BenchMonitor> {
  const composeFile = join(options.folder, 'docker-compose.dev.yml');
  await writeFile(composeFile, composeFileFor(options.container, 'local/busybox:test'));
  const config = loadMonitorConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    MOUNT_DATA_FILE: join(options.folder, 'mounts.json'),
    COMPOSE_FILE: composeFile,
    DOCKER_HOST: options.dockerHost,
    DEV_CONTAINER: options.container,
    LOG_LEVEL: 'error',
    ...options.env,
  });

  const log = createLogger('monitor', config.logLevel);
  const policy = createHostPathPolicy({ allow: config.hostPathAllow, deny: config.hostPathDeny, style: config.hostPathStyle });
  const store = new MountStore({ file: config.mountDataFile, workspaceRoot: config.workspaceRoot });
  const client = new DockerClient({ host: config.dockerHost, timeoutMs: config.engineTimeoutMs });
  const engine = options.wrapEngine ? options.wrapEngine(client) : client;
  const journal = new FileRecreateJournal(config.journalFile);
  const isManaged = managedTargetTest(config.workspaceRoot);
  const reconciler = new Reconciler({
    store,
    engine,
    container: config.devContainer,
    isManaged,
    journal,
    applyDelayMs: config.applyDelayMs,
    checkMount: (mount) => checkHostPath(mount.local_path, policy),
    repair: () => repairRecreate(engine, journal, config.devContainer),
    writeCompose: async (mounts) => {
      await syncComposeFile(config.composeFile, { service: config.devService, workspaceRoot: config.workspaceRoot, mounts });
    },
    prepareCompose: async (mounts) => {
      const prepared = await prepareComposeFile(config.composeFile, { service: config.devService, workspaceRoot: config.workspaceRoot, mounts });
      return async () => {
        await prepared.commit();
      };
    },
    recreate: { stopTimeoutSeconds: config.stopTimeoutSeconds, startTimeoutMs: config.startTimeoutMs, minUptimeMs: config.minUptimeMs },
  });

  const handler = createMonitorHandler({ config, store, reconciler, engine: client, policy, isManaged, log });
  const server: Server = createServer({ keepAliveTimeout: 5000 }, handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    api: `http://127.0.0.1:${port}/api`,
    config,
    store,
    reconciler,
    client,
    close: async () => {
      reconciler.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await client.close();
    },
  };
}
