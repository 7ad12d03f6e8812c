/**
 * Self-check of an edit: the edited text is parsed again and must differ from the
 * original only in the managed entries of the service.
 */
import { isDeepStrictEqual } from 'node:util';
import { MountCoreError } from '../errors.js';
import { locateService, parseCompose, serviceValue, type ServiceLocation } from './document.js';
import { classifyVolume, entryMatchesSpec, type VolumeEntry } from './entries.js';
import type { CheckedSyncOptions } from './options.js';
import { internalComposeError } from './problems.js';

/**
 * Throws ComposeError COMPOSE_INVALID, as an internal error to report, unless
 * `editedText` contains exactly the requested managed entries, the other entries of the
 * service in their old order, and an unchanged rest of the document.
 */
export function verifySync(before: ServiceLocation, beforeEntries: VolumeEntry[], editedText: string, options: CheckedSyncOptions): void {
  let after: ServiceLocation;
  try {
    after = locateService(parseCompose(editedText), options.service);
  } catch (error) {
    const detail = error instanceof MountCoreError || error instanceof Error ? error.message : String(error);
    throw internalComposeError(`the edited text does not parse as before: ${detail}`);
  }

  const afterEntries = after.entries.map((value, index) => classifyVolume(value, index, options.root));
  const requested = new Map(options.mounts.map((mount) => [mount.container_path, mount]));
  const managed = new Map<string, number>();
  for (const entry of afterEntries) {
    if (entry.kind !== 'managed') continue;
    const count = managed.get(entry.entry.target) ?? 0;
    managed.set(entry.entry.target, count + 1);
    const spec = requested.get(entry.entry.target);
    if (spec === undefined || count > 0 || !entryMatchesSpec(entry.entry, spec)) {
      throw internalComposeError(`entry ${entry.entry.index} for ${entry.entry.target} is not what was written`, [...after.volumesPath, entry.entry.index]);
    }
  }
  const missing = options.mounts.find((mount) => !managed.has(mount.container_path));
  if (missing !== undefined) throw internalComposeError(`no entry for ${missing.container_path} after the edit`, after.volumesPath);

  const othersBefore = before.entries.filter((_, index) => beforeEntries[index]?.kind !== 'managed');
  const othersAfter = after.entries.filter((_, index) => afterEntries[index]?.kind !== 'managed');
  if (!isDeepStrictEqual(othersBefore, othersAfter)) throw internalComposeError('an unmanaged volume entry changed', after.volumesPath);

  if (!isDeepStrictEqual(withoutVolumes(before.value, options.service), withoutVolumes(after.value, options.service))) {
    throw internalComposeError('a part of the file outside the volumes of the service changed');
  }
}

/** Returns a copy of a document value without `services.<service>.volumes`. */
function withoutVolumes(value: Record<string, unknown>, service: string): Record<string, unknown> {
  const { volumes: _volumes, ...rest } = serviceValue(value, service);
  const services = value.services as Record<string, unknown>;
  return { ...value, services: { ...services, [service]: rest } };
}
