/** Bearer-token checks with a constant-time comparison. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ConfigError, HttpError } from '../errors.js';

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Throws UNAUTHORIZED unless the request carries `Authorization: Bearer <token>`; no token configured means open. */
export function requireBearer(req: IncomingMessage, token: string | undefined): void {
  if (!token) return;
  const header = req.headers.authorization ?? '';
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  // Hashing first gives both sides the same length, so the comparison time does not depend on the token.
  if (match && timingSafeEqual(digest(match[1]!), digest(token))) return;
  throw new HttpError('UNAUTHORIZED', 401, 'missing or invalid bearer token in the Authorization header');
}

/** The characters RFC 6750 allows in a bearer token: letters, digits and `-._~+/`, then any `=` padding. */
const BEARER_TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * Returns `value` when it can be sent as a bearer token, undefined when it is
 * unset or empty. Throws ConfigError naming `option` but never quoting the
 * value, because the value is a secret.
 */
export function checkBearerToken(option: string, value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (!BEARER_TOKEN.test(value)) {
    const reason = `${option}: expected letters, digits and -._~+/ only, optionally ending in =`;
    throw new ConfigError(`${option} is invalid: it must consist of letters, digits and -._~+/ only, optionally ending in =`, {
      details: { option, reason },
    });
  }
  return value;
}
