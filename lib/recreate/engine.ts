/**
 * The Engine calls a recreate makes, as a structural interface. DockerClient
 * satisfies it; tests may pass a wrapper that injects faults a real engine
 * cannot produce on demand.
 */
import type { ContainerCreateBody, ContainerInspect, EndpointSettings } from '../docker/types.js';

export interface RecreateEngine {
  /** Negotiated API version, for example `1.41`. */
  apiVersion(): Promise<string>;
  containerInspect(options: { id: string }): Promise<ContainerInspect>;
  containerCreate(options: { name?: string; body: ContainerCreateBody }): Promise<{ Id: string; Warnings?: string[] | null }>;
  containerStart(options: { id: string }): Promise<unknown>;
  containerStop(options: { id: string; timeoutSeconds: number }): Promise<unknown>;
  containerRestart(options: { id: string; timeoutSeconds: number }): Promise<unknown>;
  containerRename(options: { id: string; name: string }): Promise<unknown>;
  containerRemove(options: { id: string; force?: boolean; volumes?: boolean }): Promise<unknown>;
  containerUpdate(options: { id: string; body: Record<string, unknown> }): Promise<unknown>;
  containerList(options: { all?: boolean; filters?: Record<string, string[]> }): Promise<Array<{ Id: string; Names?: string[] }>>;
  networkConnect(options: { network: string; container: string; endpointConfig?: EndpointSettings }): Promise<unknown>;
  imageInspect(options: { id: string }): Promise<{ Id: string }>;
  /** Stats a path inside a container, created or running, following its mounts. */
  containerArchiveStat(options: { id: string; path: string }): Promise<{ isDirectory: boolean }>;
}
