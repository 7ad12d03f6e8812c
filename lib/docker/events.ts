/**
 * The `GET /events` stream: query building, and one DockerEvent per line of
 * the response whatever its chunking.
 */
import { MountCoreError } from '../errors.js';
import { NdjsonDecoder } from './ndjson.js';
import { invalidOption } from './options.js';
import type { EngineRequest, EngineTransport, QueryValue } from './transport.js';
import type { DockerEvent } from './types.js';

/** A point in time for `since` and `until`: a Date, Unix seconds, or any string the daemon accepts (`10m`, RFC 3339). */
export type EventTime = Date | number | string;

export interface EventsOptions {
  /** Replay events from this time on; the daemon keeps only its most recent events. Default: only new events. */
  since?: EventTime;
  /** End the stream at this time. Default: no end. */
  until?: EventTime;
  /** Engine filters, such as `{ type: ['container'], container: [id] }`. Default: all events. */
  filters?: Record<string, string[]>;
  /** Ends the iteration without an error when aborted. */
  signal?: AbortSignal;
}

/** Checks the options and builds the query of GET /events; throws ConfigError on an invalid option. */
export function buildEventsQuery(options: EventsOptions): Record<string, QueryValue> {
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw invalidOption('signal', options.signal, 'expected an AbortSignal');
  }
  return {
    since: options.since === undefined ? undefined : formatEventTime('since', options.since),
    until: options.until === undefined ? undefined : formatEventTime('until', options.until),
    filters: options.filters === undefined ? undefined : encodeFilters('filters', options.filters),
  };
}

/**
 * Yields the events of an open GET /events request until the daemon ends the
 * stream or `signal` aborts. Partial data after the last line break is
 * dropped, because a complete event always ends with one.
 */
export async function* readEvents(transport: EngineTransport, request: EngineRequest, signal?: AbortSignal): AsyncGenerator<DockerEvent> {
  if (signal?.aborted) return;
  const stream = await transport.openStream(request, signal);
  if (stream === undefined) return;

  const decoder = new NdjsonDecoder();
  try {
    for await (const chunk of stream.body) {
      for (const line of decoder.push(chunk)) {
        yield parseEvent(line, request);
      }
    }
  } catch (error) {
    if (stream.signal.aborted) return;
    throw transport.toEngineFailure(error, request);
  }
  decoder.end();
}

/** Encodes Engine filters as the JSON object of string arrays that every API version accepts. */
export function encodeFilters(option: string, filters: Record<string, string[]>): string {
  if (typeof filters !== 'object' || filters === null || Array.isArray(filters)) {
    throw invalidOption(option, filters, 'expected an object of string arrays, such as { "label": ["a=b"] }');
  }
  for (const [name, values] of Object.entries(filters)) {
    if (!Array.isArray(values) || values.some((value) => typeof value !== 'string')) {
      throw invalidOption(`${option}.${name}`, values, 'expected an array of strings');
    }
  }
  return JSON.stringify(filters);
}

function formatEventTime(option: string, value: EventTime): string {
  if (typeof value === 'string') {
    if (value.trim() === '') throw invalidOption(option, value, 'expected a time, such as a Date, Unix seconds or "10m"');
    return value;
  }
  let milliseconds = Number.NaN;
  if (value instanceof Date) milliseconds = value.getTime();
  if (typeof value === 'number') milliseconds = value * 1000;
  if (!Number.isFinite(milliseconds) || milliseconds < 0) {
    throw invalidOption(option, value, 'expected a valid Date, non-negative Unix seconds or a string the daemon accepts');
  }
  // The daemon reads `seconds.nanoseconds` with the fraction as a whole number of
  // nanoseconds, so `.5` would mean 5 ns: the fraction is padded to nine digits.
  const seconds = Math.floor(milliseconds / 1000);
  const nanoseconds = Math.round((milliseconds - seconds * 1000) * 1e6);
  return `${seconds}.${String(Math.min(nanoseconds, 999_999_999)).padStart(9, '0')}`;
}

function parseEvent(line: string, request: EngineRequest): DockerEvent {
  let event: unknown;
  try {
    event = JSON.parse(line);
  } catch (error) {
    throw badEvent(line, request, error);
  }
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw badEvent(line, request);
  }
  return event as DockerEvent;
}

function badEvent(line: string, request: EngineRequest, cause?: unknown): MountCoreError {
  const excerpt = line.length > 200 ? `${line.slice(0, 200)}…` : line;
  return new MountCoreError('ENGINE_ERROR', 502, `Docker Engine sent an event line that is not a JSON object on ${request.method} ${request.path}: ${excerpt}`, {
    details: { method: request.method, path: request.path, daemon_message: excerpt },
    cause,
  });
}
