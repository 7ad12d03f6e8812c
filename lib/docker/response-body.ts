/**
 * Reading Engine response bodies: JSON parsing of success bodies, and error
 * bodies read with a byte cap and reduced to the daemon's `message`.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { MountCoreError } from '../errors.js';

/** Error bodies are read up to this many bytes, so a broken daemon cannot exhaust memory. */
export const ERROR_BODY_LIMIT = 64 * 1024;

/** Maximum length of a daemon message taken from a body that is not JSON. */
const TEXT_MESSAGE_LIMIT = 1024;

/** Parses a success body as JSON when its Content-Type names JSON, else returns the text, or undefined when empty. */
export function parseBody(text: string, headers: IncomingHttpHeaders, request: { method: string; path: string }): unknown {
  if (text === '') return undefined;
  if (!String(headers['content-type'] ?? '').includes('json')) return text;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new MountCoreError('ENGINE_ERROR', 502, `Docker Engine sent invalid JSON for ${request.method} ${request.path}`, {
      details: { method: request.method, path: request.path, daemon_message: text.slice(0, TEXT_MESSAGE_LIMIT) },
      cause: error,
    });
  }
}

/** Reads at most `limit` bytes and then destroys the body, which also drops the connection. */
export async function readCapped(body: AsyncIterable<Uint8Array> & { destroy(): void }, limit: number): Promise<string> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of body) {
    const room = limit - length;
    chunks.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
    length += Math.min(chunk.length, room);
    if (length >= limit) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Extracts the daemon's `{"message": …}`, or falls back to the start of the body text. */
export function daemonMessageOf(text: string, status: number): string {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(trimmed);
      if (typeof parsed === 'object' && parsed !== null && typeof (parsed as { message?: unknown }).message === 'string') {
        return (parsed as { message: string }).message;
      }
    } catch {
      // A truncated or malformed body falls through to the text form.
    }
  }
  if (trimmed === '') return `HTTP ${status} with an empty body`;
  return trimmed.length > TEXT_MESSAGE_LIMIT ? `${trimmed.slice(0, TEXT_MESSAGE_LIMIT)}…` : trimmed;
}
