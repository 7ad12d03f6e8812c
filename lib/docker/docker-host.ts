/**
 * Parses a DOCKER_HOST value into the address the Engine client connects to.
 * Supported: `unix:///absolute/path.sock`, `tcp://host[:port]` (plain HTTP,
 * port 2375 when omitted, as the docker CLI does) and `http://host[:port]`.
 * TLS (`https://`), SSH, Windows named pipes and systemd `fd://` are rejected
 * because this client speaks plain HTTP/1.1 only.
 */
import { ConfigError } from '../errors.js';

/** A Docker daemon listening on a unix socket; requests still need an HTTP origin. */
export interface UnixDockerHost {
  kind: 'unix';
  /** Absolute path of the socket file. */
  socketPath: string;
  origin: 'http://localhost';
}

/** A Docker daemon listening on plain-HTTP TCP. */
export interface TcpDockerHost {
  kind: 'tcp';
  /** `http://host:port`, with IPv6 hosts in brackets. */
  origin: string;
}

export type DockerHost = UnixDockerHost | TcpDockerHost;

const SUPPORTED = 'use unix:///path/to/docker.sock, tcp://host:port or http://host:port';

/** The docker CLI's default port for `tcp://` without TLS. */
const DEFAULT_TCP_PORT = '2375';

const UNSUPPORTED_SCHEMES: Record<string, string> = {
  'https:': 'TLS is not supported',
  'npipe:': 'Windows named pipes are not supported',
  'ssh:': 'SSH is not supported',
  'fd:': 'systemd socket activation (fd://) is a daemon setting, not a client address',
};

/**
 * Parses `value` as a DOCKER_HOST address. Throws ConfigError, naming the
 * value and the supported forms, for an empty, malformed or unsupported value.
 */
export function parseDockerHost(value: string): DockerHost {
  if (typeof value !== 'string' || value === '') {
    throw invalidHost(value, 'it is empty');
  }
  if (value.trim() !== value || /[\u0000-\u001f\u007f]/.test(value)) {
    throw invalidHost(value, 'it contains whitespace or control characters');
  }

  const separator = value.indexOf('://');
  if (separator <= 0) {
    throw invalidHost(value, 'it has no scheme');
  }
  const scheme = `${value.slice(0, separator).toLowerCase()}:`;
  const rest = value.slice(separator + 3);

  const unsupported = UNSUPPORTED_SCHEMES[scheme];
  if (unsupported !== undefined) {
    throw invalidHost(value, unsupported);
  }
  if (scheme === 'unix:') {
    return parseUnix(value, rest);
  }
  if (scheme === 'tcp:' || scheme === 'http:') {
    return parseTcp(value, rest, scheme === 'tcp:' ? DEFAULT_TCP_PORT : '80');
  }
  throw invalidHost(value, `the scheme ${scheme}// is not supported`);
}

function parseUnix(value: string, socketPath: string): UnixDockerHost {
  if (!socketPath.startsWith('/')) {
    throw invalidHost(value, 'a unix socket path must be absolute, as in unix:///var/run/docker.sock');
  }
  if (socketPath.endsWith('/')) {
    throw invalidHost(value, 'the unix socket path names a directory');
  }
  return { kind: 'unix', socketPath, origin: 'http://localhost' };
}

function parseTcp(value: string, authority: string, defaultPort: string): TcpDockerHost {
  // A trailing slash is harmless. The client prepends no base path, so any other
  // path, query or fragment is rejected instead of being silently ignored.
  const hostPort = authority.endsWith('/') ? authority.slice(0, -1) : authority;
  if (/[/?#]/.test(hostPort)) {
    throw invalidHost(value, 'a path, query or fragment after host:port is not supported');
  }
  if (hostPort.includes('@')) {
    throw invalidHost(value, 'credentials in the address are not supported');
  }

  let url: URL;
  try {
    url = new URL(`http://${hostPort}`);
  } catch {
    throw invalidHost(value, 'the host or port is malformed');
  }
  if (url.hostname === '') {
    throw invalidHost(value, 'the host is missing');
  }
  // URL drops the port when it equals the scheme default (80), so read it from the text.
  const explicitPort = /:(\d+)$/.exec(hostPort)?.[1];
  if (hostPort.endsWith(':') || (explicitPort !== undefined && Number(explicitPort) === 0)) {
    throw invalidHost(value, 'the port must be between 1 and 65535');
  }
  const port = explicitPort === undefined ? defaultPort : String(Number(explicitPort));
  return { kind: 'tcp', origin: `http://${url.hostname}:${port}` };
}

function invalidHost(value: unknown, reason: string): ConfigError {
  // Credentials would otherwise end up in logs, so the quoted value hides them.
  const redacted = typeof value === 'string' ? value.replace(/\/\/[^/@]*@/, '//***@') : String(value);
  return new ConfigError(`invalid Docker host ${JSON.stringify(redacted)}: ${reason}; ${SUPPORTED}`, {
    details: { option: 'host', value: redacted, reason: `${reason}; ${SUPPORTED}` },
  });
}
