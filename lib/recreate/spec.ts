/**
 * Builds the create request for a container's replacement from its inspect:
 * the whole configuration is carried over and only the managed bind mounts
 * change. Pure: no Engine calls.
 */
import type { ContainerCreateBody, ContainerInspect, EndpointSettings, MountPoint } from '../docker/types.js';
import type { MountSpec } from '../types.js';

/** Decides whether a container path belongs to the managed workspace mounts. */
export type ManagedTargetTest = (containerPath: string) => boolean;

export interface ReplacementSpec {
  body: ContainerCreateBody;
  /** Networks to connect after create, for engines below API 1.44 that accept one network at create. */
  laterNetworks: Array<{ network: string; endpointConfig: EndpointSettings }>;
}

/** Config fields copied as they are; the rest are derived below or left to the Engine. */
const CONFIG_FIELDS = [
  'Domainname', 'User', 'AttachStdin', 'AttachStdout', 'AttachStderr', 'ExposedPorts', 'Tty', 'OpenStdin', 'StdinOnce',
  'Env', 'Cmd', 'Healthcheck', 'ArgsEscaped', 'Volumes', 'WorkingDir', 'Entrypoint', 'NetworkDisabled', 'OnBuild',
  'Labels', 'StopSignal', 'StopTimeout', 'Shell',
] as const;

function compareVersions(a: string, b: string): number {
  const [aMajor = 0, aMinor = 0] = a.split('.').map(Number);
  const [bMajor = 0, bMinor = 0] = b.split('.').map(Number);
  return aMajor - bMajor || aMinor - bMinor;
}

/** Returns the destination of a `Binds` entry (`source:destination[:options]`), Windows sources included. */
export function bindDestination(bind: string): string {
  const drive = /^[A-Za-z]:[\\/]/.test(bind) ? 2 : 0;
  const parts = bind.slice(drive).split(':');
  return parts[1] ?? '';
}

function trimSlash(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}

/** Reads the managed bind mounts a container has now from its inspect. */
export function managedMountsOf(inspect: ContainerInspect, isManaged: ManagedTargetTest): MountSpec[] {
  return (inspect.Mounts ?? [])
    .filter((mount) => mount.Type === 'bind' && isManaged(trimSlash(mount.Destination)))
    .map((mount) => ({ local_path: mount.Source, container_path: trimSlash(mount.Destination), read_only: !mount.RW }))
    .sort((a, b) => a.container_path.localeCompare(b.container_path));
}

/** True when both lists hold the same mounts, whatever their order. */
export function sameMounts(a: MountSpec[], b: MountSpec[]): boolean {
  if (a.length !== b.length) return false;
  const key = (m: MountSpec) => `${m.container_path}\u0000${m.local_path}\u0000${m.read_only}`;
  const left = a.map(key).sort();
  const right = b.map(key).sort();
  return left.every((value, index) => value === right[index]);
}

/** Rewrites inspect's `/other:/self/alias` link form into create's `other:alias` form. */
function linkForCreate(link: string): string {
  const [target = '', alias = ''] = link.split(':');
  return `${target.replace(/^\//, '')}:${alias.split('/').pop() ?? alias}`;
}

function hostConfigFor(inspect: ContainerInspect, mounts: MountSpec[], isManaged: ManagedTargetTest): Record<string, unknown> {
  const host: Record<string, unknown> = { ...(inspect.HostConfig as Record<string, unknown>) };
  const binds = (inspect.HostConfig.Binds ?? []).filter((bind) => !isManaged(trimSlash(bindDestination(bind))));
  const declared = new Set<string>(binds.map((bind) => trimSlash(bindDestination(bind))));

  const existingMounts = (inspect.HostConfig.Mounts ?? []).filter((mount) => !isManaged(trimSlash(mount.Target)));
  const actualByTarget = new Map<string, MountPoint>((inspect.Mounts ?? []).map((m) => [trimSlash(m.Destination), m]));
  const carried = existingMounts.map((mount) => {
    declared.add(trimSlash(mount.Target));
    // A `--mount type=volume` without a source got a generated name: attach that same volume.
    if (mount.Type === 'volume' && !mount.Source) {
      const actual = actualByTarget.get(trimSlash(mount.Target));
      if (actual?.Name) return { ...mount, Source: actual.Name };
    }
    return mount;
  });

  // Anonymous volumes (image VOLUME or `-v /path`) are in neither list: re-attach each by name.
  const anonymous = (inspect.Mounts ?? [])
    .filter((m) => m.Type === 'volume' && m.Name && !declared.has(trimSlash(m.Destination)))
    .map((m) => ({ Type: 'volume', Source: m.Name, Target: m.Destination, ReadOnly: !m.RW }));

  const managed = mounts.map((m) => ({ Type: 'bind', Source: m.local_path, Target: m.container_path, ReadOnly: m.read_only }));

  host.Binds = binds.length > 0 ? binds : null;
  host.Mounts = [...carried, ...anonymous, ...managed];
  if (Array.isArray(inspect.HostConfig.Links)) host.Links = (inspect.HostConfig.Links as string[]).map(linkForCreate);
  return host;
}

/**
 * Copies the parts of an endpoint that a user configures. The Engine adds the
 * short id as an alias, and below API 1.45 also the hostname, so both are left
 * out and the Engine adds them again for the replacement. DNSNames (API 1.45),
 * addresses and the endpoint's MacAddress are what the Engine assigned at
 * start, so they are not copied either.
 */
function endpointFor(settings: EndpointSettings, derivedAliases: Set<string>): EndpointSettings {
  const aliases = (settings.Aliases ?? []).filter((alias) => !derivedAliases.has(alias));
  const endpoint: EndpointSettings = {};
  if (aliases.length > 0) endpoint.Aliases = aliases;
  if (settings.IPAMConfig) endpoint.IPAMConfig = settings.IPAMConfig;
  if (settings.Links && settings.Links.length > 0) endpoint.Links = settings.Links;
  if (settings.DriverOpts) endpoint.DriverOpts = settings.DriverOpts;
  return endpoint;
}

/**
 * Builds the create body for a replacement of `inspect` whose managed mounts
 * are exactly `mounts`. `image` is the image reference to create from: the
 * old container's image id, or its tag when that tag still names the same id.
 */
export function buildReplacementSpec(
  inspect: ContainerInspect,
  mounts: MountSpec[],
  options: { isManaged: ManagedTargetTest; apiVersion: string; image: string },
): ReplacementSpec {
  const config = inspect.Config as unknown as Record<string, unknown>;
  const fields: Record<string, unknown> = { Image: options.image };
  for (const field of CONFIG_FIELDS) {
    if (config[field] !== undefined && config[field] !== null) fields[field] = config[field];
  }
  const body = fields as ContainerCreateBody;
  // Docker sets the hostname to the short id unless one was given: only an explicit one is kept.
  const shortId = inspect.Id.slice(0, 12);
  if (inspect.Config.Hostname && inspect.Config.Hostname !== shortId) body.Hostname = inspect.Config.Hostname;

  body.HostConfig = hostConfigFor(inspect, mounts, options.isManaged) as ContainerCreateBody['HostConfig'];

  const networkMode = String(inspect.HostConfig.NetworkMode ?? '');
  const networks = Object.entries(inspect.NetworkSettings?.Networks ?? {});
  const laterNetworks: ReplacementSpec['laterNetworks'] = [];
  const attachable = !['host', 'none', ''].includes(networkMode) && !networkMode.startsWith('container:');
  if (attachable && networks.length > 0) {
    const derivedAliases = new Set([shortId]);
    if (compareVersions(options.apiVersion, '1.45') < 0 && inspect.Config.Hostname) derivedAliases.add(inspect.Config.Hostname);
    const endpoints = networks.map(([name, settings]) => [name, endpointFor(settings, derivedAliases)] as const);
    const primary = endpoints.find(([name]) => name === networkMode) ?? endpoints[0]!;
    // Config.MacAddress is the address configured for the primary network, so only a chosen one is copied.
    // From API 1.44 the Engine takes it on the endpoint and rejects a Config.MacAddress that differs.
    // NOTE: from API 1.44 a MAC address chosen for another network cannot be distinguished from an assigned one, so it is not kept.
    const macAddress = inspect.Config.MacAddress;
    if (macAddress && compareVersions(options.apiVersion, '1.44') >= 0) primary[1].MacAddress = macAddress;
    else if (macAddress) body.MacAddress = macAddress;
    if (compareVersions(options.apiVersion, '1.44') >= 0) {
      body.NetworkingConfig = { EndpointsConfig: Object.fromEntries(endpoints) };
    } else {
      body.NetworkingConfig = { EndpointsConfig: { [primary[0]]: primary[1] } };
      for (const [name, endpoint] of endpoints) {
        if (name !== primary[0]) laterNetworks.push({ network: name, endpointConfig: endpoint });
      }
    }
  }
  return { body, laterNetworks };
}
