/** The JSON envelope every response uses: `{ success, message, data }`, plus `code` on errors. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MountCoreError } from '../errors.js';
import { localizeError, pickLanguage, type Language } from '../messages.js';

export interface Envelope {
  success: boolean;
  message: string;
  data: unknown;
  code?: string;
}

/** Writes `body` as JSON with `status`; extra headers are added as given. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  sendJsonText(res, status, JSON.stringify(body), headers);
}

/** Writes an already serialized JSON body, such as one kept between requests, with `status`. */
export function sendJsonText(res: ServerResponse, status: number, payload: string | Buffer, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(payload);
}

/** Writes a success envelope. */
export function sendSuccess(res: ServerResponse, status: number, message: string, data: unknown): void {
  sendJson(res, status, { success: true, message, data } satisfies Envelope);
}

/** Picks the response language for a request: Accept-Language first, then the server's default. */
export function requestLanguage(req: IncomingMessage, fallback: Language): Language {
  const header = req.headers['accept-language'];
  return pickLanguage(Array.isArray(header) ? header[0] : header, fallback);
}

/**
 * Writes an error envelope. A MountCoreError is sent with its own status,
 * code and localized message; anything else is a 500 INTERNAL_ERROR whose
 * text reveals nothing about the cause (the caller logs it).
 */
export function sendError(res: ServerResponse, error: unknown, language: Language, data: unknown = null): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (error instanceof MountCoreError) {
    const headers: Record<string, string> = {};
    if (typeof error.details.allow === 'string') headers.allow = error.details.allow;
    if (error.code === 'UNAUTHORIZED') headers['www-authenticate'] = 'Bearer';
    if (typeof error.details.retry_after === 'number') headers['retry-after'] = String(error.details.retry_after);
    // The rest of an oversized body is not read, so the connection cannot carry another request.
    if (error.code === 'BODY_TOO_LARGE') headers.connection = 'close';
    const body: Envelope = { success: false, message: localizeError(error, language), data: data ?? publicDetails(error), code: error.code };
    sendJson(res, error.status, body, headers);
    return;
  }
  const message = language === 'en' ? 'internal server error' : '服务器内部错误';
  sendJson(res, 500, { success: false, message, data: null, code: 'INTERNAL_ERROR' } satisfies Envelope);
}

/** Details safe to return to a client: no causes, no stacks. */
function publicDetails(error: MountCoreError): Record<string, unknown> | null {
  const entries = Object.entries(error.details).filter(([, value]) => value !== undefined);
  return entries.length > 0 ? Object.fromEntries(entries) : null;
}
