/** The monitor's OpenAPI 3.1 document; test/unit/openapi.test.ts checks it against the router and real responses. */
import {
  API_DOCUMENT_VERSION, buildPaths, envelope, jsonResponse, nullable, objectWith, ref, sharedSchemas, type OpenApiDocument, type RouteDoc,
} from '../common/openapi.js';

const waitParameter = {
  name: 'wait',
  in: 'query',
  required: false,
  description: '`true` waits for the apply and responds with its final result (200, or the error of the failed apply).',
  schema: { type: 'string', enum: ['true', 'false'] },
};

const mountChange = (accepted: string, applied: string) => ({
  200: jsonResponse(`${applied}, or nothing changed (operation null).`, envelope(ref('MountChange'))),
  202: jsonResponse(accepted, envelope(ref('MountChange'))),
});

const authErrors = { 401: 'UNAUTHORIZED: MONITOR_TOKEN is set and the request has no matching bearer token.' };
const applyErrors = {
  400: 'BIND_SOURCE_MISSING or BIND_SOURCE_NOT_DIRECTORY: at once when HOST_ROOT is set, else with wait=true.',
  429: 'TOO_MANY_REQUESTS: more mutations in flight than MAX_MUTATIONS_IN_FLIGHT; retry after the Retry-After seconds.',
  409: 'With wait=true: RECREATE_REFUSED.',
  502: 'With wait=true: RECREATE_FAILED, ENGINE_ERROR and other failures of the apply.',
  503: 'DOCKER_UNAVAILABLE with wait=true, or STORE_LOCK_TIMEOUT.',
};

const operationSlot = nullable(ref('OperationSummary'));
const healthData = objectWith(
  {
    status: { type: 'string', enum: ['ok'] },
    docker: objectWith(
      { host: { type: 'string' }, reachable: { type: 'boolean' }, api_version: { type: 'string' }, error_code: { type: 'string' } },
      ['host', 'reachable'],
    ),
    container: objectWith(
      { name: { type: 'string' }, id: { type: 'string' }, state: { type: 'string' }, health: { type: ['string', 'null'] } },
      ['name', 'state'],
    ),
    operations: objectWith({ running: operationSlot, queued: operationSlot }),
  },
);
const statsData = objectWith({
  container: objectWith({ id: { type: 'string' }, name: { type: 'string' }, state: { type: 'object' }, image: { type: 'string' }, image_ref: { type: 'string' } }),
  mounts: { type: 'array', items: { type: 'object' }, description: 'The Mounts of the container inspect, as the Engine returns them.' },
  drift: objectWith({ missing: { type: 'array', items: ref('Mount') }, extra: { type: 'array', items: { type: 'object' } } }),
  store_revision: { type: 'integer' },
  operations: objectWith({ running: ref('Operation'), queued: ref('Operation') }, []),
  watchdog: {
    type: ['object', 'null'],
    description: 'Restart counters of the container watchdog, or null when the monitor runs without one.',
  },
}, ['container', 'mounts', 'drift', 'store_revision', 'operations']);

/** Documentation of every route the monitor's router serves, keyed by `METHOD pattern` as Router.list() returns them. */
export const MONITOR_ROUTES: Record<string, RouteDoc> = {
  'GET /api/health': {
    summary: 'Liveness, Docker reachability and the development container state; 200 while the process serves.',
    success: { 200: jsonResponse('The monitor serves; see docker.reachable and container.state.', envelope(healthData)) },
    errors: {},
    open: true,
  },
  'GET /api/openapi.json': {
    summary: 'This document.',
    success: { 200: jsonResponse('The OpenAPI 3.1 document of the monitor.', { type: 'object' }) },
    errors: {},
    open: true,
  },
  'GET /metrics': {
    summary: 'Prometheus metrics in the text format 0.0.4.',
    success: { 200: { description: 'The metrics.', content: { 'text/plain; version=0.0.4': { schema: { type: 'string' } } } } },
    errors: authErrors,
  },
  'GET /api/mounts': {
    summary: 'All mounts with their state.',
    success: { 200: jsonResponse('The mounts at one store revision.', envelope(ref('MountList'))) },
    errors: { ...authErrors, 500: 'STORE_CORRUPT or STORE_IO.' },
  },
  'GET /api/mounts/:userId/:workspaceId': {
    summary: 'One mount.',
    success: { 200: jsonResponse('The mount.', envelope(objectWith({ mount: ref('Mount') }))) },
    errors: { ...authErrors, 400: 'INVALID_USER_ID or INVALID_WORKSPACE_ID.', 404: 'MOUNT_NOT_FOUND.' },
  },
  'POST /api/mounts': {
    summary: 'Add or replace a mount, then apply it.',
    query: [waitParameter],
    body: ref('MountRequest'),
    success: mountChange('The mount is saved and an apply carries it.', 'With wait=true: the mount is applied'),
    errors: {
      ...authErrors,
      ...applyErrors,
      400: 'INVALID_JSON, INVALID_FIELD, UNKNOWN_FIELD, DUPLICATE_FIELD, MISSING_FIELD, INVALID_USER_ID, INVALID_WORKSPACE_ID, INVALID_LOCAL_PATH, INVALID_DESCRIPTION, INVALID_READ_ONLY; BIND_SOURCE_MISSING or BIND_SOURCE_NOT_DIRECTORY at once with HOST_ROOT, else with wait=true.',
      403: 'PATH_NOT_ALLOWED.',
      413: 'BODY_TOO_LARGE.',
      415: 'UNSUPPORTED_MEDIA_TYPE.',
    },
  },
  'DELETE /api/mounts/:userId/:workspaceId': {
    summary: 'Remove a mount, then apply the change.',
    query: [waitParameter],
    success: mountChange('The mount is removed from the store and an apply carries the change.', 'With wait=true: the change is applied'),
    errors: { ...authErrors, ...applyErrors, 404: 'MOUNT_NOT_FOUND.' },
  },
  'POST /api/restart': {
    summary: 'Restart the development container, recreating it when its mounts drifted.',
    query: [waitParameter],
    success: {
      200: jsonResponse('With wait=true: the container was restarted.', envelope(objectWith({ operation: ref('Operation') }))),
      202: jsonResponse('The restart started.', envelope(objectWith({ operation: ref('OperationSummary') }))),
    },
    errors: { ...authErrors, ...applyErrors },
  },
  'GET /api/operations/:id': {
    summary: 'Progress and result of an apply or restart; the monitor keeps the last 500 in memory.',
    success: { 200: jsonResponse('The operation.', envelope(objectWith({ operation: ref('Operation') }))) },
    errors: { ...authErrors, 404: 'OPERATION_NOT_FOUND.' },
  },
  'GET /api/debug/stats': {
    summary: 'Container id, state, image, actual mounts and drift; only with DEBUG_MODE=1.',
    success: { 200: jsonResponse('The container state.', envelope(statsData)) },
    errors: { ...authErrors, 403: 'DEBUG_DISABLED.', 404: 'CONTAINER_NOT_FOUND.', 503: 'DOCKER_UNAVAILABLE.' },
  },
  'POST /api/debug/apply': {
    summary: 'Sync the compose file from the store and apply now; only with DEBUG_MODE=1.',
    success: { 202: jsonResponse('The apply started.', envelope(objectWith({ operation: ref('OperationSummary') }))) },
    errors: { ...authErrors, 403: 'DEBUG_DISABLED.' },
  },
};

/** Builds the monitor's OpenAPI document. */
export function buildMonitorOpenApi(): OpenApiDocument {
  return {
    openapi: '3.1.0',
    info: {
      title: 'mount-core monitor',
      version: API_DOCUMENT_VERSION,
      description:
        'Owns the host-folder mounts of the development container and recreates it through the Docker Engine API. ' +
        'Every JSON response is the envelope { success, message, data }, and errors add a stable code.',
    },
    paths: buildPaths(MONITOR_ROUTES),
    components: {
      schemas: sharedSchemas,
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'Required on every route but health and this document when MONITOR_TOKEN is set.' } },
    },
    security: [{ bearer: [] }],
  };
}
