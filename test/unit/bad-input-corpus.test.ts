/**
 * A corpus of bad requests sent to three targets that share one store:
 * - the monitor handler, with a real MountStore and a real copy of
 *   docker-compose.dev.yml in a temp folder, HOST_ROOT on a temp folder that
 *   plays the host, and a DockerClient whose socket does not exist;
 * - the proxy handler in fallback mode, its monitor port closed, so its own
 *   validation judges each request;
 * - the proxy handler forwarding to that monitor.
 * Each request must get its 4xx status and code. After each one the store
 * and the compose file are byte-identical, the Reconciler got no request, no
 * Engine request was made, and no reply contains a token, a stack trace or
 * text from the compose file. A health check follows each group.
 */
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { syncComposeFile } from '../../lib/compose/index.js';
import { DockerClient, ENGINE_CHANNEL_NAME } from '../../lib/docker/index.js';
import { Reconciler } from '../../lib/reconciler/reconciler.js';
import { MountStore } from '../../lib/store/index.js';
import { checkHostFolder, createHostPathPolicy, createHostRoot, managedTargetTest } from '../../lib/validation/index.js';
import { createLogger } from '../../servers/common/log.js';
import { createDevProxyHandler, type DevProxyHandler } from '../../servers/dev-proxy/handler.js';
import { createMonitorHandler } from '../../servers/monitor/app.js';
import { loadMonitorConfig } from '../../servers/monitor/config.js';
import { freePort, REPO_ROOT } from '../helpers/stack.js';
import { sendRaw as send } from '../helpers/http.js';

const MONITOR_TOKEN = 'corpus-monitor-token-5d1e';
const PROXY_TOKEN = 'corpus-proxy-token-9b7c';
const ALLOWED = '/home/dev/projects';

type Target = 'monitor' | 'proxy-fallback' | 'proxy-forward';
const TARGETS: readonly Target[] = ['monitor', 'proxy-fallback', 'proxy-forward'];

/** Routes of the monitor API, and the same route on the proxy. */
type RouteName = 'save' | 'get' | 'remove' | 'list' | 'restart' | 'operation';

interface Row {
  name: string;
  /** A named route with `segments` appended, or a raw path pair. */
  route: RouteName | { monitor: string; proxy: string };
  method?: string;
  /** Path segments after the route, written exactly as sent (already percent-encoded where needed). */
  segments?: string[];
  /** A string or Buffer is sent as is; anything else as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Send no Authorization header, or a given one instead of the target's token. */
  authorization?: string | null;
  status: number;
  /** Expected error code; undefined for HEAD, whose replies have no body. */
  code: string | undefined;
  /** Expected `details.reason`, where it matters. */
  reason?: string;
  /** Expected Allow header of a 405. */
  allow?: Partial<Record<Target, string>>;
  /** Targets the row applies to. Default: all three. */
  only?: Target[];
}

const MONITOR_ROUTES: Record<RouteName, [string, string]> = {
  save: ['POST', '/api/mounts'],
  get: ['GET', '/api/mounts'],
  remove: ['DELETE', '/api/mounts'],
  list: ['GET', '/api/mounts'],
  restart: ['POST', '/api/restart'],
  operation: ['GET', '/api/operations'],
};
const PROXY_ROUTES: Record<RouteName, [string, string]> = {
  save: ['POST', '/api/mounts/mount'],
  get: ['GET', '/api/mounts/mount'],
  remove: ['DELETE', '/api/mounts/mount'],
  list: ['GET', '/api/mounts/mounts'],
  restart: ['POST', '/api/mounts/restart'],
  operation: ['GET', '/api/mounts/operations'],
};

/** A valid new mount; each row breaks one part of it. */
const NEW_MOUNT = { user_id: 'u2', workspace_id: 'ws2', local_path: `${ALLOWED}/b` };
const JSON_TYPE = { 'content-type': 'application/json' };

const save = (name: string, patch: Record<string, unknown>, status: number, code: string, extra: Partial<Row> = {}): Row => ({
  name,
  route: 'save',
  body: { ...NEW_MOUNT, ...patch },
  status,
  code,
  ...extra,
});
const saveRaw = (name: string, body: string | Buffer, status: number, code: string, extra: Partial<Row> = {}): Row => ({ name, route: 'save', body, status, code, ...extra });
const path = (name: string, route: 'get' | 'remove', userId: string, workspaceId: string, status: number, code: string, extra: Partial<Row> = {}): Row => ({
  name,
  route,
  segments: [userId, workspaceId],
  status,
  code,
  ...extra,
});
const local = (name: string, localPath: unknown, status: number, code: string, extra: Partial<Row> = {}) => save(name, { local_path: localPath }, status, code, extra);
const hostView: Target[] = ['monitor', 'proxy-forward'];

const GROUPS: Record<string, Row[]> = {
  'K02 missing folder and file': [
    local('missing folder', `${ALLOWED}/does-not-exist`, 400, 'BIND_SOURCE_MISSING', { only: hostView }),
    local('missing parent', `${ALLOWED}/nope/deeper`, 400, 'BIND_SOURCE_MISSING', { only: hostView }),
    local('regular file', `${ALLOWED}/notes.txt`, 400, 'BIND_SOURCE_NOT_DIRECTORY', { only: hostView }),
    local('file used as folder', `${ALLOWED}/notes.txt/sub`, 400, 'BIND_SOURCE_MISSING', { only: hostView }),
    local('dangling symlink', `${ALLOWED}/dangling`, 400, 'BIND_SOURCE_MISSING', { only: hostView }),
    local('symlink to etc', `${ALLOWED}/to-etc`, 403, 'PATH_NOT_ALLOWED', { only: hostView, reason: 'denied' }),
    local('symlink climbing out', `${ALLOWED}/climb`, 403, 'PATH_NOT_ALLOWED', { only: hostView, reason: 'denied' }),
    local('symlink to socket', `${ALLOWED}/sock`, 403, 'PATH_NOT_ALLOWED', { only: hostView, reason: 'denied' }),
    local('symlink outside allow', `${ALLOWED}/sideways`, 403, 'PATH_NOT_ALLOWED', { only: hostView, reason: 'outside_allow' }),
    local('symlink loop', `${ALLOWED}/loop-a`, 400, 'INVALID_LOCAL_PATH', { only: hostView, reason: 'symlink_loop' }),
    local('percent dots are a name', `${ALLOWED}/%2e%2e/etc`, 400, 'BIND_SOURCE_MISSING', { only: hostView }),
  ],
  'K04 windows forms': [
    local('backslash drive', 'C:\\Users\\dev\\proj', 400, 'INVALID_LOCAL_PATH', { reason: 'windows_path' }),
    local('slash drive', 'C:/Users/dev/proj', 400, 'INVALID_LOCAL_PATH', { reason: 'windows_path' }),
    local('git bash form', '/c/Users/dev/proj', 403, 'PATH_NOT_ALLOWED', { reason: 'outside_allow' }),
    local('wsl form', '/mnt/c/Users/dev/proj', 403, 'PATH_NOT_ALLOWED', { reason: 'outside_allow' }),
    local('lower-case drive', 'c:\\users\\dev\\proj', 400, 'INVALID_LOCAL_PATH', { reason: 'windows_path' }),
    local('drive only', 'C:', 400, 'INVALID_LOCAL_PATH', { reason: 'windows_path' }),
    local('drive-relative', 'C:proj', 400, 'INVALID_LOCAL_PATH', { reason: 'windows_path' }),
    local('UNC share', '\\\\server\\share\\proj', 400, 'INVALID_LOCAL_PATH', { reason: 'windows_path' }),
    local('device path', '\\\\.\\pipe\\docker_engine', 400, 'INVALID_LOCAL_PATH', { reason: 'windows_path' }),
    local('backslash inside allow', `${ALLOWED}\\..\\..\\etc`, 403, 'PATH_NOT_ALLOWED', { reason: 'outside_allow' }),
  ],
  'K05 traversal and ids': [
    local('dot-dot escape', `${ALLOWED}/../../../etc`, 400, 'INVALID_LOCAL_PATH', { reason: 'traversal' }),
    local('dot-dot at end', `${ALLOWED}/..`, 400, 'INVALID_LOCAL_PATH', { reason: 'traversal' }),
    local('escaped dot-dot', `${ALLOWED}/\u002e\u002e/\u002e\u002e/etc`, 400, 'INVALID_LOCAL_PATH', { reason: 'traversal' }),
    local('sibling prefix', '/home/dev/projects-secrets', 403, 'PATH_NOT_ALLOWED', { reason: 'outside_allow' }),
    local('parent of allow', '/home/dev', 403, 'PATH_NOT_ALLOWED', { reason: 'outside_allow' }),
    local('relative path', 'home/dev/projects/a', 400, 'INVALID_LOCAL_PATH', { reason: 'not_absolute' }),
    local('tilde path', '~/projects', 400, 'INVALID_LOCAL_PATH', { reason: 'not_absolute' }),
    local('dot path', './a', 400, 'INVALID_LOCAL_PATH', { reason: 'not_absolute' }),
    save('user_id dot-dot', { user_id: '..' }, 400, 'INVALID_USER_ID', { reason: 'dot_segment' }),
    save('user_id dot', { user_id: '.' }, 400, 'INVALID_USER_ID', { reason: 'dot_segment' }),
    save('user_id with traversal', { user_id: 'u1/../../etc' }, 400, 'INVALID_USER_ID', { reason: 'bad_characters' }),
    save('user_id with slash', { user_id: 'u1/x' }, 400, 'INVALID_USER_ID'),
    save('user_id with backslash', { user_id: 'u1\\x' }, 400, 'INVALID_USER_ID'),
    save('workspace_id with yaml', { workspace_id: 'ws\n    - /:/host' }, 400, 'INVALID_WORKSPACE_ID', { reason: 'control_characters' }),
    save('workspace_id with CRLF', { workspace_id: 'ws\r\nx' }, 400, 'INVALID_WORKSPACE_ID'),
    save('workspace_id with colon', { workspace_id: 'ws:/etc' }, 400, 'INVALID_WORKSPACE_ID'),
    save('workspace_id with variable', { workspace_id: '${HOME}' }, 400, 'INVALID_WORKSPACE_ID'),
    save('workspace_id with NUL', { workspace_id: 'ws\u0000' }, 400, 'INVALID_WORKSPACE_ID', { reason: 'control_characters' }),
    save('workspace_id with space', { workspace_id: 'ws 1' }, 400, 'INVALID_WORKSPACE_ID'),
    save('workspace_id leading hyphen', { workspace_id: '-ws' }, 400, 'INVALID_WORKSPACE_ID'),
    save('workspace_id hidden', { workspace_id: '.ws' }, 400, 'INVALID_WORKSPACE_ID'),
    path('path user dot-dot', 'get', '..%2F..%2Fetc', 'ws1', 400, 'INVALID_USER_ID'),
    path('path encoded slash', 'remove', 'u1%2F..', 'ws1', 400, 'INVALID_USER_ID'),
    path('path NUL', 'remove', 'u1', 'ws1%00', 400, 'INVALID_WORKSPACE_ID'),
    path('path newline', 'get', 'u1', 'ws1%0Ax', 400, 'INVALID_WORKSPACE_ID'),
    path('path space', 'remove', 'u%201', 'ws1', 400, 'INVALID_USER_ID'),
    path('path backslash', 'get', 'u1%5C..', 'ws1', 400, 'INVALID_USER_ID'),
  ],
  'K06 system folders': [
    ...['/', '/var/run/docker.sock', '/var/run', '/run', '/etc', '/root', '/var/lib/docker', '/proc'].map((p) =>
      local(`system ${p}`, p, 403, 'PATH_NOT_ALLOWED', { reason: 'denied' }),
    ),
    ...['/etc/', '//etc', '/./etc', '/etc/.', '/proc/self/root', '/sys/kernel', '/dev/sda', '/boot', '/usr/local', '/bin', '/sbin', '/lib', '/lib64',
      '/var/lib/docker/volumes/x/_data', '/run/docker.sock', '/var', '/var/lib', '/var/lib/containerd', '/root/.ssh', '/run/user/1000/docker.sock',
    ].map((p) => local(`system ${p}`, p, 403, 'PATH_NOT_ALLOWED', { reason: 'denied' })),
  ],
  'K07 targets': [
    save('workspace_id trailing slash', { workspace_id: 'ws1/' }, 400, 'INVALID_WORKSPACE_ID'),
    save('user_id trailing slash', { user_id: 'u1/' }, 400, 'INVALID_USER_ID'),
    save('workspace_id dot segment suffix', { workspace_id: 'ws1/.' }, 400, 'INVALID_WORKSPACE_ID'),
    save('workspace_id as path', { workspace_id: 'ws1/sub' }, 400, 'INVALID_WORKSPACE_ID'),
    path('get missing with trailing slash', 'get', 'u1', 'nope/', 404, 'MOUNT_NOT_FOUND'),
    path('delete missing with trailing slash', 'remove', 'u1', 'nope/', 404, 'MOUNT_NOT_FOUND'),
    path('delete missing', 'remove', 'u9', 'ws9', 404, 'MOUNT_NOT_FOUND'),
    path('get missing', 'get', 'u9', 'ws9', 404, 'MOUNT_NOT_FOUND'),
    path('case differs', 'get', 'U1', 'WS1', 404, 'MOUNT_NOT_FOUND'),
  ],
  'malformed JSON': [
    saveRaw('truncated object', '{"user_id":"u2"', 400, 'INVALID_JSON'),
    saveRaw('missing value', '{"user_id":}', 400, 'INVALID_JSON'),
    saveRaw('single quotes', "{'user_id':'u2'}", 400, 'INVALID_JSON'),
    saveRaw('trailing comma', '{"user_id":"u2",}', 400, 'INVALID_JSON'),
    saveRaw('comment', '{"user_id":"u2" /* c */}', 400, 'INVALID_JSON'),
    saveRaw('unquoted key', '{user_id:"u2"}', 400, 'INVALID_JSON'),
    saveRaw('NaN', '{"read_only":NaN}', 400, 'INVALID_JSON'),
    saveRaw('two values', '{}{}', 400, 'INVALID_JSON'),
    saveRaw('whitespace only', '   \n', 400, 'INVALID_JSON'),
    saveRaw('bare word', 'null-ish', 400, 'INVALID_JSON'),
    saveRaw('invalid UTF-8', Buffer.concat([Buffer.from('{"user_id":"u'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]), 400, 'INVALID_JSON'),
    saveRaw('UTF-16 body', Buffer.from(JSON.stringify(NEW_MOUNT), 'utf16le'), 400, 'INVALID_JSON'),
    saveRaw('form body', 'user_id=u2&workspace_id=ws2', 400, 'INVALID_JSON'),
    saveRaw('array top level', JSON.stringify([NEW_MOUNT]), 400, 'INVALID_FIELD'),
    saveRaw('string top level', '"u2"', 400, 'INVALID_FIELD'),
    saveRaw('number top level', '42', 400, 'INVALID_FIELD'),
    saveRaw('null top level', 'null', 400, 'INVALID_FIELD'),
    saveRaw('empty body', '', 400, 'INVALID_FIELD'),
    saveRaw('duplicate local_path', `{"user_id":"u2","workspace_id":"ws2","local_path":"${ALLOWED}/b","local_path":"/etc"}`, 400, 'DUPLICATE_FIELD'),
    saveRaw('duplicate by escape', `{"user_id":"u2","\\u0075ser_id":"u3","workspace_id":"ws2","local_path":"${ALLOWED}/b"}`, 400, 'DUPLICATE_FIELD'),
    saveRaw('proto key', `{"__proto__":{"isAdmin":true},"user_id":"u2","workspace_id":"ws2","local_path":"${ALLOWED}/b"}`, 400, 'UNKNOWN_FIELD'),
    saveRaw('constructor key', `{"constructor":{"prototype":{"x":1}},"user_id":"u2","workspace_id":"ws2","local_path":"${ALLOWED}/b"}`, 400, 'UNKNOWN_FIELD'),
    saveRaw('deep nesting', `${'['.repeat(4000)}${']'.repeat(4000)}`, 400, 'INVALID_FIELD'),
  ],
  'wrong types': [
    save('user_id number', { user_id: 7 }, 400, 'INVALID_USER_ID', { reason: 'not_string' }),
    save('user_id boolean', { user_id: true }, 400, 'INVALID_USER_ID'),
    save('user_id array', { user_id: ['u2'] }, 400, 'INVALID_USER_ID'),
    save('user_id object', { user_id: { id: 'u2' } }, 400, 'INVALID_USER_ID'),
    save('user_id null', { user_id: null }, 400, 'MISSING_FIELD'),
    save('user_id empty', { user_id: '' }, 400, 'INVALID_USER_ID', { reason: 'missing' }),
    save('workspace_id number', { workspace_id: 2 }, 400, 'INVALID_WORKSPACE_ID'),
    save('workspace_id missing', { workspace_id: undefined }, 400, 'MISSING_FIELD'),
    save('local_path number', { local_path: 1 }, 400, 'INVALID_LOCAL_PATH', { reason: 'not_string' }),
    save('local_path array', { local_path: [`${ALLOWED}/b`] }, 400, 'INVALID_LOCAL_PATH'),
    save('local_path object', { local_path: { path: `${ALLOWED}/b` } }, 400, 'INVALID_LOCAL_PATH'),
    save('local_path missing', { local_path: undefined }, 400, 'MISSING_FIELD'),
    save('local_path empty', { local_path: '' }, 400, 'INVALID_LOCAL_PATH', { reason: 'missing' }),
    save('read_only string', { read_only: 'true' }, 400, 'INVALID_READ_ONLY'),
    save('read_only number', { read_only: 1 }, 400, 'INVALID_READ_ONLY'),
    save('read_only string false', { read_only: 'false' }, 400, 'INVALID_READ_ONLY'),
    save('description number', { description: 5 }, 400, 'INVALID_DESCRIPTION'),
    save('description object', { description: { text: 'x' } }, 400, 'INVALID_DESCRIPTION'),
    save('unknown field', { privileged: true }, 400, 'UNKNOWN_FIELD'),
    save('container_path given', { container_path: '/' }, 400, 'UNKNOWN_FIELD'),
    save('source given', { source: '/etc' }, 400, 'UNKNOWN_FIELD'),
    save('upper-case field', { USER_ID: 'u2' }, 400, 'UNKNOWN_FIELD'),
  ],
  'huge values': [
    save('user_id 65 chars', { user_id: 'u'.repeat(65) }, 400, 'INVALID_USER_ID', { reason: 'too_long' }),
    save('user_id 10000 chars', { user_id: 'u'.repeat(10_000) }, 400, 'INVALID_USER_ID', { reason: 'too_long' }),
    save('workspace_id 65 chars', { workspace_id: 'w'.repeat(65) }, 400, 'INVALID_WORKSPACE_ID', { reason: 'too_long' }),
    local('path over 4096 bytes', `${ALLOWED}/${'a'.repeat(4096)}`, 400, 'INVALID_LOCAL_PATH', { reason: 'too_long' }),
    local('path over 4096 UTF-8 bytes', `${ALLOWED}/${'é'.repeat(2100)}`, 400, 'INVALID_LOCAL_PATH', { reason: 'too_long' }),
    save('description 501 chars', { description: 'd'.repeat(501) }, 400, 'INVALID_DESCRIPTION', { reason: 'too_long' }),
    save('description 501 emoji', { description: '😀'.repeat(501) }, 400, 'INVALID_DESCRIPTION', { reason: 'too_long' }),
    saveRaw('body over 16 KiB', JSON.stringify({ ...NEW_MOUNT, description: 'd'.repeat(17_000) }), 413, 'BODY_TOO_LARGE'),
    saveRaw('padding over 16 KiB', `${' '.repeat(20_000)}{}`, 413, 'BODY_TOO_LARGE'),
    { name: 'declared length 1 GB', route: 'save', body: Buffer.alloc(0), headers: { ...JSON_TYPE, 'content-length': '1000000000' }, status: 413, code: 'BODY_TOO_LARGE' },
    path('path id 200 chars', 'get', 'u'.repeat(200), 'ws1', 400, 'INVALID_USER_ID'),
  ],
  'unicode tricks': [
    save('cyrillic look-alike id', { user_id: 'u\u0456' }, 400, 'INVALID_USER_ID', { reason: 'bad_characters' }),
    save('fullwidth id', { user_id: 'ｕ2' }, 400, 'INVALID_USER_ID'),
    save('zero-width space id', { workspace_id: 'ws\u200b2' }, 400, 'INVALID_WORKSPACE_ID'),
    save('right-to-left override id', { workspace_id: 'ws\u202e2' }, 400, 'INVALID_WORKSPACE_ID'),
    save('no-break space id', { user_id: 'u\u00a02' }, 400, 'INVALID_USER_ID'),
    save('combining mark id', { user_id: 'u\u03012' }, 400, 'INVALID_USER_ID'),
    save('C1 control id', { user_id: 'u\u00852' }, 400, 'INVALID_USER_ID', { reason: 'control_characters' }),
    save('lone surrogate id', { user_id: 'u\ud8002' }, 400, 'INVALID_USER_ID'),
    local('path with RLO', `${ALLOWED}/a\u202etxt.exe`, 400, 'INVALID_LOCAL_PATH', { reason: 'format_characters' }),
    local('path with line separator', `${ALLOWED}/a\u2028b`, 400, 'INVALID_LOCAL_PATH', { reason: 'format_characters' }),
    local('path with BOM', `${ALLOWED}/\ufeffa`, 400, 'INVALID_LOCAL_PATH', { reason: 'format_characters' }),
    local('path with NUL', `${ALLOWED}/a\u0000`, 400, 'INVALID_LOCAL_PATH', { reason: 'control_characters' }),
    local('path with newline', `${ALLOWED}/a\nb`, 400, 'INVALID_LOCAL_PATH', { reason: 'control_characters' }),
    local('path with escape sequence', `${ALLOWED}/\u001b[2J`, 400, 'INVALID_LOCAL_PATH', { reason: 'control_characters' }),
    local('path with lone surrogate', `${ALLOWED}/\udc00`, 400, 'INVALID_LOCAL_PATH', { reason: 'invalid_unicode' }),
    local('fullwidth solidus', '／etc', 400, 'INVALID_LOCAL_PATH', { reason: 'not_absolute' }),
    local('division slash', `${ALLOWED}\u2215..\u2215..\u2215etc`, 403, 'PATH_NOT_ALLOWED', { reason: 'outside_allow' }),
    local('one-dot leader', `${ALLOWED}/\u2024\u2024/etc`, 400, 'BIND_SOURCE_MISSING', { only: hostView }),
    save('description with RLO', { description: 'ok\u202etxt' }, 400, 'INVALID_DESCRIPTION', { reason: 'format_characters' }),
    save('description with newline', { description: 'a\nb' }, 400, 'INVALID_DESCRIPTION', { reason: 'control_characters' }),
  ],
  'header tricks': [
    { ...save('no content type', {}, 415, 'UNSUPPORTED_MEDIA_TYPE'), headers: {} },
    { ...save('text/plain', {}, 415, 'UNSUPPORTED_MEDIA_TYPE'), headers: { 'content-type': 'text/plain' } },
    { ...save('form type', {}, 415, 'UNSUPPORTED_MEDIA_TYPE'), headers: { 'content-type': 'application/x-www-form-urlencoded' } },
    { ...save('multipart type', {}, 415, 'UNSUPPORTED_MEDIA_TYPE'), headers: { 'content-type': 'multipart/form-data; boundary=x' } },
    { ...save('text/json', {}, 415, 'UNSUPPORTED_MEDIA_TYPE'), headers: { 'content-type': 'text/json' } },
    { ...save('json suffix typo', {}, 415, 'UNSUPPORTED_MEDIA_TYPE'), headers: { 'content-type': 'application/jsonp' } },
    { ...save('type list', {}, 415, 'UNSUPPORTED_MEDIA_TYPE'), headers: { 'content-type': 'application/json, text/plain' } },
    { ...save('latin1 charset', {}, 415, 'UNSUPPORTED_MEDIA_TYPE'), headers: { 'content-type': 'application/json; charset=latin1' } },
    { ...save('utf-16 charset', {}, 415, 'UNSUPPORTED_MEDIA_TYPE'), headers: { 'content-type': 'application/json; charset=utf-16' } },
    // Charset variants that are fine reach validation, which rejects the id.
    { ...save('utf-8 charset is fine', { user_id: '..' }, 400, 'INVALID_USER_ID'), headers: { 'content-type': 'application/json; charset=utf-8' } },
    { ...save('UTF-8 upper case is fine', { user_id: '..' }, 400, 'INVALID_USER_ID'), headers: { 'content-type': 'application/json;charset=UTF-8' } },
    { ...save('quoted charset is fine', { user_id: '..' }, 400, 'INVALID_USER_ID'), headers: { 'content-type': 'application/json; charset="utf-8"' } },
    { ...save('upper-case type is fine', { user_id: '..' }, 400, 'INVALID_USER_ID'), headers: { 'content-type': 'APPLICATION/JSON' } },
    { ...save('json suffix is fine', { user_id: '..' }, 400, 'INVALID_USER_ID'), headers: { 'content-type': 'application/vnd.api+json' } },
    { ...save('method override ignored', { user_id: '..' }, 400, 'INVALID_USER_ID'), headers: { ...JSON_TYPE, 'x-http-method-override': 'DELETE' } },
    { ...path('override on get', 'get', 'u9', 'ws9', 404, 'MOUNT_NOT_FOUND'), headers: { 'x-http-method-override': 'DELETE' } },
    { ...save('english errors', { user_id: '..' }, 400, 'INVALID_USER_ID'), headers: { ...JSON_TYPE, 'accept-language': 'en' } },
    { ...save('garbage language', { user_id: '..' }, 400, 'INVALID_USER_ID'), headers: { ...JSON_TYPE, 'accept-language': ';;;q=abc,*' } },
    { ...save('query carries fields', { user_id: undefined }, 400, 'MISSING_FIELD'), route: 'save', segments: ['?user_id=u2'] },
    { ...save('wait with bad body', { user_id: '..' }, 400, 'INVALID_USER_ID'), segments: ['?wait=true'] },
  ],
  'method tricks': [
    { name: 'PUT on save', route: 'save', method: 'PUT', body: NEW_MOUNT, status: 405, code: 'METHOD_NOT_ALLOWED', allow: { monitor: 'GET, POST', 'proxy-fallback': 'POST', 'proxy-forward': 'POST' } },
    { name: 'PATCH on save', route: 'save', method: 'PATCH', body: NEW_MOUNT, status: 405, code: 'METHOD_NOT_ALLOWED' },
    { name: 'DELETE on list', route: 'list', method: 'DELETE', status: 405, code: 'METHOD_NOT_ALLOWED' },
    { name: 'POST on a mount', route: 'get', method: 'POST', segments: ['u1', 'ws1'], body: NEW_MOUNT, status: 405, code: 'METHOD_NOT_ALLOWED', allow: { monitor: 'GET, DELETE', 'proxy-fallback': 'GET, DELETE', 'proxy-forward': 'GET, DELETE' } },
    { name: 'PUT on a mount', route: 'get', method: 'PUT', segments: ['u1', 'ws1'], body: NEW_MOUNT, status: 405, code: 'METHOD_NOT_ALLOWED' },
    { name: 'GET on restart', route: 'restart', method: 'GET', status: 405, code: 'METHOD_NOT_ALLOWED' },
    { name: 'DELETE on restart', route: 'restart', method: 'DELETE', status: 405, code: 'METHOD_NOT_ALLOWED' },
    { name: 'OPTIONS on save', route: 'save', method: 'OPTIONS', status: 405, code: 'METHOD_NOT_ALLOWED' },
    { name: 'TRACE on list', route: 'list', method: 'TRACE', status: 405, code: 'METHOD_NOT_ALLOWED' },
    { name: 'HEAD on a mount', route: 'get', method: 'HEAD', segments: ['u1', 'ws1'], status: 405, code: undefined },
    { name: 'POST on an operation', route: 'operation', method: 'POST', segments: ['op_000000000000'], status: 405, code: 'METHOD_NOT_ALLOWED' },
  ],
  'path tricks': [
    { name: 'unknown route', route: { monitor: '/api/unknown', proxy: '/api/mounts/unknown' }, method: 'GET', status: 404, code: 'ROUTE_NOT_FOUND' },
    { name: 'upper-case route', route: { monitor: '/API/MOUNTS', proxy: '/api/mounts/MOUNTS' }, method: 'GET', status: 404, code: 'ROUTE_NOT_FOUND' },
    { name: 'one id only', route: 'get', segments: ['u1'], status: 404, code: 'ROUTE_NOT_FOUND' },
    { name: 'extra segment', route: 'get', segments: ['u1', 'ws1', 'extra'], status: 404, code: 'ROUTE_NOT_FOUND' },
    { name: 'bad percent encoding', route: 'get', segments: ['%ZZ', 'ws1'], status: 404, code: 'ROUTE_NOT_FOUND' },
    { name: 'double-encoded dots', route: 'get', segments: ['%252e%252e', 'ws1'], status: 400, code: 'INVALID_USER_ID' },
    { name: 'semicolon parameter', route: 'get', segments: ['u1;x=1', 'ws1'], status: 400, code: 'INVALID_USER_ID' },
    { name: 'unknown operation', route: 'operation', segments: ['op_000000000000'], status: 404, code: 'OPERATION_NOT_FOUND', only: hostView },
    { name: 'operation with newline', route: 'operation', segments: ['op%0Ax'], status: 404, code: 'OPERATION_NOT_FOUND', only: hostView },
    { name: 'outside the api', route: { monitor: '/etc/passwd', proxy: '/api/mountsx' }, method: 'GET', status: 404, code: 'ROUTE_NOT_FOUND' },
    { name: 'debug stats disabled', route: { monitor: '/api/debug/stats', proxy: '/api/mounts/debug/stats' }, method: 'GET', status: 403, code: 'DEBUG_DISABLED', only: ['monitor'] },
    { name: 'debug apply disabled', route: { monitor: '/api/debug/apply', proxy: '/api/mounts/debug/apply' }, method: 'POST', status: 403, code: 'DEBUG_DISABLED', only: ['monitor'] },
  ],
  auth: [
    { ...save('no token', {}, 401, 'UNAUTHORIZED'), authorization: null },
    { ...save('wrong token', {}, 401, 'UNAUTHORIZED'), authorization: 'Bearer wrong-token' },
    { ...save('token without scheme', {}, 401, 'UNAUTHORIZED'), authorization: PROXY_TOKEN },
    { ...save('basic scheme', {}, 401, 'UNAUTHORIZED'), authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` },
    { ...save('token with suffix', {}, 401, 'UNAUTHORIZED'), authorization: `Bearer ${PROXY_TOKEN}0` },
    { ...path('delete without token', 'remove', 'u1', 'ws1', 401, 'UNAUTHORIZED'), authorization: null },
    { name: 'restart without token', route: 'restart', status: 401, code: 'UNAUTHORIZED', authorization: null },
    { name: 'list without token', route: 'list', status: 401, code: 'UNAUTHORIZED', authorization: null },
    { name: 'unknown route without token', route: { monitor: '/api/unknown', proxy: '/api/mounts/unknown' }, method: 'GET', status: 401, code: 'UNAUTHORIZED', authorization: null },
  ],
};

/** Text from the compose file that no reply may echo. */
const COMPOSE_MARKERS = ['x-mount-settings', 'stop_grace_period', 'openmanus-monitor:8089'];

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('bad input corpus', () => {
  let folder: string;
  let storeFile: string;
  let composeFile: string;
  let monitorBase: string;
  let fallbackBase: string;
  let forwardBase: string;
  let reconciler: Reconciler;
  let engine: DockerClient;
  const servers: Server[] = [];
  const proxies: DevProxyHandler[] = [];
  let reconcilerRequests = 0;
  let engineRequests = 0;
  const countEngine = () => {
    engineRequests += 1;
  };
  let sent = 0;

  before(async () => {
    folder = await mkdtemp(join(tmpdir(), 'mc-corpus-'));
    const host = join(folder, 'host');
    const at = (p: string) => join(host, p);
    await mkdir(at('etc'), { recursive: true });
    await mkdir(at('var/run'), { recursive: true });
    await writeFile(at('var/run/docker.sock'), '');
    for (const name of ['a', 'b', 'app']) await mkdir(at(`home/dev/projects/${name}`), { recursive: true });
    await mkdir(at('home/dev/other'), { recursive: true });
    await writeFile(at('home/dev/projects/notes.txt'), 'not a folder');
    await symlink('/etc', at('home/dev/projects/to-etc'));
    await symlink('../../../../../etc', at('home/dev/projects/climb'));
    await symlink('/var/run/docker.sock', at('home/dev/projects/sock'));
    await symlink('/home/dev/other', at('home/dev/projects/sideways'));
    await symlink('loop-b', at('home/dev/projects/loop-a'));
    await symlink('loop-a', at('home/dev/projects/loop-b'));
    await symlink('gone', at('home/dev/projects/dangling'));

    await mkdir(join(folder, 'data'));
    await mkdir(join(folder, 'stack'));
    storeFile = join(folder, 'data', 'mounts.json');
    composeFile = join(folder, 'stack', 'docker-compose.dev.yml');
    await copyFile(join(REPO_ROOT, 'docker-compose.dev.yml'), composeFile);

    const config = loadMonitorConfig({
      MOUNT_DATA_FILE: storeFile,
      COMPOSE_FILE: composeFile,
      DOCKER_HOST: `unix://${join(folder, 'no-engine', 'docker.sock')}`,
      ENGINE_TIMEOUT_MS: '2000',
      MONITOR_TOKEN,
      HOST_PATH_ALLOW: ALLOWED,
      HOST_ROOT: host,
    });
    const policy = createHostPathPolicy({ allow: config.hostPathAllow, deny: config.hostPathDeny, style: config.hostPathStyle });
    const hostRoot = createHostRoot({ root: config.hostRoot! });
    const store = new MountStore({ file: storeFile, workspaceRoot: config.workspaceRoot });
    await store.upsert({ user_id: 'u1', workspace_id: 'ws1', local_path: `${ALLOWED}/a`, container_path: '/workspace/u1/ws1', description: 'seed', read_only: false });
    engine = new DockerClient({ host: config.dockerHost, timeoutMs: config.engineTimeoutMs });
    const isManaged = managedTargetTest(config.workspaceRoot);
    reconciler = new Reconciler({
      store,
      engine,
      container: config.devContainer,
      isManaged,
      checkMount: (mount) => checkHostFolder(mount.local_path, policy, hostRoot),
      writeCompose: async (mounts) => {
        await syncComposeFile(composeFile, { service: config.devService, workspaceRoot: config.workspaceRoot, mounts });
      },
      retryDelaysMs: [3_600_000],
    });
    const request = reconciler.request.bind(reconciler);
    reconciler.request = (...args) => {
      reconcilerRequests += 1;
      return request(...args);
    };
    subscribe(ENGINE_CHANNEL_NAME, countEngine);

    const log = createLogger('monitor', 'error', () => undefined);
    const monitor = createServer(createMonitorHandler({ config, store, reconciler, engine, policy, isManaged, log, hostRoot }));
    servers.push(monitor);
    monitorBase = await listen(monitor);

    const fallback = createDevProxyHandler({
      monitorApi: `http://127.0.0.1:${await freePort()}/api`,
      proxyToken: PROXY_TOKEN,
      timeoutMs: 3000,
      fallback: { store: new MountStore({ file: storeFile, workspaceRoot: '/workspace' }), policy: createHostPathPolicy({ allow: [ALLOWED] }), workspaceRoot: '/workspace' },
    });
    const forward = createDevProxyHandler({ monitorApi: `${monitorBase}/api`, token: MONITOR_TOKEN, proxyToken: PROXY_TOKEN, timeoutMs: 5000 });
    proxies.push(fallback, forward);
    for (const [handler, assign] of [
      [fallback, (base: string) => (fallbackBase = base)],
      [forward, (base: string) => (forwardBase = base)],
    ] as const) {
      const server = createServer((req, res) => handler(req, res));
      servers.push(server);
      assign(await listen(server));
    }
  });

  after(async () => {
    unsubscribe(ENGINE_CHANNEL_NAME, countEngine);
    for (const server of servers) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    for (const proxy of proxies) await proxy.close();
    reconciler.close();
    await engine.close();
    await rm(folder, { recursive: true, force: true });
  });

  function requestFor(row: Row, target: Target): { base: string; method: string; path: string; headers: Record<string, string>; body: string | Buffer | undefined } {
    const bases: Record<Target, string> = { monitor: monitorBase, 'proxy-fallback': fallbackBase, 'proxy-forward': forwardBase };
    const base = bases[target];
    let method: string;
    let path: string;
    if (typeof row.route === 'string') {
      const [routeMethod, routePath] = (target === 'monitor' ? MONITOR_ROUTES : PROXY_ROUTES)[row.route];
      method = row.method ?? routeMethod;
      const rest = (row.segments ?? []).filter((segment) => !segment.startsWith('?'));
      const query = (row.segments ?? []).find((segment) => segment.startsWith('?')) ?? '';
      path = [routePath, ...rest].join('/') + query;
    } else {
      method = row.method ?? 'GET';
      path = target === 'monitor' ? row.route.monitor : row.route.proxy;
    }
    const token = target === 'monitor' ? MONITOR_TOKEN : PROXY_TOKEN;
    const headers: Record<string, string> = { ...(row.headers ?? (row.body === undefined ? {} : JSON_TYPE)) };
    if (row.authorization === undefined) headers.authorization = `Bearer ${token}`;
    else if (row.authorization !== null) headers.authorization = row.authorization;
    const body = row.body === undefined || typeof row.body === 'string' || Buffer.isBuffer(row.body) ? (row.body as string | Buffer | undefined) : JSON.stringify(row.body);
    return { base, method, path, headers, body };
  }

  async function expectHealthy(): Promise<void> {
    const health = await send(monitorBase, 'GET', '/api/health', {}, undefined);
    assert.equal(health.status, 200, 'monitor health');
    assert.equal(health.body.data.status, 'ok');
    for (const base of [fallbackBase, forwardBase]) {
      const list = await send(base, 'GET', '/api/mounts/mounts', { authorization: `Bearer ${PROXY_TOKEN}` }, undefined);
      assert.equal(list.status, 200, `${base} list`);
      assert.deepEqual(
        list.body.data.mounts.map((mount: { user_id: string; workspace_id: string }) => `${mount.user_id}/${mount.workspace_id}`),
        ['u1/ws1'],
      );
    }
  }

  const total = Object.values(GROUPS).reduce((sum, rows) => sum + rows.length, 0);
  test('corpus has at least 150 rows', () => {
    assert.ok(total >= 150, `only ${total} rows`);
  });

  for (const [group, rows] of Object.entries(GROUPS)) {
    test(group, async () => {
      for (const row of rows) {
        for (const target of row.only ?? TARGETS) {
          const label = `${group} / ${row.name} / ${target}`;
          const storeBefore = await readFile(storeFile);
          const composeBefore = await readFile(composeFile);
          const engineBefore = engineRequests;
          const reconcilerBefore = reconcilerRequests;

          const { base, method, path, headers, body } = requestFor(row, target);
          const reply = await send(base, method, path, headers, body);
          sent += 1;

          assert.equal(reply.status, row.status, `${label}: status, reply ${reply.text.slice(0, 300)}`);
          if (row.code !== undefined) {
            assert.equal(reply.body?.code, row.code, `${label}: code, reply ${reply.text.slice(0, 300)}`);
            assert.equal(reply.body.success, false, label);
            assert.equal(typeof reply.body.message, 'string', label);
            assert.ok(reply.body.message.length > 0, label);
          }
          if (row.reason !== undefined) assert.equal(reply.body.data?.reason, row.reason, `${label}: reason`);
          const allow = row.allow?.[target];
          if (allow !== undefined) assert.equal(reply.headers.allow, allow, `${label}: Allow`);
          if (row.status === 405) assert.ok(reply.headers.allow, `${label}: Allow header`);

          assert.ok(!reply.text.includes(MONITOR_TOKEN), `${label}: echoes the monitor token`);
          assert.ok(!reply.text.includes(PROXY_TOKEN), `${label}: echoes the proxy token`);
          assert.doesNotMatch(reply.text, /\bat \S+ \(|\.ts:\d+:\d+|node:internal/, `${label}: stack trace`);
          for (const marker of COMPOSE_MARKERS) assert.ok(!reply.text.includes(marker), `${label}: echoes the compose file`);

          assert.deepEqual(await readFile(storeFile), storeBefore, `${label}: store changed`);
          assert.deepEqual(await readFile(composeFile), composeBefore, `${label}: compose file changed`);
          assert.equal(reconcilerRequests, reconcilerBefore, `${label}: reconciler got a request`);
          assert.equal(engineRequests, engineBefore, `${label}: an Engine request was made`);
        }
      }
      await expectHealthy();
    });
  }

  test('same mount in other spellings changes nothing', async () => {
    const variants = [`${ALLOWED}/a/`, `${ALLOWED}//a`, `${ALLOWED}/./a`, `/${ALLOWED}/a`];
    for (const target of TARGETS) {
      for (const localPath of variants) {
        const label = `${target} ${localPath}`;
        const storeBefore = await readFile(storeFile);
        const { base, method, path, headers } = requestFor({ name: label, route: 'save', body: {}, status: 200, code: undefined }, target);
        const reply = await send(base, method, path, headers, JSON.stringify({ user_id: 'u1', workspace_id: 'ws1', local_path: localPath, description: 'seed' }));
        assert.equal(reply.status, 200, `${label}: ${reply.text.slice(0, 200)}`);
        assert.equal(reply.body.data.operation, null, label);
        assert.equal(reply.body.data.mount.local_path, `${ALLOWED}/a`, label);
        assert.deepEqual(await readFile(storeFile), storeBefore, `${label}: store changed`);
      }
    }
    assert.equal(reconcilerRequests, 0);
    assert.equal(engineRequests > 0, true, 'health checks reach for the Engine');
  });

  test('corpus sent at least 150 requests', (t) => {
    t.diagnostic(`${total} rows, ${sent} requests`);
    assert.ok(sent >= 150, `sent ${sent}`);
  });
});
