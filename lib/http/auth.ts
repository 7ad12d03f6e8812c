/** Bearer-token checks with a constant-time comparison. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { HttpError } from '../errors.js';

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
