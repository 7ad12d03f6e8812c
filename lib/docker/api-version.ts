/**
 * Docker Engine API versions (`1.41`, `1.45`): parsing, ordering and the
 * choice of the version a client speaks to a daemon.
 */

const API_VERSION = /^(\d{1,4})\.(\d{1,4})$/;

/** Returns true when `value` has the `major.minor` form the Engine uses. */
export function isApiVersion(value: unknown): value is string {
  return typeof value === 'string' && API_VERSION.test(value);
}

/** Orders two `major.minor` versions numerically, so that `1.9` < `1.41`; negative, zero or positive. */
export function compareApiVersions(a: string, b: string): number {
  const [aMajor, aMinor] = splitVersion(a);
  const [bMajor, bMinor] = splitVersion(b);
  return aMajor !== bMajor ? aMajor - bMajor : aMinor - bMinor;
}

/** The outcome of comparing the daemon's API version with the range the client supports. */
export type ApiVersionChoice =
  | { ok: true; version: string }
  | { ok: false; reason: 'below-minimum' };

/**
 * Picks the version to speak: the daemon's own, capped at `max`. A daemon
 * older than `min` cannot be used, because the client relies on request and
 * response fields that API `min` introduced.
 */
export function chooseApiVersion(daemonVersion: string, range: { min: string; max: string }): ApiVersionChoice {
  if (compareApiVersions(daemonVersion, range.min) < 0) {
    return { ok: false, reason: 'below-minimum' };
  }
  const version = compareApiVersions(daemonVersion, range.max) > 0 ? range.max : daemonVersion;
  return { ok: true, version: normalizeApiVersion(version) };
}

/** Removes leading zeros (`01.041` becomes `1.41`), so that each version has one spelling in request paths. */
export function normalizeApiVersion(version: string): string {
  const [major, minor] = splitVersion(version);
  return `${major}.${minor}`;
}

function splitVersion(version: string): [number, number] {
  const match = API_VERSION.exec(version);
  if (!match) {
    throw new TypeError(`not an API version: ${JSON.stringify(version)}`);
  }
  return [Number(match[1]), Number(match[2])];
}
