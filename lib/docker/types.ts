/**
 * The parts of Docker Engine API bodies (API 1.41 to 1.45) that mount-core
 * reads or writes. Field names keep the Engine's own spelling. Each type is
 * open (`[key: string]: unknown`) so that a recreate can carry over fields this
 * file does not name.
 */

export interface HealthConfig {
  Test?: string[];
  /** Nanoseconds. */
  Interval?: number;
  /** Nanoseconds. */
  Timeout?: number;
  Retries?: number;
  /** Nanoseconds. */
  StartPeriod?: number;
  [key: string]: unknown;
}

/** The `Config` of a container: what the image and the create request set. */
export interface ContainerConfig {
  Hostname?: string;
  Domainname?: string;
  User?: string;
  Env?: string[] | null;
  Cmd?: string[] | null;
  Entrypoint?: string[] | null;
  Image?: string;
  Labels?: Record<string, string> | null;
  WorkingDir?: string;
  ExposedPorts?: Record<string, Record<string, never>> | null;
  Healthcheck?: HealthConfig;
  StopSignal?: string;
  /** Seconds. */
  StopTimeout?: number;
  Volumes?: Record<string, Record<string, never>> | null;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  OnBuild?: string[] | null;
  /** Deprecated in API 1.44 in favour of the endpoint's MacAddress. */
  MacAddress?: string;
  NetworkDisabled?: boolean;
  Shell?: string[] | null;
  [key: string]: unknown;
}

/** One entry of `HostConfig.Mounts` in a create request. */
export interface MountConfig {
  Type: 'bind' | 'volume' | 'tmpfs' | 'npipe' | 'cluster';
  Source?: string;
  Target: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean; CreateMountpoint?: boolean; [key: string]: unknown };
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string>; DriverConfig?: { Name?: string; Options?: Record<string, string> } };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number };
  [key: string]: unknown;
}

export interface RestartPolicy {
  Name: '' | 'no' | 'always' | 'unless-stopped' | 'on-failure';
  MaximumRetryCount?: number;
}

export interface PortBinding {
  HostIp?: string;
  HostPort?: string;
}

export interface HostConfig {
  /** Legacy `source:target[:options]` strings; a missing source is created as a root-owned folder. */
  Binds?: string[] | null;
  Mounts?: MountConfig[] | null;
  RestartPolicy?: RestartPolicy;
  AutoRemove?: boolean;
  NetworkMode?: string;
  PortBindings?: Record<string, PortBinding[] | null> | null;
  VolumesFrom?: string[] | null;
  [key: string]: unknown;
}

/** A mount as `GET /containers/{id}/json` reports it. */
export interface MountPoint {
  Type: 'bind' | 'volume' | 'tmpfs' | 'npipe' | 'cluster';
  /** Volume name; empty for binds. */
  Name?: string;
  Source: string;
  Destination: string;
  Driver?: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
}

export interface EndpointSettings {
  Aliases?: string[] | null;
  NetworkID?: string;
  IPAMConfig?: { IPv4Address?: string; IPv6Address?: string; LinkLocalIPs?: string[] } | null;
  Links?: string[] | null;
  DriverOpts?: Record<string, string> | null;
  MacAddress?: string;
  [key: string]: unknown;
}

export interface ContainerState {
  /** `created`, `running`, `paused`, `restarting`, `removing`, `exited` or `dead`. */
  Status: string;
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  ExitCode: number;
  /** RFC 3339 time; `0001-01-01T00:00:00Z` before the first start. */
  StartedAt: string;
  FinishedAt: string;
  Health?: { Status: string; [key: string]: unknown };
  [key: string]: unknown;
}

/** Body of `GET /containers/{id}/json`. */
export interface ContainerInspect {
  Id: string;
  /** Name with a leading `/`. */
  Name: string;
  /** Image id (`sha256:…`), not the tag the container was created from. */
  Image: string;
  Created: string;
  State: ContainerState;
  Config: ContainerConfig;
  HostConfig: HostConfig;
  Mounts: MountPoint[];
  NetworkSettings: { Networks: Record<string, EndpointSettings>; [key: string]: unknown };
  [key: string]: unknown;
}

/** Body of `POST /containers/create`. */
export interface ContainerCreateBody extends ContainerConfig {
  HostConfig?: HostConfig;
  NetworkingConfig?: { EndpointsConfig?: Record<string, EndpointSettings> };
}

/** One entry of `GET /containers/json`. */
export interface ContainerSummary {
  Id: string;
  /** Names with a leading `/`. */
  Names: string[];
  Image: string;
  ImageID: string;
  Command: string;
  /** Unix seconds. */
  Created: number;
  State: string;
  Status: string;
  Labels: Record<string, string>;
  [key: string]: unknown;
}

/** Body of `POST /containers/{id}/update`: restart policy and resources. */
export interface ContainerUpdateBody {
  RestartPolicy?: RestartPolicy;
  [key: string]: unknown;
}

export interface ImageInspect {
  Id: string;
  RepoTags: string[] | null;
  RepoDigests: string[] | null;
  Created: string;
  Config: ContainerConfig | null;
  Os: string;
  Architecture: string;
  [key: string]: unknown;
}

export interface NetworkInspect {
  Id: string;
  Name: string;
  Driver: string;
  Scope: string;
  Internal: boolean;
  Attachable: boolean;
  Containers: Record<string, { Name: string; EndpointID: string; [key: string]: unknown }> | null;
  Options: Record<string, string> | null;
  Labels: Record<string, string> | null;
  [key: string]: unknown;
}

export interface VolumeInspect {
  Name: string;
  Driver: string;
  Mountpoint: string;
  Labels: Record<string, string> | null;
  Scope: string;
  Options: Record<string, string> | null;
  CreatedAt?: string;
  [key: string]: unknown;
}

/** Body of `GET /version`. */
export interface VersionInfo {
  Version: string;
  ApiVersion: string;
  MinAPIVersion: string;
  Os: string;
  Arch: string;
  KernelVersion: string;
  GitCommit: string;
  GoVersion: string;
  [key: string]: unknown;
}

/** Body of `GET /info`, reduced to the fields mount-core reads. */
export interface SystemInfo {
  ID: string;
  Name: string;
  ServerVersion: string;
  OperatingSystem: string;
  OSType: string;
  Architecture: string;
  DockerRootDir: string;
  Containers: number;
  ContainersRunning: number;
  [key: string]: unknown;
}

/** One line of `GET /events`. */
export interface DockerEvent {
  /** `container`, `image`, `network`, `volume`, `daemon` and others. */
  Type: string;
  /** `create`, `start`, `die`, `stop`, `rename`, `health_status: healthy` and others. */
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope?: string;
  /** Unix seconds. */
  time: number;
  timeNano: number;
  [key: string]: unknown;
}
