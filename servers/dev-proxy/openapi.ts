/** The development-container proxy's OpenAPI 3.1 document: the original mount API, forwarded to the monitor. */
import {
  API_DOCUMENT_VERSION, buildPaths, envelope, jsonResponse, objectWith, ref, sharedSchemas, type OpenApiDocument, type RouteDoc,
} from '../common/openapi.js';

const unavailable = {
  503: 'MONITOR_UNAVAILABLE: the monitor could not be reached; data.url names the URL the proxy tried. ' +
    'Also any 503 the monitor returned (DOCKER_UNAVAILABLE, STORE_LOCK_TIMEOUT).',
};
const unauthorized = {
  401: "UNAUTHORIZED: the proxy's own token (PROXY_TOKEN) is set and missing from the request, or the monitor rejected the proxy's MONITOR_TOKEN.",
};
const forwarded = (statuses: Record<number, string>) => ({ ...unauthorized, ...statuses, ...unavailable });
const fallbackNote = ' With MONITOR_API_FALLBACK=1 and the monitor unreachable, the proxy answers from the shared store.';
const readNote =
  ' With MONITOR_API_FALLBACK=1 the proxy serves this read from the shared store at all times (the file the monitor serves it from), unless PROXY_STORE_READS=0 or the store is still at revision 0.';

/** Documentation of every proxy route, keyed by `METHOD pattern` below the prefix. */
export const DEV_PROXY_ROUTES: Record<string, RouteDoc> = {
  'GET /test-monitor': {
    summary: 'Check that the monitor answers its health route.',
    success: {
      200: jsonResponse('The monitor is reachable.', envelope(objectWith({ api_url: { type: 'string' }, status: { type: 'string', enum: ['connected'] } }))),
    },
    errors: {},
    open: true,
  },
  'GET /openapi.json': {
    summary: 'This document.',
    success: { 200: jsonResponse('The OpenAPI 3.1 document of the proxy.', { type: 'object' }) },
    errors: {},
    open: true,
  },
  'POST /mount': {
    summary: `Add or replace a mount (monitor: POST /api/mounts).${fallbackNote}`,
    body: ref('MountRequest'),
    success: {
      200: jsonResponse('Nothing changed.', envelope(ref('MountChange'))),
      202: jsonResponse('The mount is saved; the operation, null in fallback, carries it.', envelope(ref('MountChange'))),
    },
    errors: forwarded({
      400: 'INVALID_JSON, INVALID_FIELD, UNKNOWN_FIELD, MISSING_FIELD, INVALID_USER_ID, INVALID_WORKSPACE_ID, INVALID_LOCAL_PATH, INVALID_DESCRIPTION, INVALID_READ_ONLY.',
      403: 'PATH_NOT_ALLOWED.',
      413: 'BODY_TOO_LARGE.',
      415: 'UNSUPPORTED_MEDIA_TYPE.',
    }),
  },
  'GET /mounts': {
    summary: `All mounts with their state (monitor: GET /api/mounts).${readNote}`,
    success: { 200: jsonResponse('The mounts at one store revision.', envelope(ref('MountList'))) },
    errors: forwarded({}),
  },
  'GET /mount/:userId/:workspaceId': {
    summary: `One mount (monitor: GET /api/mounts/{userId}/{workspaceId}).${readNote}`,
    success: { 200: jsonResponse('The mount.', envelope(objectWith({ mount: ref('Mount') }))) },
    errors: forwarded({ 400: 'INVALID_USER_ID or INVALID_WORKSPACE_ID.', 404: 'MOUNT_NOT_FOUND.' }),
  },
  'DELETE /mount/:userId/:workspaceId': {
    summary: `Remove a mount (monitor: DELETE /api/mounts/{userId}/{workspaceId}).${fallbackNote}`,
    success: { 202: jsonResponse('The mount is removed; the operation, null in fallback, carries the change.', envelope(ref('MountChange'))) },
    errors: forwarded({ 400: 'INVALID_USER_ID or INVALID_WORKSPACE_ID.', 404: 'MOUNT_NOT_FOUND.' }),
  },
  'POST /restart': {
    summary: 'Restart the development container (monitor: POST /api/restart). The proxy runs inside it, so its connection drops meanwhile.',
    success: { 202: jsonResponse('The restart started.', envelope(objectWith({ operation: ref('OperationSummary') }))) },
    errors: forwarded({}),
  },
  'GET /operations/:id': {
    summary: 'Progress and result of an apply or restart (monitor: GET /api/operations/{id}).',
    success: { 200: jsonResponse('The operation.', envelope(objectWith({ operation: ref('Operation') }))) },
    errors: forwarded({ 404: 'OPERATION_NOT_FOUND.' }),
  },
};

/** Builds the proxy's OpenAPI document for routes below `prefix` (default `/api/mounts`). */
export function buildDevProxyOpenApi(prefix = '/api/mounts'): OpenApiDocument {
  const routes = Object.fromEntries(Object.entries(DEV_PROXY_ROUTES).map(([key, doc]) => [key.replace(' /', ` ${prefix}/`), doc]));
  const paths = buildPaths(routes);
  // The health check returns 503 with its own data, not the error details.
  const disconnected = envelope(objectWith({ api_url: { type: 'string' }, status: { type: 'string', enum: ['disconnected'] } }));
  const health = paths[`${prefix}/test-monitor`]!.get as { responses: Record<string, unknown> };
  health.responses['503'] = jsonResponse('The monitor is not reachable or not healthy (code MONITOR_UNAVAILABLE).', {
    ...disconnected,
    required: ['success', 'message', 'data', 'code'],
    properties: { ...(disconnected.properties as object), success: { type: 'boolean', enum: [false] }, code: { type: 'string', enum: ['MONITOR_UNAVAILABLE'] } },
  });
  return {
    openapi: '3.1.0',
    info: {
      title: 'mount-core development-container proxy',
      version: API_DOCUMENT_VERSION,
      description:
        "The development container's original mount API, forwarded to the monitor. Responses use the monitor's envelope " +
        '{ success, message, data }, and errors add a stable code.',
    },
    paths,
    components: {
      schemas: sharedSchemas,
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'Required on every route but test-monitor and this document when the proxy has a token of its own (PROXY_TOKEN).' },
      },
    },
    security: [{ bearer: [] }],
  };
}
