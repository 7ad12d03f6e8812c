/** The monitor's HTTP routes: one router, one error mapper, one not-found response. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, MountCoreError, type ErrorCode } from '../../lib/errors.js';
import { InFlightLimit, readJsonBody, requestLanguage, MountListBodies, requireBearer, Router, sendError, sendJson, sendSuccess, type RouteContext } from '../../lib/http/index.js';
import { text, type Language, type MessageKey } from '../../lib/messages.js';
import type { Operation } from '../../lib/reconciler/operations.js';
import type { Reconciler } from '../../lib/reconciler/reconciler.js';
import type { WatchdogStats } from '../../lib/reconciler/watchdog.js';
import { managedMountsOf } from '../../lib/recreate/spec.js';
import type { DockerClient } from '../../lib/docker/index.js';
import type { MountStore } from '../../lib/store/index.js';
import type { Mount, MountFailure } from '../../lib/types.js';
import { validateMountKey, validateMountRequest, type HostPathPolicy, type HostRoot } from '../../lib/validation/index.js';
import { quoteValue } from '../../lib/validation/text.js';
import { errorFields, type Logger } from '../common/log.js';
import { PROMETHEUS_CONTENT_TYPE } from '../common/prometheus.js';
import type { MonitorConfig } from './config.js';
import { routeLabeler, type MonitorMetrics } from './metrics.js';
import { buildMonitorOpenApi } from './openapi.js';

export interface MonitorDeps {
  config: MonitorConfig;
  store: MountStore;
  reconciler: Reconciler;
  engine: DockerClient;
  policy: HostPathPolicy;
  isManaged: (containerPath: string) => boolean;
  log: Logger;
  /** View of the host's file system for checking requested folders (HOST_ROOT). Default: none. */
  hostRoot?: HostRoot;
  /** Serves `/metrics` and counts requests. Default: none, and `/metrics` answers 404. */
  metrics?: MonitorMetrics;
  /** Source of the restart counters in `/api/debug/stats`. Default: none, and the stats show `watchdog: null`. */
  watchdog?: { stats(): WatchdogStats };
}

/** The monitor's request handler; `routes` lists its `METHOD pattern` pairs, as Router.list() does. */
export type MonitorHandler = ((req: IncomingMessage, res: ServerResponse) => void) & { routes: string[] };

/** Routes served without the bearer token. */
const OPEN_PATHS = new Set(['/api/health', '/api/openapi.json']);

const FAILURE_STATUS: Partial<Record<string, number>> = { BIND_SOURCE_MISSING: 400, BIND_SOURCE_NOT_DIRECTORY: 400, PATH_NOT_ALLOWED: 403, RECREATE_REFUSED: 409, DOCKER_UNAVAILABLE: 503 };
const summary = (operation: Operation | undefined) => (operation ? { id: operation.id, kind: operation.kind, state: operation.state } : null);

/** Builds the monitor's request handler. */
export function createMonitorHandler(deps: MonitorDeps): MonitorHandler {
  const { config, store, reconciler, engine, policy, log } = deps;
  const router = new Router();
  const mutations = new InFlightLimit(config.maxMutationsInFlight);
  // Each response's language, chosen from its request's Accept-Language.
  const languages = new WeakMap<ServerResponse, Language>();
  const languageOf = (res: ServerResponse) => languages.get(res) ?? config.language;
  const ok = (res: ServerResponse, status: number, key: MessageKey, data: unknown) => sendSuccess(res, status, text(key, languageOf(res)), data);

  /** Turns a stored failure back into an error, with the details its zh-CN message needs. */
  function failureError(failure: MountFailure, extra: Record<string, unknown> = {}): HttpError {
    return new HttpError(failure.code as ErrorCode, FAILURE_STATUS[failure.code] ?? 502, failure.message, {
      details: {
        step: failure.step,
        reason: failure.message,
        daemon_message: failure.message,
        docker_host: config.dockerHost,
        container: config.devContainer,
        ...extra,
        ...failure.details,
      },
    });
  }

  /** With `?wait=true`, waits for the operation and responds with the mount's final state. */
  async function answerMutation(ctx: RouteContext, mount: Mount, operation: Operation | undefined, keys: [MessageKey, MessageKey]) {
    if (!operation || ctx.query.get('wait') !== 'true') {
      ok(ctx.res, operation ? 202 : 200, operation ? keys[0] : 'mount_unchanged', { mount, operation: summary(operation) });
      return;
    }
    const settled = await reconciler.settled(operation);
    // After a removal only the operation counts: the removed record keeps the state it had.
    const removal = keys[1] === 'mount_removed_applied';
    const latest = removal ? mount : ((await store.get(mount.user_id, mount.workspace_id)) ?? mount);
    let failure: MountFailure | undefined;
    if (!removal && latest.state === 'failed') failure = latest.error;
    else if (settled.state === 'failed') failure = settled.error;
    if (failure) {
      // The change itself is in the store, so a DOCKER_UNAVAILABLE message can say it was saved.
      const error = failureError(failure, { path: latest.local_path, saved: true });
      sendError(ctx.res, error, languageOf(ctx.res), { mount: latest, operation: settled });
      return;
    }
    ok(ctx.res, 200, keys[1], { mount: latest, operation: settled });
  }

  router.add('GET', '/api/health', async ({ res }) => {
    const docker: Record<string, unknown> = { host: config.dockerHost };
    const container: Record<string, unknown> = { name: config.devContainer };
    try {
      const inspect = await engine.containerInspect({ id: config.devContainer });
      Object.assign(docker, { reachable: true, api_version: await engine.apiVersion() });
      Object.assign(container, { id: inspect.Id, state: inspect.State.Status, health: inspect.State.Health?.Status ?? null });
    } catch (error) {
      const code = error instanceof MountCoreError ? error.code : 'INTERNAL_ERROR';
      docker.reachable = code !== 'DOCKER_UNAVAILABLE' && code !== 'ENGINE_TIMEOUT';
      container.state = code === 'CONTAINER_NOT_FOUND' ? 'missing' : 'unknown';
      docker.error_code = code;
    }
    const { running, queued } = reconciler.status();
    ok(res, 200, 'health_ok', { status: 'ok', docker, container, operations: { running: summary(running), queued: summary(queued) } });
  });

  const listBodies = new MountListBodies();
  router.add('GET', '/api/mounts', async ({ res }) => {
    listBodies.send(res, await store.readShared(), languageOf(res));
  });

  router.add('GET', '/api/mounts/:userId/:workspaceId', async ({ res, params }) => {
    const key = validateMountKey(params.userId, params.workspaceId);
    const mount = await store.get(key.user_id, key.workspace_id);
    if (!mount) throw notFound(key.user_id, key.workspace_id);
    ok(res, 200, 'mount_found', { mount });
  });

  router.add('POST', '/api/mounts', async (ctx) => {
    const request = validateMountRequest(await readJsonBody(ctx.req), { policy, workspaceRoot: config.workspaceRoot, hostRoot: deps.hostRoot });
    const { mount, changed, revision } = await store.upsert(request);
    const operation = changed ? reconciler.request('apply', revision) : undefined;
    log.info('mount saved', { user_id: mount.user_id, workspace_id: mount.workspace_id, changed, operation_id: operation?.id });
    await answerMutation(ctx, mount, operation, ['mount_saved', 'mount_saved_applied']);
  });

  router.add('DELETE', '/api/mounts/:userId/:workspaceId', async (ctx) => {
    const key = validateMountKey(ctx.params.userId, ctx.params.workspaceId);
    const { mount, revision } = await store.remove(key.user_id, key.workspace_id);
    const operation = reconciler.request('apply', revision);
    log.info('mount removed', { user_id: mount.user_id, workspace_id: mount.workspace_id, operation_id: operation.id });
    await answerMutation(ctx, mount, operation, ['mount_removed', 'mount_removed_applied']);
  });

  router.add('POST', '/api/restart', async ({ res, query }) => {
    const operation = reconciler.request('restart');
    log.info('restart requested', { operation_id: operation.id });
    if (query.get('wait') !== 'true') return ok(res, 202, 'restart_accepted', { operation: summary(operation) });
    const settled = await reconciler.settled(operation);
    if (settled.state === 'failed' && settled.error) {
      return sendError(res, failureError(settled.error), languageOf(res), { operation: settled });
    }
    ok(res, 200, 'restart_done', { operation: settled });
  });

  router.add('GET', '/api/operations/:id', ({ res, params }) => {
    const operation = reconciler.operation(params.id!);
    if (!operation) {
      const id = quoteValue(params.id!);
      throw new HttpError('OPERATION_NOT_FOUND', 404, `operation "${id}" not found`, { details: { id } });
    }
    ok(res, 200, 'operation_found', { operation });
  });

  router.add('GET', '/api/debug/stats', async ({ res }) => {
    requireDebug(config.debugMode);
    const inspect = await engine.containerInspect({ id: config.devContainer });
    const snapshot = await store.read();
    const actual = managedMountsOf(inspect, deps.isManaged);
    const desired = snapshot.mounts.filter((m) => m.state !== 'failed');
    const key = (m: { container_path: string; local_path: string; read_only: boolean }) => `${m.container_path}|${m.local_path}|${m.read_only}`;
    const actualKeys = new Set(actual.map(key));
    const desiredKeys = new Set(desired.map(key));
    ok(res, 200, 'stats', {
      container: { id: inspect.Id, name: inspect.Name.replace(/^\//, ''), state: inspect.State, image: inspect.Image, image_ref: inspect.Config.Image },
      mounts: inspect.Mounts,
      drift: { missing: desired.filter((m) => !actualKeys.has(key(m))), extra: actual.filter((m) => !desiredKeys.has(key(m))) },
      store_revision: snapshot.revision,
      operations: reconciler.status(),
      watchdog: deps.watchdog?.stats() ?? null,
    });
  });

  router.add('POST', '/api/debug/apply', ({ res }) => {
    requireDebug(config.debugMode);
    const operation = reconciler.request('apply');
    ok(res, 202, 'apply_accepted', { operation: summary(operation) });
  });

  const openapi = buildMonitorOpenApi();
  router.add('GET', '/api/openapi.json', ({ res }) => sendJson(res, 200, openapi));

  router.add('GET', '/metrics', async ({ res }) => {
    if (!deps.metrics) throw new HttpError('ROUTE_NOT_FOUND', 404, 'metrics are not enabled on this monitor', { details: { method: 'GET', path: '/metrics' } });
    const body = await deps.metrics.render();
    res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
    res.end(body);
  });
  const routeOf = routeLabeler(router.list());

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const language = requestLanguage(req, config.language);
    languages.set(res, language);
    const url = new URL(req.url ?? '/', 'http://monitor.invalid');
    if (deps.metrics) res.once('finish', () => deps.metrics?.observeRequest(routeOf(url.pathname), req.method ?? 'GET', res.statusCode));
    const handle = async () => {
      // The token is checked before routing, so that a caller without it cannot tell which routes exist.
      if (!OPEN_PATHS.has(url.pathname)) requireBearer(req, config.token);
      const match = router.match(req.method ?? 'GET', url.pathname);
      // Every POST and DELETE changes mounts or starts an operation.
      if (req.method === 'POST' || req.method === 'DELETE') mutations.enter(res);
      await match.handler({ req, res, params: match.params, query: url.searchParams });
    };
    handle().catch((error: unknown) => {
      const status = error instanceof MountCoreError ? error.status : 500;
      const level = status >= 500 ? 'error' : 'info';
      log[level]('request failed', { method: req.method, path: url.pathname, status, ...errorFields(error) });
      sendError(res, error, language);
    });
  };
  return Object.assign(handler, { routes: router.list() });
}

function notFound(userId: string, workspaceId: string): MountCoreError {
  return new HttpError('MOUNT_NOT_FOUND', 404, `mount ${userId}/${workspaceId} not found`, { details: { user_id: userId, workspace_id: workspaceId } });
}

function requireDebug(enabled: boolean): void {
  if (!enabled) throw new HttpError('DEBUG_DISABLED', 403, 'debug routes are disabled; set DEBUG_MODE=1 to enable them');
}
