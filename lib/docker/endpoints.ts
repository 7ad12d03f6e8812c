/**
 * The Docker Engine API endpoints that the monitor calls: the list a
 * filtering socket proxy in front of the monitor must allow, and nothing
 * more. docs/security.md shows it, and a real-engine test checks every request
 * of an apply cycle against it.
 */

export interface EngineEndpoint {
  method: 'GET' | 'HEAD' | 'POST' | 'DELETE';
  /** Path with `{id}` or `{name}` for one path segment, without the version prefix or query. */
  path: string;
  /** True when the client sends the path below the negotiated `/v1.xx` prefix. */
  versioned: boolean;
  /** The monitor's reason for calling it. */
  purpose: string;
}

/** Every Engine endpoint the monitor calls, in the order an apply first uses them. */
export const MONITOR_ENGINE_ENDPOINTS: readonly EngineEndpoint[] = Object.freeze([
  { method: 'GET', path: '/_ping', versioned: false, purpose: 'read the daemon API version before the first request' },
  { method: 'GET', path: '/version', versioned: false, purpose: 'read the daemon API version when /_ping does not send it' },
  { method: 'GET', path: '/containers/{id}/json', versioned: true, purpose: 'inspect the development container, its replacement, leftovers and containers that may depend on it' },
  { method: 'GET', path: '/containers/json', versioned: true, purpose: 'list containers, to find any that share the development container namespaces or volumes' },
  { method: 'GET', path: '/images/{name}/json', versioned: true, purpose: 'check that the image tag still names the running image id' },
  { method: 'POST', path: '/containers/create', versioned: true, purpose: 'create the replacement container with the new mounts' },
  { method: 'HEAD', path: '/containers/{id}/archive', versioned: true, purpose: 'check that each new mount target is a folder' },
  { method: 'POST', path: '/networks/{id}/connect', versioned: true, purpose: 'attach the replacement to its second and later networks' },
  { method: 'POST', path: '/containers/{id}/rename', versioned: true, purpose: 'park the old container and give the replacement its name' },
  { method: 'POST', path: '/containers/{id}/update', versioned: true, purpose: 'park and restore the old container restart policy' },
  { method: 'POST', path: '/containers/{id}/stop', versioned: true, purpose: 'stop the old container' },
  { method: 'POST', path: '/containers/{id}/start', versioned: true, purpose: 'start the replacement, or the old container after a rollback' },
  { method: 'POST', path: '/containers/{id}/restart', versioned: true, purpose: 'restart the development container when its mounts already match' },
  { method: 'DELETE', path: '/containers/{id}', versioned: true, purpose: 'remove the old container, a failed replacement and leftovers' },
  { method: 'GET', path: '/events', versioned: true, purpose: 'follow the development container events, to restart it when it dies outside an apply' },
] satisfies EngineEndpoint[]);

const VERSION_PREFIX = String.raw`/v\d+\.\d+`;

/** Returns the regular expression that matches request paths of `endpoint`, as the Engine client sends them. */
export function engineEndpointPattern(endpoint: EngineEndpoint): RegExp {
  const path = endpoint.path
    .split('/')
    .map((segment) => (/^\{\w+\}$/.test(segment) ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${endpoint.versioned ? VERSION_PREFIX : ''}${path}$`);
}

/**
 * Returns the endpoint of `endpoints` that a request with `method` and `path`
 * (with the version prefix, without the query) belongs to, or undefined.
 */
export function findEngineEndpoint(method: string, path: string, endpoints: readonly EngineEndpoint[] = MONITOR_ENGINE_ENDPOINTS): EngineEndpoint | undefined {
  return endpoints.find((endpoint) => endpoint.method === method && engineEndpointPattern(endpoint).test(path));
}
