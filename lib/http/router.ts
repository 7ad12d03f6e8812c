/** A small method-and-path router with `:param` segments and 404 and 405 errors. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from '../errors.js';

export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
}

export type RouteHandler = (context: RouteContext) => Promise<void> | void;

interface Route {
  method: string;
  segments: string[];
  handler: RouteHandler;
}

export interface RouteMatch {
  handler: RouteHandler;
  params: Record<string, string>;
}

export class Router {
  private readonly routes: Route[] = [];

  add(method: string, pattern: string, handler: RouteHandler): this {
    this.routes.push({ method, segments: pattern.split('/').filter(Boolean), handler });
    return this;
  }

  /** Lists every `METHOD pattern` pair, for documentation and tests. */
  list(): string[] {
    return this.routes.map((route) => `${route.method} /${route.segments.join('/')}`);
  }

  /**
   * Finds the handler for a request. Throws ROUTE_NOT_FOUND when no pattern
   * matches the path, METHOD_NOT_ALLOWED (with `allow`) when only the method
   * differs, or undefined from `tryMatch` for embedding.
   */
  match(method: string, pathname: string): RouteMatch {
    const found = this.tryMatch(method, pathname);
    if (found) return found;
    const allowed = this.allowedMethods(pathname);
    if (allowed.length > 0) {
      const allow = allowed.join(', ');
      throw new HttpError('METHOD_NOT_ALLOWED', 405, `${method} is not allowed on ${pathname}; allowed: ${allow}`, {
        details: { method, path: pathname, allow },
      });
    }
    throw new HttpError('ROUTE_NOT_FOUND', 404, `no route for ${method} ${pathname}`, { details: { method, path: pathname } });
  }

  tryMatch(method: string, pathname: string): RouteMatch | undefined {
    const parts = splitPath(pathname);
    if (!parts) return undefined;
    for (const route of this.routes) {
      if (route.method !== method) continue;
      const params = matchSegments(route.segments, parts);
      if (params) return { handler: route.handler, params };
    }
    return undefined;
  }

  allowedMethods(pathname: string): string[] {
    const parts = splitPath(pathname);
    if (!parts) return [];
    const methods = this.routes.filter((route) => matchSegments(route.segments, parts)).map((route) => route.method);
    return [...new Set(methods)];
  }
}

function splitPath(pathname: string): string[] | undefined {
  try {
    return pathname.split('/').filter(Boolean).map((part) => decodeURIComponent(part));
  } catch {
    return undefined;
  }
}

function matchSegments(pattern: string[], parts: string[]): Record<string, string> | undefined {
  if (pattern.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const expected = pattern[i]!;
    const actual = parts[i]!;
    if (expected.startsWith(':')) params[expected.slice(1)] = actual;
    else if (expected !== actual) return undefined;
  }
  return params;
}
