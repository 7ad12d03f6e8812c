/**
 * Building blocks of the two OpenAPI 3.1 documents: the envelope, the mount
 * and operation schemas, and the error responses. Each server builds its own
 * document from these (servers/monitor/openapi.ts, servers/dev-proxy/openapi.ts).
 */

/** A JSON Schema object as OpenAPI 3.1 embeds it. */
export type Schema = Record<string, unknown>;

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string };
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, Schema>; responses?: Record<string, unknown>; securitySchemes?: Record<string, unknown> };
  security?: Array<Record<string, string[]>>;
}

/** Version of both API documents; a test keeps it equal to package.json's version. */
export const API_DOCUMENT_VERSION = '0.1.0';

export interface RouteDoc {
  summary: string;
  /** Query parameters beyond Accept-Language. */
  query?: Array<Record<string, unknown>>;
  body?: Schema;
  /** Success responses by status. */
  success: Record<number, Record<string, unknown>>;
  errors: Record<number, string>;
  /** True for routes that need no bearer token. */
  open?: boolean;
}

export const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const string = (description?: string): Schema => (description ? { type: 'string', description } : { type: 'string' });
export const nullable = (schema: Schema): Schema => ({ oneOf: [schema, { type: 'null' }] });

/** Schemas shared by both documents. */
export const sharedSchemas: Record<string, Schema> = {
  MountRequest: {
    type: 'object',
    required: ['user_id', 'workspace_id', 'local_path'],
    additionalProperties: false,
    properties: {
      user_id: string('Letters, digits, `.`, `_` and `-`, starting with a letter or digit.'),
      workspace_id: string('Same pattern as user_id.'),
      local_path: string('Absolute, normalised host path of a folder, outside the deny list and inside the allow list where one is set.'),
      description: { type: ['string', 'null'], description: 'At most 500 characters. Default: empty.' },
      read_only: { type: ['boolean', 'null'], description: 'Mount read-only. Default: false.' },
    },
  },
  MountFailure: {
    type: 'object',
    required: ['code', 'message'],
    additionalProperties: false,
    properties: {
      code: string('Error code, as in the error envelope.'),
      message: string('English message.'),
      step: string('Recreate step the failure came from.'),
      details: { type: 'object', description: 'Facts of the error (path, daemon message, status), for rendering the message in another language.' },
    },
  },
  Mount: {
    type: 'object',
    required: ['user_id', 'workspace_id', 'local_path', 'container_path', 'description', 'read_only', 'created_at', 'updated_at', 'state'],
    additionalProperties: false,
    properties: {
      user_id: string(),
      workspace_id: string(),
      local_path: string(),
      container_path: string('`WORKSPACE_ROOT/<user_id>/<workspace_id>` inside the development container.'),
      description: string(),
      read_only: { type: 'boolean' },
      created_at: string('ISO 8601 time of the first request for this user and workspace.'),
      updated_at: string('ISO 8601 time of the last change to the request content.'),
      state: { type: 'string', enum: ['applied', 'pending', 'failed'] },
      error: ref('MountFailure'),
    },
  },
  OperationSummary: {
    type: 'object',
    required: ['id', 'kind', 'state'],
    additionalProperties: false,
    properties: {
      id: string('`op_` and 12 hex digits; follow it with GET operations/{id}.'),
      kind: { type: 'string', enum: ['apply', 'restart'] },
      state: { type: 'string', enum: ['queued', 'running', 'succeeded', 'failed'] },
    },
  },
  OperationResult: {
    type: 'object',
    required: ['recreated', 'restarted', 'mounts_applied', 'mounts_failed', 'warnings'],
    additionalProperties: false,
    properties: {
      recreated: { type: 'boolean' },
      restarted: { type: 'boolean' },
      container_id: string(),
      downtime_ms: { type: 'number' },
      ready_ms: { type: 'number' },
      mounts_applied: { type: 'integer' },
      mounts_failed: { type: 'integer' },
      compose_error: ref('MountFailure'),
      warnings: { type: 'array', items: { type: 'string' } },
    },
  },
  Operation: {
    type: 'object',
    required: ['id', 'kind', 'state', 'steps', 'created_at'],
    additionalProperties: false,
    properties: {
      id: string(),
      kind: { type: 'string', enum: ['apply', 'restart'] },
      state: { type: 'string', enum: ['queued', 'running', 'succeeded', 'failed'] },
      step: string('The step running now, or the step a failure came from.'),
      steps: {
        type: 'array',
        items: {
          type: 'object',
          required: ['step', 'at_ms'],
          additionalProperties: false,
          properties: { step: string(), at_ms: { type: 'number', description: 'Milliseconds since the operation started running.' } },
        },
      },
      created_at: string(),
      started_at: string(),
      finished_at: string(),
      duration_ms: { type: 'number' },
      result: ref('OperationResult'),
      error: ref('MountFailure'),
    },
  },
  MountChange: {
    type: 'object',
    required: ['mount', 'operation'],
    additionalProperties: false,
    properties: {
      mount: ref('Mount'),
      operation: {
        description: 'The apply that carries the change; null when nothing changed or when the proxy recorded the change itself.',
        oneOf: [ref('OperationSummary'), ref('Operation'), { type: 'null' }],
      },
    },
  },
  MountList: {
    type: 'object',
    required: ['revision', 'mounts'],
    additionalProperties: false,
    properties: { revision: { type: 'integer', description: 'Store revision; grows with every change.' }, mounts: { type: 'array', items: ref('Mount') } },
  },
  ErrorEnvelope: {
    type: 'object',
    required: ['success', 'message', 'data', 'code'],
    additionalProperties: false,
    properties: {
      success: { type: 'boolean', enum: [false] },
      message: string('Localized with Accept-Language: zh-CN (the default) or en.'),
      data: { description: 'Details of the error (field, path, reason), the mount and operation of a failed wait, or null.' },
      code: { type: 'string', pattern: '^[A-Z][A-Z0-9_]*$', description: 'Stable UPPER_SNAKE error code, such as MOUNT_NOT_FOUND; branch on it, never on message.' },
    },
  },
};

/** Builds the schema of a success envelope whose `data` follows the given schema. */
export function envelope(data: Schema): Schema {
  return {
    type: 'object',
    required: ['success', 'message', 'data'],
    additionalProperties: false,
    properties: { success: { type: 'boolean', enum: [true] }, message: string('Localized with Accept-Language.'), data },
  };
}

export const objectWith = (properties: Record<string, Schema>, required = Object.keys(properties)): Schema => ({
  type: 'object',
  required,
  additionalProperties: false,
  properties,
});

/** Builds a JSON response entry for a responses object. */
export function jsonResponse(description: string, schema: Schema): Record<string, unknown> {
  return { description, content: { 'application/json': { schema } } };
}

/** Error responses by status, each with the error envelope, described by the codes it may carry. */
export function errorResponses(statuses: Record<number, string>): Record<string, unknown> {
  const responses: Record<string, unknown> = {};
  for (const [status, description] of Object.entries(statuses)) responses[status] = jsonResponse(description, ref('ErrorEnvelope'));
  responses.default = jsonResponse('Any other error, in the error envelope: INTERNAL_ERROR (500) and the like.', ref('ErrorEnvelope'));
  return responses;
}

/** Converts a router pattern (`/api/mounts/:userId`) to an OpenAPI path (`/api/mounts/{userId}`). */
export function openApiPath(pattern: string): string {
  return pattern.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');
}

/** Path parameters of a router pattern, each a required string. */
export function pathParameters(pattern: string): Array<Record<string, unknown>> {
  return [...pattern.matchAll(/:([A-Za-z_][A-Za-z0-9_]*)/g)].map((match) => ({ name: match[1], in: 'path', required: true, schema: { type: 'string' } }));
}

export const acceptLanguage = {
  name: 'Accept-Language',
  in: 'header',
  required: false,
  description: 'Language of `message`: `en` for English; Chinese (zh-CN) otherwise, unless the server is set to English.',
  schema: { type: 'string' },
};

/** Builds the OpenAPI path item of each documented route. */
export function buildPaths(routes: Record<string, RouteDoc>): OpenApiDocument['paths'] {
  const paths: OpenApiDocument['paths'] = {};
  for (const [key, doc] of Object.entries(routes)) {
    const [method = '', pattern = ''] = key.split(' ');
    const operation: Record<string, unknown> = {
      summary: doc.summary,
      parameters: [...pathParameters(pattern), ...(doc.query ?? []), acceptLanguage],
      responses: { ...Object.fromEntries(Object.entries(doc.success)), ...errorResponses(doc.errors) },
    };
    if (doc.body) operation.requestBody = { required: true, content: { 'application/json': { schema: doc.body } } };
    if (doc.open) operation.security = [];
    const path = openApiPath(pattern);
    paths[path] = { ...paths[path], [method.toLowerCase()]: operation };
  }
  return paths;
}
