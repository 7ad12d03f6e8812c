/**
 * DockerClient: the Engine API calls mount-core makes, each named resource +
 * verb with one options object. The file is longer than most because it is
 * the one list of those calls; transport, version choice, events and path
 * stats live beside it.
 */
import { EngineError, MountCoreError } from '../errors.js';
import { chooseApiVersion, isApiVersion } from './api-version.js';
import { decodePathStat, PATH_STAT_HEADER, type ContainerPathStat } from './archive-stat.js';
import { buildEventsQuery, encodeFilters, readEvents, type EventsOptions } from './events.js';
import { invalidOption, resolveDockerClientOptions, type DockerClientOptions, type ResolvedDockerClientOptions } from './options.js';
import { EngineTransport, type EngineRequest, type EngineResponse } from './transport.js';
import type {
  ContainerCreateBody, ContainerInspect, ContainerSummary, ContainerUpdateBody, DockerEvent, EndpointSettings,
  ImageInspect, NetworkInspect, SystemInfo, VersionInfo, VolumeInspect,
} from './types.js';

export interface PingResult {
  /** The daemon's `API-Version` header; undefined when it sent none. */
  apiVersion: string | undefined;
  osType: string | undefined;
  experimental: boolean;
  builderVersion: string | undefined;
}

/** Outcome of an idempotent call: `alreadyInState` is true when the daemon reported nothing to do. */
export interface StateChangeResult {
  alreadyInState: boolean;
}

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

/** Largest delay setTimeout accepts. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class DockerClient {
  readonly #options: ResolvedDockerClientOptions;
  readonly #transport: EngineTransport;
  #negotiation: Promise<string> | undefined;

  /** Checks `options` (ConfigError on the first invalid one) and prepares the keep-alive Agent; connects on first use. */
  constructor(options: DockerClientOptions = {}) {
    this.#options = resolveDockerClientOptions(options);
    this.#transport = new EngineTransport(this.#options.host, this.#options.hostValue, this.#options.timeoutMs);
  }

  /**
   * Resolves the API version every versioned request uses: the pinned one, or
   * the daemon's capped at maxApiVersion, negotiated on first use. Concurrent
   * first calls share one negotiation, and a failed one is retried on the next call.
   */
  apiVersion(): Promise<string> {
    if (this.#options.apiVersion !== undefined) return Promise.resolve(this.#options.apiVersion);
    if (this.#negotiation === undefined) {
      const negotiation = this.#negotiate();
      this.#negotiation = negotiation;
      negotiation.catch(() => {
        if (this.#negotiation === negotiation) this.#negotiation = undefined;
      });
    }
    return this.#negotiation;
  }

  /** Sends `GET /_ping`, which needs no API version, and returns the daemon's headers. */
  async ping(): Promise<PingResult> {
    const { headers } = await this.#transport.request({ method: 'GET', path: '/_ping' });
    return {
      apiVersion: header(headers['api-version']),
      osType: header(headers['ostype']),
      experimental: header(headers['docker-experimental']) === 'true',
      builderVersion: header(headers['builder-version']),
    };
  }

  /** Returns `GET /version` without a version prefix, so it works before negotiation and on old daemons. */
  async version(): Promise<VersionInfo> {
    return (await this.#transport.request({ method: 'GET', path: '/version' })).body as VersionInfo;
  }

  async info(): Promise<SystemInfo> {
    return (await this.#send({ method: 'GET', path: '/info' })).body as SystemInfo;
  }

  async containerInspect(options: { id: string }): Promise<ContainerInspect> {
    return (await this.#send({ method: 'GET', path: `/containers/${segment('id', options.id)}/json` })).body as ContainerInspect;
  }

  /** Lists running containers, or all with `all: true`; `filters` as in `docker ps --filter`. */
  async containerList(options: { all?: boolean; filters?: Record<string, string[]> } = {}): Promise<ContainerSummary[]> {
    const filters = options.filters === undefined ? undefined : encodeFilters('filters', options.filters);
    return (await this.#send({ method: 'GET', path: '/containers/json', query: { all: options.all, filters } })).body as ContainerSummary[];
  }

  async containerCreate(options: { name?: string; body: ContainerCreateBody }): Promise<{ Id: string; Warnings: string[] }> {
    const name = options.name === undefined ? undefined : requireString('name', options.name);
    const body = requireObject('body', options.body);
    const response = await this.#send({ method: 'POST', path: '/containers/create', query: { name }, body });
    return response.body as { Id: string; Warnings: string[] };
  }

  /** Starts a container; one that already runs gives `alreadyInState: true` (the daemon's 304). */
  async containerStart(options: { id: string }): Promise<StateChangeResult> {
    const response = await this.#send({ method: 'POST', path: `/containers/${segment('id', options.id)}/start`, acceptStatus: [304] });
    return { alreadyInState: response.status === 304 };
  }

  /**
   * Stops a container, sending SIGKILL after `timeoutSeconds`; the request may
   * take that much longer than the client timeout. A stopped container gives
   * `alreadyInState: true`.
   */
  async containerStop(options: { id: string; timeoutSeconds: number }): Promise<StateChangeResult> {
    const path = `/containers/${segment('id', options.id)}/stop`;
    const t = this.#checkStopTimeout(options.timeoutSeconds);
    const response = await this.#send({ method: 'POST', path, query: { t }, acceptStatus: [304], timeoutMs: this.#options.timeoutMs + t * 1000 });
    return { alreadyInState: response.status === 304 };
  }

  /** Restarts a container, stopping it as containerStop does. */
  async containerRestart(options: { id: string; timeoutSeconds: number }): Promise<void> {
    const path = `/containers/${segment('id', options.id)}/restart`;
    const t = this.#checkStopTimeout(options.timeoutSeconds);
    await this.#send({ method: 'POST', path, query: { t }, timeoutMs: this.#options.timeoutMs + t * 1000 });
  }

  /** Sends `signal` (default SIGKILL) to a running container; a stopped one raises EngineError 409. */
  async containerKill(options: { id: string; signal?: string }): Promise<void> {
    const signal = options.signal === undefined ? undefined : requireString('signal', options.signal);
    await this.#send({ method: 'POST', path: `/containers/${segment('id', options.id)}/kill`, query: { signal } });
  }

  async containerRename(options: { id: string; name: string }): Promise<void> {
    const name = requireString('name', options.name);
    await this.#send({ method: 'POST', path: `/containers/${segment('id', options.id)}/rename`, query: { name } });
  }

  /**
   * Removes a container. One that is gone (404) or already being removed (409)
   * gives `alreadyInState: true`. `volumes` also removes its anonymous volumes.
   */
  async containerRemove(options: { id: string; force?: boolean; volumes?: boolean }): Promise<StateChangeResult> {
    const path = `/containers/${segment('id', options.id)}`;
    try {
      await this.#send({ method: 'DELETE', path, query: { force: options.force, v: options.volumes } });
      return { alreadyInState: false };
    } catch (error) {
      if (error instanceof EngineError && (error.statusCode === 404 || isRemovalInProgress(error))) {
        return { alreadyInState: true };
      }
      throw error;
    }
  }

  /** Changes the restart policy or resources of a container. */
  async containerUpdate(options: { id: string; body: ContainerUpdateBody }): Promise<{ Warnings: string[] | null }> {
    const body = requireObject('body', options.body);
    return (await this.#send({ method: 'POST', path: `/containers/${segment('id', options.id)}/update`, body })).body as { Warnings: string[] | null };
  }

  /**
   * Waits until the container meets `condition` (default `not-running`). The
   * wait is bounded by `timeoutMs`, which defaults to the client timeout.
   */
  async containerWait(options: { id: string; condition?: WaitCondition; timeoutMs?: number }): Promise<{ StatusCode: number; Error?: { Message: string } | null }> {
    const path = `/containers/${segment('id', options.id)}/wait`;
    const timeoutMs = options.timeoutMs ?? this.#options.timeoutMs;
    if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0 || timeoutMs > MAX_TIMER_MS) {
      throw invalidOption('timeoutMs', timeoutMs, `expected an integer number of milliseconds from 1 to ${MAX_TIMER_MS}`);
    }
    const response = await this.#send({ method: 'POST', path, query: { condition: options.condition }, timeoutMs });
    return response.body as { StatusCode: number; Error?: { Message: string } | null };
  }

  /**
   * Stats `path` inside a container with `HEAD /containers/{id}/archive`,
   * following the container's mounts. A missing path raises EngineError 404.
   */
  async containerArchiveStat(options: { id: string; path: string }): Promise<ContainerPathStat> {
    const path = `/containers/${segment('id', options.id)}/archive`;
    const target = requireString('path', options.path);
    const response = await this.#send({ method: 'HEAD', path, query: { path: target } });
    return decodePathStat(response.headers[PATH_STAT_HEADER], { method: 'HEAD', path });
  }

  async imageInspect(options: { id: string }): Promise<ImageInspect> {
    return (await this.#send({ method: 'GET', path: `/images/${segment('id', options.id)}/json` })).body as ImageInspect;
  }

  async networkInspect(options: { id: string }): Promise<NetworkInspect> {
    return (await this.#send({ method: 'GET', path: `/networks/${segment('id', options.id)}` })).body as NetworkInspect;
  }

  /** Attaches a container to a network, with aliases and addresses from `endpointConfig`. */
  async networkConnect(options: { network: string; container: string; endpointConfig?: EndpointSettings }): Promise<void> {
    const path = `/networks/${segment('network', options.network)}/connect`;
    const body = { Container: requireString('container', options.container), EndpointConfig: options.endpointConfig };
    await this.#send({ method: 'POST', path, body });
  }

  async networkDisconnect(options: { network: string; container: string; force?: boolean }): Promise<void> {
    const path = `/networks/${segment('network', options.network)}/disconnect`;
    const body = { Container: requireString('container', options.container), Force: options.force ?? false };
    await this.#send({ method: 'POST', path, body });
  }

  async volumeInspect(options: { name: string }): Promise<VolumeInspect> {
    return (await this.#send({ method: 'GET', path: `/volumes/${segment('name', options.name)}` })).body as VolumeInspect;
  }

  /**
   * Streams Engine events with no idle limit, one DockerEvent per line. Options
   * are checked when this is called; the request is sent on the first `next()`.
   */
  events(options: EventsOptions = {}): AsyncIterable<DockerEvent> {
    const query = buildEventsQuery(options);
    return this.#events(query, options.signal);
  }

  /**
   * Aborts open event streams, waits for requests in flight, then closes
   * every connection. Calls made after close() reject with DOCKER_UNAVAILABLE.
   */
  async close(): Promise<void> {
    await this.#transport.close();
  }

  async *#events(query: EngineRequest['query'], signal: AbortSignal | undefined): AsyncGenerator<DockerEvent> {
    const version = await this.apiVersion();
    yield* readEvents(this.#transport, { method: 'GET', path: `/v${version}/events`, query }, signal);
  }

  /** Sends a request to the versioned form of `request.path`. */
  async #send(request: EngineRequest): Promise<EngineResponse> {
    const version = await this.apiVersion();
    return this.#transport.request({ ...request, path: `/v${version}${request.path}` });
  }

  async #negotiate(): Promise<string> {
    const { headers } = await this.#transport.request({ method: 'GET', path: '/_ping' });
    let daemonVersion = header(headers['api-version']);
    if (!isApiVersion(daemonVersion)) {
      const version = (await this.#transport.request({ method: 'GET', path: '/version' })).body as Partial<VersionInfo> | undefined;
      daemonVersion = version?.ApiVersion;
    }
    if (!isApiVersion(daemonVersion)) {
      throw new MountCoreError('ENGINE_ERROR', 502, `Docker Engine at ${this.#options.hostValue} reported no valid API version in GET /_ping or GET /version`, {
        details: { method: 'GET', path: '/version', daemon_message: String(daemonVersion), docker_host: this.#options.hostValue },
      });
    }

    const { minApiVersion: min, maxApiVersion: max } = this.#options;
    const choice = chooseApiVersion(daemonVersion, { min, max });
    if (!choice.ok) {
      throw new MountCoreError(
        'ENGINE_VERSION_UNSUPPORTED',
        502,
        `Docker Engine at ${this.#options.hostValue} reports API version ${daemonVersion}, below the minimum ${min}; upgrade Docker Engine or lower the minApiVersion option`,
        { details: { method: 'GET', path: '/_ping', daemon_message: `API version ${daemonVersion}`, api_version: daemonVersion, daemon_version: daemonVersion, min_version: min, min_api_version: min, docker_host: this.#options.hostValue } },
      );
    }
    return choice.version;
  }

  #checkStopTimeout(timeoutSeconds: number): number {
    const limit = Math.floor((MAX_TIMER_MS - this.#options.timeoutMs) / 1000);
    if (!Number.isSafeInteger(timeoutSeconds) || timeoutSeconds < 0 || timeoutSeconds > limit) {
      throw invalidOption('timeoutSeconds', timeoutSeconds, `expected whole seconds from 0 to ${limit} before SIGKILL`);
    }
    return timeoutSeconds;
  }
}

/** True for the daemon's 409 "removal of container … is already in progress"; the daemon sends no code for it. */
function isRemovalInProgress(error: EngineError): boolean {
  return error.statusCode === 409 && /already in progress/i.test(error.daemonMessage);
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function requireString(option: string, value: unknown): string {
  if (typeof value !== 'string' || value === '' || value.includes('\u0000')) {
    throw invalidOption(option, value, 'expected a non-empty string without NUL characters');
  }
  return value;
}

function requireObject<T>(option: string, value: T): T {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidOption(option, value, 'expected a JSON object');
  }
  return value;
}

/** Checks an id or name and escapes it for use as one path segment. */
function segment(option: string, value: unknown): string {
  return encodeURIComponent(requireString(option, value));
}
