/** Reading a JSON request body with a size cap and a media type check. */
import type { IncomingMessage } from 'node:http';
import { HttpError } from '../errors.js';

/** Default cap on a request body: mount requests are a few hundred bytes. */
export const DEFAULT_BODY_LIMIT = 16 * 1024;

/**
 * Reads and parses a JSON body. Rejects a media type other than
 * application/json (415), a body over `limit` bytes (413, without reading the
 * rest) and text that is not JSON (400). An empty body reads as `undefined`.
 */
export async function readJsonBody(req: IncomingMessage, limit = DEFAULT_BODY_LIMIT): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);

  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw tooLarge(limit);
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return undefined;

  const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json' && !type.endsWith('+json')) {
    throw new HttpError('UNSUPPORTED_MEDIA_TYPE', 415, `unsupported Content-Type "${type}"; send application/json`, {
      details: { content_type: type },
    });
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError('INVALID_JSON', 400, 'the request body is not valid JSON');
  }
}

function tooLarge(limit: number): HttpError {
  return new HttpError('BODY_TOO_LARGE', 413, `the request body exceeds the limit of ${limit} bytes`, { details: { limit } });
}
