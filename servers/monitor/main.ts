#!/usr/bin/env node
/** Starts the monitor: reads the environment, wires the library together, serves, and stops cleanly. */
import { watch, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { basename, dirname } from 'node:path';
import { prepareComposeFile, syncComposeFile, type ComposeFileSyncResult } from '../../lib/compose/index.js';
import { DockerClient } from '../../lib/docker/index.js';
import { MountCoreError } from '../../lib/errors.js';
import { Reconciler } from '../../lib/reconciler/reconciler.js';
import { ContainerWatchdog } from '../../lib/reconciler/watchdog.js';
import { FileRecreateJournal } from '../../lib/recreate/journal.js';
import { repairRecreate } from '../../lib/recreate/repair.js';
import { MountStore } from '../../lib/store/index.js';
import type { MountSpec } from '../../lib/types.js';
import { checkHostFolder, checkHostPath, createHostPathPolicy, createHostRoot, type HostPathPolicy } from '../../lib/validation/index.js';
import { serverOptions } from '../common/http-server.js';
import { managedTargetTest } from '../../lib/validation/managed-target.js';
import { createLogger, errorFields } from '../common/log.js';
import { createMonitorHandler } from './app.js';
import { loadMonitorConfig, type MonitorConfig } from './config.js';
import { subscribeWatchdogLog } from './watchdog-log.js';
import { subscribeEventLog } from './event-log.js';
import { MonitorMetrics } from './metrics.js';

/** Finds this process's container id in its mount table, where Docker names the container's own files. */
function detectSelfContainerId(): string | undefined {
  try {
    return /\/containers\/([0-9a-f]{64})\//.exec(readFileSync('/proc/self/mountinfo', 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

let config: MonitorConfig;
let policy: HostPathPolicy;
try {
  config = loadMonitorConfig(process.env);
  policy = createHostPathPolicy({ allow: config.hostPathAllow, deny: config.hostPathDeny, style: config.hostPathStyle });
  if (config.hostRoot !== undefined && !statSync(config.hostRoot, { throwIfNoEntry: false })?.isDirectory()) {
    throw new Error(`HOST_ROOT=${JSON.stringify(config.hostRoot)} is not a folder; bind the host's / there read-only, or unset HOST_ROOT`);
  }
} catch (error) {
  console.error(`mount-monitor: invalid configuration: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}

const log = createLogger('monitor', config.logLevel);
const store = new MountStore({ file: config.mountDataFile, workspaceRoot: config.workspaceRoot });
const engine = new DockerClient({ host: config.dockerHost, timeoutMs: config.engineTimeoutMs });
const journal = new FileRecreateJournal(config.journalFile);
const isManaged = managedTargetTest(config.workspaceRoot);
const hostRoot = config.hostRoot === undefined ? undefined : createHostRoot({ root: config.hostRoot });
const selfContainerId = config.selfContainerId ?? detectSelfContainerId();

/** Compose sync options for the development service with `mounts`. */
const composeOptions = (mounts: MountSpec[]) => ({ service: config.devService, workspaceRoot: config.workspaceRoot, mounts });

/** Logs the problems a compose sync found, and the write when it changed the file. */
function logComposeSync(result: ComposeFileSyncResult, mounts: MountSpec[]): void {
  for (const problem of result.problems) log.warn('compose file problem', { file: config.composeFile, path: problem.path.join('.'), problem: problem.message });
  if (result.wrote) log.info('compose file updated', { file: config.composeFile, mounts: mounts.length });
}

const reconciler = new Reconciler({
  store,
  engine,
  container: config.devContainer,
  isManaged,
  journal,
  selfContainerId,
  applyDelayMs: config.applyDelayMs,
  // Checked again before each apply: the proxy's fallback writes without a host-root view, and a folder may have changed since.
  checkMount: (mount) => (hostRoot ? checkHostFolder(mount.local_path, policy, hostRoot) : checkHostPath(mount.local_path, policy)),
  repair: async () => {
    const outcome = await repairRecreate(engine, journal, config.devContainer);
    if (outcome !== 'nothing-to-do') log.warn('repaired an interrupted recreate', { container: config.devContainer, outcome });
  },
  writeCompose: config.composeFile ? async (mounts) => logComposeSync(await syncComposeFile(config.composeFile, composeOptions(mounts)), mounts) : undefined,
  prepareCompose: config.composeFile
    ? async (mounts) => {
        const prepared = await prepareComposeFile(config.composeFile, composeOptions(mounts));
        return async () => logComposeSync(await prepared.commit(), mounts);
      }
    : undefined,
  recreate: { stopTimeoutSeconds: config.stopTimeoutSeconds, startTimeoutMs: config.startTimeoutMs, minUptimeMs: config.minUptimeMs },
});

subscribeEventLog(log);

// Restarts the development container when it dies outside an apply. A reopened events stream means
// that the Engine responds again, so an apply waiting for its backoff retry runs at once.
const watchdog = new ContainerWatchdog({
  engine,
  container: config.devContainer,
  isBusy: () => reconciler.busy,
  maxRestarts: config.watchdogMaxRestarts,
  windowMs: config.watchdogWindowMs,
  onReconnect: () => {
    const operation = reconciler.retryNow();
    if (operation) log.info('engine reachable again; retrying the apply now', { operation_id: operation.id });
  },
});
subscribeWatchdogLog(log);
const metrics = new MonitorMetrics({ store });

const server = createServer(serverOptions(config), createMonitorHandler({ config, store, reconciler, engine, policy, isManaged, log, metrics, hostRoot, watchdog }));

// Changes made by others (the proxy in fallback, an operator) are noticed by a watch and, as a backstop, a poll.
async function checkStore(): Promise<void> {
  try {
    const { revision } = await store.read();
    const operation = reconciler.noticeRevision(revision);
    if (operation) log.info('store changed outside the monitor', { revision, operation_id: operation.id });
  } catch (error) {
    if (!(error instanceof MountCoreError && error.code === 'STORE_CORRUPT')) log.warn('store check failed', errorFields(error));
  }
}
const poll = setInterval(() => void checkStore(), config.storePollMs);
let watcher: ReturnType<typeof watch> | undefined;
try {
  watcher = watch(dirname(config.mountDataFile), (_event, name) => {
    if (name === basename(config.mountDataFile)) void checkStore();
  });
} catch (error) {
  log.warn('store folder watch unavailable; polling only', { poll_ms: config.storePollMs, ...errorFields(error) });
}

server.listen(config.port, config.host, () => {
  log.info('monitor started', {
    port: config.port,
    host: config.host,
    container: config.devContainer,
    dev_service: config.devService,
    compose_file: config.composeFile || null,
    store: config.mountDataFile,
    docker_host: config.dockerHost,
    self_container_id: selfContainerId ?? null,
    debug: config.debugMode,
    host_root: config.hostRoot ?? null,
  });
  if (!config.token) log.warn('MONITOR_TOKEN is not set: every route is open to anyone who can reach this port');
  // Start-up reconciliation: repair, then bring the container and the compose file in line with the store.
  reconciler.request('apply');
  watchdog.start();
});

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info('monitor stopping', { signal });
  clearInterval(poll);
  watcher?.close();
  reconciler.close();
  // Open responses (a `?wait=true` among them) finish first; idle keep-alive connections close now.
  const closed = new Promise((resolve) => server.close(resolve));
  server.closeIdleConnections();
  const { running } = reconciler.status();
  // Let a running recreate finish, so the next start has nothing to repair; the journal covers a hard kill.
  const drained = Promise.all([closed, running ? reconciler.settled(running) : undefined]);
  await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, 30_000).unref())]);
  await watchdog.close();
  await engine.close();
  log.info('monitor stopped', { signal });
  process.exit(0);
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
