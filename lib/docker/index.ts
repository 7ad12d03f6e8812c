/** Docker Engine API client: the public surface of `lib/docker/`. */
export { DockerClient, type PingResult, type StateChangeResult, type WaitCondition } from './client.js';
export { parseDockerHost, type DockerHost, type TcpDockerHost, type UnixDockerHost } from './docker-host.js';
export {
  DEFAULT_DOCKER_HOST, DEFAULT_MAX_API_VERSION, DEFAULT_MIN_API_VERSION, DEFAULT_TIMEOUT_MS,
  type DockerClientOptions,
} from './options.js';
export { chooseApiVersion, compareApiVersions, isApiVersion, type ApiVersionChoice } from './api-version.js';
export { NdjsonDecoder, splitLines, DEFAULT_MAX_LINE_LENGTH, type NdjsonDecoderOptions } from './ndjson.js';
export { decodePathStat, type ContainerPathStat } from './archive-stat.js';
export { type EventsOptions, type EventTime } from './events.js';
export { ENGINE_CHANNEL_NAME, type EngineRequestMessage } from './diagnostics.js';
export { engineEndpointPattern, findEngineEndpoint, MONITOR_ENGINE_ENDPOINTS, type EngineEndpoint } from './endpoints.js';
export { ERROR_BODY_LIMIT } from './response-body.js';
export type * from './types.js';
