/**
 * The development container's original mount API, forwarded to the monitor.
 * Exported as a request handler so that an existing node:http service can
 * mount it; with a fallback store it records changes itself while the monitor
 * is unreachable. It never talks to the Docker Engine, so it cannot restart
 * its own container even by mistake.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Agent, request, type Dispatcher } from 'undici';
import { HttpError, MonitorUnavailableError } from '../../lib/errors.js';
import { DEFAULT_BODY_LIMIT, readJsonBody, requestLanguage, Router, sendError, sendJson, sendSuccess } from '../../lib/http/index.js';
import { text, type Language } from '../../lib/messages.js';
import type { MountStore } from '../../lib/store/index.js';
import { validateMountKey, validateMountRequest, type HostPathPolicy } from '../../lib/validation/index.js';

export interface DevProxyFallback {
  /** The store the monitor reads, on the shared volume. */
  store: MountStore;
  /** The same host path policy the monitor enforces. */
  policy: HostPathPolicy;
  workspaceRoot: string;
}

export interface DevProxyOptions {
  /** Base URL of the monitor's API, for example `http://openmanus-monitor:8089/api`. */
  monitorApi: string;
  /** Bearer token sent to the monitor. Default: none. */
  token?: string;
  /** Timeout of each request to the monitor, in milliseconds. Default: 15000. */
  timeoutMs?: number;
  /** Language when the request has no Accept-Language. Default: `zh-CN`. */
  language?: Language;
  /** Record changes in the shared store while the monitor is unreachable. Default: off. */
  fallback?: DevProxyFallback;
  /** Path prefix of the original API. Default: `/api/mounts`. */
  prefix?: string;
  /** Request body cap in bytes. Default: 16384. */
  bodyLimit?: number;
  /** undici dispatcher for monitor requests. Default: a keep-alive Agent owned by the handler. */
  dispatcher?: Dispatcher;
  /** Called with every error the handler answers, for logging. Default: none. */
  onError?: (error: unknown, req: IncomingMessage) => void;
}

/** A node:http handler; `next` is called for paths outside the prefix when given, else they get a 404. */
export interface DevProxyHandler {
  (req: IncomingMessage, res: ServerResponse, next?: () => void): void;
  /** Closes the handler's own connection pool. */
  close(): Promise<void>;
}

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
  const apiUrl = base.href.replace(/\/+$/, '');
  const prefix = (options.prefix ?? '/api/mounts').replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 15_000;
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const ownDispatcher = options.dispatcher ? undefined : new Agent({ keepAliveTimeout: 4000, connections: 16 });
  const dispatcher = options.dispatcher ?? ownDispatcher!;
  const fallback = options.fallback;
  const enc = encodeURIComponent;

  const routes = new Router()
    .add('GET', '/test-monitor', () => undefined)
    .add('POST', '/mount', () => undefined)
    .add('GET', '/mounts', () => undefined)
    .add('GET', '/mount/:userId/:workspaceId', () => undefined)
    .add('DELETE', '/mount/:userId/:workspaceId', () => undefined)
    .add('POST', '/restart', () => undefined)
    .add('GET', '/operations/:id', () => undefined);

  const targetOf = (method: string, route: string, params: Record<string, string>): Forward => {
    switch (route) {
      case '/test-monitor': return { method: 'GET', path: '/health' };
      case '/mount': return { method: 'POST', path: '/mounts' };
      case '/mounts': return { method: 'GET', path: '/mounts' };
      case '/restart': return { method: 'POST', path: '/restart' };
      case '/operations': return { method: 'GET', path: `/operations/${enc(params.id!)}` };
      default: return { method: method as Forward['method'], path: `/mounts/${enc(params.userId!)}/${enc(params.workspaceId!)}` };
    }
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

  async function forward(req: IncomingMessage, target: Forward, body: Buffer | undefined) {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (req.headers['accept-language']) headers['accept-language'] = String(req.headers['accept-language']);
    if (req.headers['content-type']) headers['content-type'] = String(req.headers['content-type']);
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    return request(`${apiUrl}${target.path}`, {
      dispatcher,
      method: target.method,
      headers,
      body: body && body.length > 0 ? body : undefined,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
  }

  /** Answers a request from the shared store while the monitor is unreachable. */
  async function answerFromStore(res: ServerResponse, language: Language, route: string, params: Record<string, string>, body: Buffer) {
    const store = fallback!.store;
    if (route === '/mounts') {
      const snapshot = await store.read();
      return sendSuccess(res, 200, text('mounts_listed', language), { revision: snapshot.revision, mounts: snapshot.mounts });
    }
    if (res.req.method === 'POST') {
      const parsed = await readJsonBody(bufferRequest(body, res.req.headers));
      const valid = validateMountRequest(parsed, { policy: fallback!.policy, workspaceRoot: fallback!.workspaceRoot });
      const { mount, changed } = await store.upsert(valid);
      const key = changed ? 'saved_pending_fallback' : 'mount_unchanged';
      return sendSuccess(res, changed ? 202 : 200, text(key, language), { mount, operation: null });
    }
    const key = validateMountKey(params.userId, params.workspaceId);
    if (res.req.method === 'DELETE') {
      const { mount } = await store.remove(key.user_id, key.workspace_id);
      return sendSuccess(res, 202, text('removed_pending_fallback', language), { mount, operation: null });
    }
    const mount = await store.get(key.user_id, key.workspace_id);
    if (!mount) {
      throw new HttpError('MOUNT_NOT_FOUND', 404, `mount ${key.user_id}/${key.workspace_id} not found`, { details: key });
    }
    return sendSuccess(res, 200, text('mount_found', language), { mount });
  }

  async function handle(req: IncomingMessage, res: ServerResponse, language: Language, pathname: string): Promise<void> {
    const rest = pathname.slice(prefix.length) || '/';
    const match = routes.match(req.method ?? 'GET', rest);
    const route = `/${rest.split('/').filter(Boolean)[0] ?? ''}`;
    const target = targetOf(req.method ?? 'GET', route, match.params);
    const body = req.method === 'POST' ? await readRawBody(req) : undefined;

    let upstream: Dispatcher.ResponseData;
    try {
      upstream = await forward(req, target, body);
    } catch (error) {
      if (route === '/test-monitor') {
        const message = text('monitor_disconnected', language);
        return sendJson(res, 503, { success: false, message, data: { api_url: apiUrl, status: 'disconnected' }, code: 'MONITOR_UNAVAILABLE' });
      }
      const mutable = route === '/mount' || route === '/mounts';
      if (fallback && mutable) return answerFromStore(res, language, route, match.params, body ?? Buffer.alloc(0));
      throw new MonitorUnavailableError(`monitor API ${apiUrl} is unreachable`, { cause: error, details: { url: apiUrl } });
    }

    if (route === '/test-monitor') {
      await upstream.body.dump();
      const connected = upstream.statusCode >= 200 && upstream.statusCode < 300;
      const data = { api_url: apiUrl, status: connected ? 'connected' : 'disconnected' };
      if (connected) return sendSuccess(res, 200, text('monitor_connected', language), data);
      return sendJson(res, 503, { success: false, message: text('monitor_disconnected', language), data, code: 'MONITOR_UNAVAILABLE' });
    }
    const payload = Buffer.from(await upstream.body.arrayBuffer());
    const headers: Record<string, string> = {
      'content-type': String(upstream.headers['content-type'] ?? 'application/json; charset=utf-8'),
      'content-length': String(payload.length),
    };
    if (upstream.headers.allow) headers.allow = String(upstream.headers.allow);
    res.writeHead(upstream.statusCode, headers);
    res.end(payload);
  }

  const handler = ((req, res, next) => {
    const url = new URL(req.url ?? '/', 'http://proxy.invalid');
    const inside = url.pathname === prefix || url.pathname.startsWith(`${prefix}/`);
    if (!inside && next) return next();
    const language = requestLanguage(req, options.language ?? 'zh-CN');
    const work = inside
      ? handle(req, res, language, url.pathname)
      : Promise.reject(new HttpError('ROUTE_NOT_FOUND', 404, `no route for ${req.method} ${url.pathname}`, { details: { method: req.method, path: url.pathname } }));
    work.catch((error: unknown) => {
      options.onError?.(error, req);
      sendError(res, error, language);
    });
  }) as DevProxyHandler;
  handler.close = async () => {
    await ownDispatcher?.close();
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
