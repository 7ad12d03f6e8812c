/**
 * An in-memory RecreateEngine for the reconciler's unit tests and for
 * benchmarks that measure mount-core itself, not Docker. It keeps just enough
 * state for recreate, repair and the dependents check: containers by id with
 * their name, state and mounts. Calls return at once unless a test sets a
 * stop delay or a failure.
 */
import { randomBytes } from 'node:crypto';
import { EngineError, type RecreateEngine } from '../../lib/index.js';
import type { ContainerCreateBody, ContainerInspect, MountPoint } from '../../lib/docker/types.js';

const IMAGE_ID = `sha256:${'0'.repeat(64)}`;

export class MemoryEngine implements RecreateEngine {
  readonly #containers = new Map<string, ContainerInspect>();
  /** Calls made, by method name. */
  readonly calls = new Map<string, number>();
  /** Time each stop takes, in milliseconds, so that an apply lasts long enough to overlap requests. */
  stopDelayMs = 0;
  /** When set, every call throws what it returns: an injected Engine failure. */
  failWith: (() => Error) | undefined;
  /** Awaited by each remove with the id or name it was given, before anything is removed; a throw fails the remove. */
  beforeRemove: ((id: string) => Promise<void>) | undefined;
  /** Ids or names given to containerInspect, in call order. */
  readonly inspected: string[] = [];

  /** Number of calls made to `method`. */
  count(method: string): number {
    return this.calls.get(method) ?? 0;
  }

  /** Returns the sorted mount targets of the container named `name`. */
  mountTargets(name: string): string[] {
    return this.#find(name).Mounts.map((mount) => mount.Destination).sort();
  }

  /** Adds a running container named `name` with no mounts; returns its id. */
  addRunning(name: string): string {
    const created = this.#create(name, { Image: 'local/busybox:test', Cmd: ['sleep', '3600'], HostConfig: { NetworkMode: 'none' } });
    this.#start(created);
    return created.Id;
  }

  async apiVersion(): Promise<string> {
    return '1.45';
  }

  async containerInspect(options: { id: string }): Promise<ContainerInspect> {
    this.#count('containerInspect');
    this.inspected.push(options.id);
    return structuredClone(this.#find(options.id));
  }

  async containerCreate(options: { name?: string; body: ContainerCreateBody }): Promise<{ Id: string; Warnings: string[] }> {
    this.#count('containerCreate');
    if (options.name !== undefined && this.#byName(options.name)) throw this.#error(409, 'POST', `Conflict. The container name "/${options.name}" is already in use`);
    return { Id: this.#create(options.name ?? randomBytes(6).toString('hex'), options.body).Id, Warnings: [] };
  }

  async containerStart(options: { id: string }): Promise<unknown> {
    this.#count('containerStart');
    this.#start(this.#find(options.id));
    return { alreadyInState: false };
  }

  async containerStop(options: { id: string; timeoutSeconds: number }): Promise<unknown> {
    this.#count('containerStop');
    if (this.stopDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.stopDelayMs));
    const container = this.#find(options.id);
    container.State = { ...container.State, Running: false, Status: 'exited', FinishedAt: new Date().toISOString() };
    return { alreadyInState: false };
  }

  async containerRestart(options: { id: string; timeoutSeconds: number }): Promise<unknown> {
    this.#count('containerRestart');
    this.#start(this.#find(options.id));
    return undefined;
  }

  async containerRename(options: { id: string; name: string }): Promise<unknown> {
    this.#count('containerRename');
    this.#find(options.id).Name = `/${options.name}`;
    return undefined;
  }

  async containerRemove(options: { id: string; force?: boolean; volumes?: boolean }): Promise<unknown> {
    this.#count('containerRemove');
    await this.beforeRemove?.(options.id);
    const container = this.#byName(options.id) ?? this.#containers.get(options.id);
    if (container) this.#containers.delete(container.Id);
    return { alreadyInState: container === undefined };
  }

  async containerUpdate(options: { id: string; body: Record<string, unknown> }): Promise<unknown> {
    this.#count('containerUpdate');
    const container = this.#find(options.id);
    if (options.body.RestartPolicy) container.HostConfig.RestartPolicy = options.body.RestartPolicy as ContainerInspect['HostConfig']['RestartPolicy'];
    return { Warnings: null };
  }

  async containerList(): Promise<Array<{ Id: string; Names?: string[] }>> {
    this.#count('containerList');
    return [...this.#containers.values()].map((container) => ({ Id: container.Id, Names: [container.Name] }));
  }

  async networkConnect(): Promise<unknown> {
    this.#count('networkConnect');
    return undefined;
  }

  async imageInspect(): Promise<{ Id: string }> {
    this.#count('imageInspect');
    return { Id: IMAGE_ID };
  }

  async containerArchiveStat(): Promise<{ isDirectory: boolean }> {
    this.#count('containerArchiveStat');
    return { isDirectory: true };
  }

  #count(method: string): void {
    if (this.failWith) throw this.failWith();
    this.calls.set(method, (this.calls.get(method) ?? 0) + 1);
  }

  #byName(name: string): ContainerInspect | undefined {
    for (const container of this.#containers.values()) if (container.Name === `/${name}`) return container;
    return undefined;
  }

  #find(id: string): ContainerInspect {
    const container = this.#containers.get(id) ?? this.#byName(id);
    if (!container) throw this.#error(404, 'GET', `No such container: ${id}`);
    return container;
  }

  #error(status: number, method: 'GET' | 'POST', message: string): EngineError {
    return new EngineError(status, method, '/fake', message);
  }

  #create(name: string, body: ContainerCreateBody): ContainerInspect {
    const id = randomBytes(32).toString('hex');
    const host = body.HostConfig ?? {};
    const binds: MountPoint[] = (host.Binds ?? []).map((bind) => {
      const [source = '', destination = '', mode = ''] = bind.split(':');
      return { Type: 'bind', Source: source, Destination: destination, Mode: mode, RW: mode !== 'ro', Propagation: 'rprivate' };
    });
    const mounts: MountPoint[] = (host.Mounts ?? []).map((mount) => ({
      Type: mount.Type,
      Source: mount.Source ?? '',
      Destination: mount.Target,
      Mode: '',
      RW: mount.ReadOnly !== true,
      Propagation: 'rprivate',
    }));
    const { HostConfig: _host, NetworkingConfig: _networks, ...config } = body;
    const container: ContainerInspect = {
      Id: id,
      Name: `/${name}`,
      Image: IMAGE_ID,
      Created: new Date().toISOString(),
      RestartCount: 0,
      State: { Status: 'created', Running: false, Paused: false, Restarting: false, ExitCode: 0, StartedAt: '0001-01-01T00:00:00Z', FinishedAt: '0001-01-01T00:00:00Z' },
      Config: { ...config, Image: body.Image },
      HostConfig: { ...host, RestartPolicy: host.RestartPolicy ?? { Name: 'no' } },
      Mounts: [...binds, ...mounts],
      NetworkSettings: { Networks: {} },
    };
    this.#containers.set(id, container);
    return container;
  }

  #start(container: ContainerInspect): void {
    container.State = { ...container.State, Running: true, Status: 'running', StartedAt: new Date().toISOString() };
  }
}
