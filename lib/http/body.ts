/** Reading a JSON request body with a size cap and a media type check. */
import type { IncomingMessage } from 'node:http';
import { HttpError } from '../errors.js';
import { quoteValue } from '../validation/text.js';
import { parseJsonBody } from './json.js';

/** Default cap on a request body: mount requests are a few hundred bytes. */
export const DEFAULT_BODY_LIMIT = 16 * 1024;

/**
 * Reads and parses a JSON body. Rejects a body over `limit` bytes (413,
 * without reading the rest), a media type other than application/json or
 * `+json` (415), a charset other than UTF-8 (415), and a body that
 * parseJsonBody rejects (400). The media type and charset are compared
 * case-insensitively, and the charset may be quoted. An empty body reads as
 * `undefined`.
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

  checkJsonMediaType(req.headers['content-type']);
  return parseJsonBody(Buffer.concat(chunks));
}

/** Throws UNSUPPORTED_MEDIA_TYPE (415) unless `header` names JSON in UTF-8. */
export function checkJsonMediaType(header: string | undefined): void {
  const [mediaType = '', ...parameters] = String(header ?? '').split(';');
  const type = mediaType.trim().toLowerCase();
  if (type !== 'application/json' && !(type.startsWith('application/') && type.endsWith('+json'))) {
    throw unsupported(header, `unsupported Content-Type "${quoteValue(type)}"; send application/json`);
  }
  for (const parameter of parameters) {
    const [name = '', value = ''] = parameter.split('=');
    if (name.trim().toLowerCase() !== 'charset') continue;
    const charset = value.trim().replace(/^"(.*)"$/, '$1').toLowerCase();
    if (charset !== 'utf-8' && charset !== 'utf8') {
      throw unsupported(header, `unsupported charset "${quoteValue(charset)}" in Content-Type; JSON must be sent as UTF-8`);
    }
  }
}

function unsupported(header: string | undefined, message: string): HttpError {
  return new HttpError('UNSUPPORTED_MEDIA_TYPE', 415, message, { details: { content_type: quoteValue(String(header ?? '')) } });
}

function tooLarge(limit: number): HttpError {
  return new HttpError('BODY_TOO_LARGE', 413, `the request body exceeds the limit of ${limit} bytes`, { details: { limit } });
}
