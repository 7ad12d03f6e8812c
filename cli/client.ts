/**
 * HTTP calls of mountctl to the monitor API or to the development-container
 * proxy, which keeps the original routes. Every reply is parsed as the
 * envelope `{ success, message, data, code? }`.
 */

/** Maximum time of one request; following an operation is bounded separately by --timeout. */
const REQUEST_TIMEOUT_MS = 30_000;

export interface Envelope {
  success: boolean;
  message: string;
  data: any;
  code?: string;
}

export interface Reply {
  status: number;
  envelope: Envelope;
  /** The body exactly as the server sent it, for --json. */
  raw: string;
}

/** The request of a command, which the client maps to the monitor's or the proxy's route. */
export type Call =
  | { kind: 'add'; body: Record<string, unknown> }
  | { kind: 'rm' | 'show'; user: string; workspace: string }
  | { kind: 'ls' | 'restart' | 'test' }
  | { kind: 'status'; operation: string };

/** The server did not respond: connection refused, name not resolved, timeout. */
export class UnreachableError extends Error {
  constructor(readonly url: string, cause: unknown) {
    super(`cannot reach ${url}: ${describeCause(cause)}`, { cause });
    this.name = 'UnreachableError';
  }
}

/** The server returned something other than a JSON envelope. */
export class InvalidReplyError extends Error {
  constructor(readonly url: string, readonly status: number, contentType: string) {
    super(`unexpected reply from ${url}: HTTP ${status} with ${contentType || 'no content type'}, not a JSON envelope; check --url`);
    this.name = 'InvalidReplyError';
  }
}

export interface ClientOptions {
  /** Base URL without a trailing slash: `http://host:8089/api` or `http://host:5172/api/mounts`. */
  baseUrl: string;
  proxy: boolean;
  /** Bearer token; never printed. */
  token: string | undefined;
  language: 'en' | 'zh-CN';
}

const enc = encodeURIComponent;

/** Method and path below the base URL for `call`, on the monitor or on the proxy. */
export function routeOf(call: Call, proxy: boolean): { method: 'GET' | 'POST' | 'DELETE'; path: string } {
  const one = (user: string, workspace: string) => `${proxy ? '/mount' : '/mounts'}/${enc(user)}/${enc(workspace)}`;
  switch (call.kind) {
    case 'add':
      return { method: 'POST', path: proxy ? '/mount' : '/mounts' };
    case 'rm':
      return { method: 'DELETE', path: one(call.user, call.workspace) };
    case 'show':
      return { method: 'GET', path: one(call.user, call.workspace) };
    case 'ls':
      return { method: 'GET', path: '/mounts' };
    case 'restart':
      return { method: 'POST', path: '/restart' };
    case 'status':
      return { method: 'GET', path: `/operations/${enc(call.operation)}` };
    case 'test':
      return { method: 'GET', path: proxy ? '/test-monitor' : '/health' };
  }
}

export class ApiClient {
  constructor(private readonly options: ClientOptions) {}

  get baseUrl(): string {
    return this.options.baseUrl;
  }

  /** Sends `call` and returns the parsed reply; throws UnreachableError or InvalidReplyError. */
  async send(call: Call): Promise<Reply> {
    const { method, path } = routeOf(call, this.options.proxy);
    const url = `${this.options.baseUrl}${path}`;
    const headers: Record<string, string> = { accept: 'application/json', 'accept-language': this.options.language };
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    let body: string | undefined;
    if (call.kind === 'add') {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(call.body);
    }

    let response: Response;
    let raw: string;
    try {
      response = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      raw = await response.text();
    } catch (error) {
      throw new UnreachableError(url, error);
    }
    const contentType = response.headers.get('content-type') ?? '';
    let envelope: unknown;
    try {
      envelope = JSON.parse(raw);
    } catch {
      throw new InvalidReplyError(url, response.status, contentType);
    }
    if (!isEnvelope(envelope)) throw new InvalidReplyError(url, response.status, contentType);
    return { status: response.status, envelope, raw };
  }
}

function isEnvelope(value: unknown): value is Envelope {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return typeof record.success === 'boolean' && typeof record.message === 'string' && 'data' in record;
}

/** Names the socket error behind a failed fetch (ECONNREFUSED, ENOTFOUND, a timeout) instead of "fetch failed". */
function describeCause(error: unknown): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `no reply within ${REQUEST_TIMEOUT_MS / 1000} s`;
  }
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  if (cause && typeof cause.code === 'string') return cause.code;
  if (cause && typeof cause.message === 'string') return cause.message;
  return error instanceof Error ? error.message : String(error);
}
