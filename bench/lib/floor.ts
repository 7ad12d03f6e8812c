/**
 * The floor: the least a program must ask of the Engine to swap a container
 * for one with another bind mount. The steps run in the order mount-core
 * uses: create new, rename old, stop old, rename new, start new, check it
 * runs, remove old. It sends plain undici requests over the unix socket, with
 * no mount-core code, no inspect of the old container (the script writes the
 * configuration it wants itself), no journal and no rollback.
 */
import { Pool } from 'undici';

export interface FloorTimes {
  /** From the create request to the old container's removal, in milliseconds. */
  totalMs: number;
  /** From the stop request to the inspect that shows the new container running, in milliseconds. */
  downtimeMs: number;
  newId: string;
}

/** One keep-alive connection pool to the Engine with a pinned API version. */
export class RawEngine {
  readonly #pool: Pool;

  constructor(socketPath: string, readonly apiVersion: string) {
    this.#pool = new Pool('http://localhost', { connect: { socketPath } });
  }

  /** Sends one request; throws on a status outside 2xx and 304. */
  async call(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<any> {
    const response = await this.#pool.request({
      method,
      path: `/v${this.apiVersion}${path}`,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
    });
    const text = await response.body.text();
    if (response.statusCode >= 300 && response.statusCode !== 304) {
      throw new Error(`${method} ${path} failed with ${response.statusCode}: ${text.trim()}`);
    }
    return text === '' ? undefined : JSON.parse(text);
  }

  close(): Promise<void> {
    return this.#pool.close();
  }
}

/** Returns the create body of the benchmark container with one bind mount of `source` at `target`. */
export function sleeperBody(image: string, source: string, target: string): Record<string, unknown> {
  return {
    Image: image,
    Cmd: ['sleep', '3600'],
    StopTimeout: 1,
    HostConfig: { Init: true, NetworkMode: 'none', Binds: [`${source}:${target}`] },
  };
}

/** Replaces the running container `name` (id `oldId`) by one created from `body`, step by step. */
export async function floorRecreate(engine: RawEngine, name: string, oldId: string, body: Record<string, unknown>): Promise<FloorTimes> {
  const started = performance.now();
  const created = await engine.call('POST', `/containers/create?name=${encodeURIComponent(`${name}-next`)}`, body);
  const newId: string = created.Id;
  await engine.call('POST', `/containers/${oldId}/rename?name=${encodeURIComponent(`${name}-prev`)}`);
  const stopRequested = performance.now();
  await engine.call('POST', `/containers/${oldId}/stop?t=1`);
  await engine.call('POST', `/containers/${newId}/rename?name=${encodeURIComponent(name)}`);
  await engine.call('POST', `/containers/${newId}/start`);
  const inspect = await engine.call('GET', `/containers/${newId}/json`);
  if (inspect.State?.Running !== true) throw new Error(`the new container ${newId} is ${inspect.State?.Status} after start`);
  const running = performance.now();
  await engine.call('DELETE', `/containers/${oldId}?force=true`);
  return { totalMs: performance.now() - started, downtimeMs: running - stopRequested, newId };
}
