/**
 * The response body of a mounts list, kept per store snapshot and language.
 * MountStore.readShared() returns the same snapshot object while the store
 * file is unchanged, so repeated lists of a large store send bytes
 * serialized once instead of serializing every mount on each request.
 */
import type { ServerResponse } from 'node:http';
import { text, type Language } from '../messages.js';
import type { StoreSnapshot } from '../store/store.js';
import { sendJsonText } from './envelope.js';

export class MountListBodies {
  readonly #bodies = new WeakMap<Readonly<StoreSnapshot>, Partial<Record<Language, Buffer>>>();

  /** Returns the serialized success envelope listing `snapshot`, in `language`. */
  body(snapshot: Readonly<StoreSnapshot>, language: Language): Buffer {
    let bodies = this.#bodies.get(snapshot);
    if (bodies === undefined) {
      bodies = {};
      this.#bodies.set(snapshot, bodies);
    }
    bodies[language] ??= Buffer.from(
      JSON.stringify({ success: true, message: text('mounts_listed', language), data: { revision: snapshot.revision, mounts: snapshot.mounts } }),
    );
    return bodies[language];
  }

  /** Writes the 200 list response for `snapshot` in `language`. */
  send(res: ServerResponse, snapshot: Readonly<StoreSnapshot>, language: Language): void {
    sendJsonText(res, 200, this.body(snapshot, language));
  }
}
