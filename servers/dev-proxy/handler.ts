/**
 * The development container's original mount API, forwarded to the monitor.
 * Exported as a request handler so that an existing node:http service can
 * mount it; with a fallback store it records changes itself while the monitor
 * is unreachable. It never talks to the Docker Engine, so it cannot restart
 * its own container even by mistake.
 */
import type { Agent, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { HttpError, MonitorUnavailableError } from '../../lib/errors.js';
import {
  DEFAULT_BODY_LIMIT, DEFAULT_MAX_MUTATIONS_IN_FLIGHT, InFlightLimit, MountListBodies, readJsonBody, requestLanguage, requireBearer, Router, sendError, sendJson, sendSuccess,
} from '../../lib/http/index.js';
import { text, type Language } from '../../lib/messages.js';
import type { MountStore, StoreSnapshot } from '../../lib/store/index.js';
import { validateMountKey, validateMountRequest, type HostPathPolicy } from '../../lib/validation/index.js';
import { MonitorClient, MonitorRequestError, type MonitorResponse } from './monitor-client.js';
import { buildDevProxyOpenApi } from './openapi.js';
import { pathnameOf } from './path.js';

export interface DevProxyFallback {
  /** The store the monitor reads, on the shared volume. */
  store: MountStore;
  /** The same host path policy the monitor enforces. */
  policy: HostPathPolicy;
  workspaceRoot: string;
  /**
   * Serve the list and single-mount reads from the store instead of
   * forwarding them. The monitor serves those reads from the same file, so
   * the reply is the same, without the second HTTP exchange, and also while
   * the monitor is down. While the store is missing or still at revision 0,
   * reads are forwarded. Default: true.
   */
  serveReads?: boolean;
}

export interface DevProxyOptions {
  /** Base URL of the monitor's API, for example `http://openmanus-monitor:8089/api`. */
  monitorApi: string;
  /** Bearer token sent to the monitor. Default: none. */
  token?: string;
  /**
   * Bearer token that clients must send to this proxy, on every route but
   * test-monitor and openapi.json. It is compared in constant time and never
   * forwarded. Default: none, so every route is open.
   */
  proxyToken?: string;
  /** Requests that change mounts (POST and DELETE) handled at once; more get 429. Default: 32. */
  maxMutationsInFlight?: number;
  /** Time limit of each request to the monitor, response body included, in milliseconds. Default: 15000. */
  timeoutMs?: number;
  /** Language when the request has no Accept-Language. Default: `zh-CN`. */
  language?: Language;
  /** Record changes in the shared store while the monitor is unreachable. Default: off. */
  fallback?: DevProxyFallback;
  /** Path prefix of the original API. Default: `/api/mounts`. */
  prefix?: string;
  /** Request body cap in bytes. Default: 16384. */
  bodyLimit?: number;
  /**
   * node:http Agent for monitor requests, an https.Agent when monitorApi is
   * https. close() leaves a caller's Agent open. Default: a keep-alive Agent
   * owned by the handler.
   */
  agent?: Agent;
  /** Called with every error the handler responds with, for logging. Default: none. */
  onError?: (error: unknown, req: IncomingMessage) => void;
}

/** A node:http handler; `next` is called for paths outside the prefix when given, else they get a 404. */
export interface DevProxyHandler {
  (req: IncomingMessage, res: ServerResponse, next?: () => void): void;
  /** Destroys the handler's own Agent and its sockets, including requests still in flight; a caller's Agent stays open. */
  close(): Promise<void>;
  /** The `METHOD pattern` pairs the handler serves, with the prefix. */
  readonly routes: string[];
}

/** Paths below the prefix that need no proxy token. */
const OPEN_PATHS = new Set(['/test-monitor', '/openapi.json']);

interface Forward {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
}

/** Builds the proxy handler; options are checked at once. */
export function createDevProxyHandler(options: DevProxyOptions): DevProxyHandler {
  let base: URL;
  try {
    base = new URL(options.monitorApi.replace(/\/+$/, ''));
  } catch {
    throw new HttpError('CONFIG_INVALID', 500, `monitorApi ${JSON.stringify(options.monitorApi)} is not a URL`, {
      details: { reason: `MONITOR_API: ${JSON.stringify(options.monitorApi)} is not a URL` },
    });
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new HttpError('CONFIG_INVALID', 500, `monitorApi ${JSON.stringify(options.monitorApi)} must be an http or https URL`, {
      details: { reason: 'MONITOR_API: expected an http or https URL' },
    });
  }
  // The URL appears in 503 responses and logs, so it must not carry a password. A query would break the paths appended to it.
  if (base.username !== '' || base.password !== '' || base.search !== '' || base.hash !== '') {
    throw new HttpError('CONFIG_INVALID', 500, 'monitorApi must not contain credentials, a query or a fragment; pass the token as MONITOR_TOKEN', {
      details: { reason: 'MONITOR_API: expected no credentials, query or fragment; use MONITOR_TOKEN for the token' },
    });
  }
  // node:http's Agent stores its protocol ('http:' or 'https:') without declaring it in its types.
  const agentProtocol = options.agent && (options.agent as { protocol?: unknown }).protocol;
  if (options.agent && agentProtocol !== base.protocol) {
    throw new HttpError('CONFIG_INVALID', 500, `agent is for ${String(agentProtocol)} but monitorApi uses ${base.protocol}; pass an http.Agent for an http monitor and an https.Agent for an https one`, {
      details: { reason: `agent: expected an Agent for ${base.protocol}` },
    });
  }
  const apiUrl = base.href.replace(/\/+$/, '');
  const prefix = (options.prefix ?? '/api/mounts').replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 15_000;
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const monitor = new MonitorClient({ base, timeoutMs, agent: options.agent });
  const fallback = options.fallback;
  const serveReads = fallback !== undefined && fallback.serveReads !== false;
  const listBodies = new MountListBodies();
  const mutations = new InFlightLimit(options.maxMutationsInFlight ?? DEFAULT_MAX_MUTATIONS_IN_FLIGHT);
  const enc = encodeURIComponent;

  /** Each original route: its monitor target and how the fallback answers it. */
  interface ProxyRoute extends Forward {
    kind: 'health' | 'openapi' | 'save' | 'list' | 'get' | 'remove' | 'restart' | 'operation';
  }
  let selected: ProxyRoute | undefined;
  const select = (route: (params: Record<string, string>) => ProxyRoute) => (ctx: { params: Record<string, string> }) => {
    selected = route(ctx.params);
  };
  const routes = new Router()
    .add('GET', '/test-monitor', select(() => ({ kind: 'health', method: 'GET', path: '/health' })))
    .add('GET', '/openapi.json', select(() => ({ kind: 'openapi', method: 'GET', path: '' })))
    .add('POST', '/mount', select(() => ({ kind: 'save', method: 'POST', path: '/mounts' })))
    .add('GET', '/mounts', select(() => ({ kind: 'list', method: 'GET', path: '/mounts' })))
    .add('GET', '/mount/:userId/:workspaceId', select((p) => ({ kind: 'get', method: 'GET', path: `/mounts/${enc(p.userId!)}/${enc(p.workspaceId!)}` })))
    .add('DELETE', '/mount/:userId/:workspaceId', select((p) => ({ kind: 'remove', method: 'DELETE', path: `/mounts/${enc(p.userId!)}/${enc(p.workspaceId!)}` })))
    .add('POST', '/restart', select(() => ({ kind: 'restart', method: 'POST', path: '/restart' })))
    .add('GET', '/operations/:id', select((p) => ({ kind: 'operation', method: 'GET', path: `/operations/${enc(p.id!)}` })));

  /** Matches a path below the prefix to its route; throws ROUTE_NOT_FOUND or METHOD_NOT_ALLOWED. */
  const routeOf = (method: string, rest: string): { route: ProxyRoute; params: Record<string, string> } => {
    const match = routes.match(method, rest);
    selected = undefined;
    void match.handler({ params: match.params } as never);
    return { route: selected!, params: match.params };
  };

  async function readRawBody(req: IncomingMessage): Promise<Buffer> {
    const declared = Number(req.headers['content-length'] ?? NaN);
    const chunks: Buffer[] = [];
    let size = 0;
    if (Number.isFinite(declared) && declared > bodyLimit) size = declared;
    else {
      for await (const chunk of req) {
        size += (chunk as Buffer).length;
        if (size > bodyLimit) break;
        chunks.push(chunk as Buffer);
      }
    }
    if (size > bodyLimit) {
      throw new HttpError('BODY_TOO_LARGE', 413, `the request body exceeds the limit of ${bodyLimit} bytes`, { details: { limit: bodyLimit } });
    }
    return Buffer.concat(chunks);
  }

  const authorization = options.token ? `Bearer ${options.token}` : undefined;

  function forward(req: IncomingMessage, target: Forward, body: Buffer | undefined): Promise<MonitorResponse> {
    const headers: OutgoingHttpHeaders = { accept: 'application/json' };
    const language = req.headers['accept-language'];
    const contentType = req.headers['content-type'];
    if (language) headers['accept-language'] = language;
    if (contentType) headers['content-type'] = contentType;
    if (authorization) headers.authorization = authorization;
    return monitor.send(target.method, target.path, headers, body && body.length > 0 ? body : undefined);
  }

  /** Answers a request from the shared store while the monitor is unreachable. */
  async function answerFromStore(res: ServerResponse, language: Language, route: ProxyRoute, params: Record<string, string>, body: Buffer) {
    const store = fallback!.store;
    if (route.kind === 'list' || route.kind === 'get') return answerRead(res, language, route, params, await store.readShared());
    if (route.kind === 'save') {
      const parsed = await readJsonBody(bufferRequest(body, res.req.headers));
      const valid = validateMountRequest(parsed, { policy: fallback!.policy, workspaceRoot: fallback!.workspaceRoot });
      const { mount, changed } = await store.upsert(valid);
      const key = changed ? 'saved_pending_fallback' : 'mount_unchanged';
      return sendSuccess(res, changed ? 202 : 200, text(key, language), { mount, operation: null });
    }
    // The remaining store route: remove.
    const key = validateMountKey(params.userId, params.workspaceId);
    const { mount } = await store.remove(key.user_id, key.workspace_id);
    return sendSuccess(res, 202, text('removed_pending_fallback', language), { mount, operation: null });
  }

  /** Sends the list or one mount from a store snapshot, read once for the request. */
  function answerRead(res: ServerResponse, language: Language, route: ProxyRoute, params: Record<string, string>, snapshot: Readonly<StoreSnapshot>): void {
    if (route.kind === 'list') return listBodies.send(res, snapshot, language);
    const key = validateMountKey(params.userId, params.workspaceId);
    const mount = snapshot.mounts.find((entry) => entry.user_id === key.user_id && entry.workspace_id === key.workspace_id);
    if (!mount) {
      throw new HttpError('MOUNT_NOT_FOUND', 404, `mount ${key.user_id}/${key.workspace_id} not found`, { details: key });
    }
    return sendSuccess(res, 200, text('mount_found', language), { mount });
  }

  async function handle(req: IncomingMessage, res: ServerResponse, language: Language, pathname: string): Promise<void> {
    const rest = pathname.slice(prefix.length) || '/';
    // The token is checked before routing, so that a caller without it cannot tell which routes exist.
    if (!OPEN_PATHS.has(rest)) requireBearer(req, options.proxyToken);
    const { route, params } = routeOf(req.method ?? 'GET', rest);
    if (route.kind === 'openapi') return sendJson(res, 200, openapi);
    // A store at revision 0 is missing or has never been written. The monitor's store may be another file
    // (a MOUNT_DATA_FILE that does not match), so such reads go to the monitor instead of listing nothing.
    if (serveReads && (route.kind === 'list' || route.kind === 'get')) {
      const snapshot = await fallback!.store.readShared();
      if (snapshot.revision > 0) return answerRead(res, language, route, params, snapshot);
    }
    if (req.method === 'POST' || req.method === 'DELETE') mutations.enter(res);
    const body = req.method === 'POST' ? await readRawBody(req) : undefined;

    let upstream: MonitorResponse;
    try {
      upstream = await forward(req, route, body);
    } catch (error) {
      if (!(error instanceof MonitorRequestError)) throw error;
      if (route.kind === 'health') {
        const message = text('monitor_disconnected', language);
        return sendJson(res, 503, { success: false, message, data: { api_url: apiUrl, status: 'disconnected' }, code: 'MONITOR_UNAVAILABLE' });
      }
      const storeRoute = route.kind === 'save' || route.kind === 'list' || route.kind === 'get' || route.kind === 'remove';
      // The store is used only when the monitor cannot have received the request: after a timeout it may have carried the change out.
      if (fallback && storeRoute && !error.reached) return answerFromStore(res, language, route, params, body ?? Buffer.alloc(0));
      const problem = error.timedOut ? `did not respond within ${timeoutMs} ms` : 'is unreachable';
      throw new MonitorUnavailableError(`monitor API ${apiUrl} ${problem}`, { cause: error, details: { url: apiUrl } });
    }

    if (route.kind === 'health') {
      const connected = upstream.status >= 200 && upstream.status < 300;
      const data = { api_url: apiUrl, status: connected ? 'connected' : 'disconnected' };
      if (connected) return sendSuccess(res, 200, text('monitor_connected', language), data);
      return sendJson(res, 503, { success: false, message: text('monitor_disconnected', language), data, code: 'MONITOR_UNAVAILABLE' });
    }
    relay(res, upstream);
  }

  const handler = ((req, res, next) => {
    const pathname = pathnameOf(req.url ?? '/');
    const inside = pathname === prefix || pathname.startsWith(`${prefix}/`);
    if (!inside && next) return next();
    const language = requestLanguage(req, options.language ?? 'zh-CN');
    const work = inside
      ? handle(req, res, language, pathname)
      : Promise.reject(new HttpError('ROUTE_NOT_FOUND', 404, `no route for ${req.method} ${pathname}`, { details: { method: req.method, path: pathname } }));
    work.catch((error: unknown) => {
      options.onError?.(error, req);
      sendError(res, error, language);
    });
  }) as DevProxyHandler;
  const openapi = buildDevProxyOpenApi(prefix);
  Object.defineProperty(handler, 'routes', { value: routes.list().map((route) => route.replace(' /', ` ${prefix}/`)), enumerable: true });
  handler.close = async () => {
    monitor.close();
  };
  return handler;
}

/** Wraps an already-read body so readJsonBody can apply its media type and JSON checks to it. */
function bufferRequest(body: Buffer, headers: IncomingMessage['headers']): IncomingMessage {
  const source = (async function* () {
    if (body.length > 0) yield body;
  })();
  return Object.assign(source, { headers }) as unknown as IncomingMessage;
}

/** Sends the monitor's status, body and the headers a client acts on, writing the body chunks as they arrived. */
function relay(res: ServerResponse, upstream: MonitorResponse): void {
  const headers: OutgoingHttpHeaders = {
    'content-type': upstream.headers['content-type'] ?? 'application/json; charset=utf-8',
    'content-length': upstream.length,
  };
  if (upstream.headers.allow) headers.allow = upstream.headers.allow;
  if (upstream.headers['retry-after']) headers['retry-after'] = upstream.headers['retry-after'];
  res.writeHead(upstream.status, headers);
  const { chunks } = upstream;
  for (let i = 0; i < chunks.length - 1; i++) res.write(chunks[i]);
  res.end(chunks[chunks.length - 1]);
}
