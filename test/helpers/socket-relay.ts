/**
 * A fault-injecting stand-in for an Engine outage: a unix socket in a temp
 * folder whose connections are piped to the real Engine socket. `pause()`
 * cuts every open connection (an events stream drops like it does when
 * dockerd stops) and treats new ones as `mode` sets; `resume()` relays again.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * How a paused relay treats new connections: `reset` accepts and closes them
 * at once (the client reads "other side closed"), `refuse` stops listening so
 * that connecting fails with ENOENT, as with a dockerd that is not running.
 */
export type PauseMode = 'reset' | 'refuse';

export interface SocketRelay {
  /** Path of the relay's unix socket. */
  socketPath: string;
  /** `unix://<socketPath>`, for DOCKER_HOST or the DockerClient host option. */
  host: string;
  readonly paused: boolean;
  /** Connections accepted since the relay started, relayed or not. */
  readonly accepted: number;
  /** Closes every open connection and stops relaying new ones. */
  pause(mode?: PauseMode): Promise<void>;
  /** Relays new connections again. */
  resume(): Promise<void>;
  /** Closes every connection, stops listening and removes the temp folder. */
  close(): Promise<void>;
}

/** Starts a relay from a new socket in a temp folder to `targetSocketPath`. */
export async function startSocketRelay(targetSocketPath: string): Promise<SocketRelay> {
  const folder = await mkdtemp(join(tmpdir(), 'mc-relay-'));
  const socketPath = join(folder, 'engine.sock');
  const open = new Set<Socket>();
  let paused = false;
  let accepted = 0;
  let server: Server | undefined;

  const onConnection = (client: Socket) => {
    accepted += 1;
    if (paused) {
      client.destroy();
      return;
    }
    const upstream = connect(targetSocketPath);
    open.add(client);
    open.add(upstream);
    const closeBoth = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', closeBoth).on('close', closeBoth);
    upstream.on('error', closeBoth).on('close', closeBoth);
    client.pipe(upstream);
    upstream.pipe(client);
  };

  const listen = async () => {
    await rm(socketPath, { force: true });
    const next = createServer(onConnection);
    await new Promise<void>((resolve, reject) => {
      next.once('error', reject);
      next.listen(socketPath, () => {
        next.off('error', reject);
        resolve();
      });
    });
    server = next;
  };

  const stopListening = async () => {
    const current = server;
    server = undefined;
    if (current) await new Promise<void>((resolve) => current.close(() => resolve()));
    await rm(socketPath, { force: true });
  };

  const cutAll = () => {
    for (const socket of open) socket.destroy();
    open.clear();
  };

  await listen();
  return {
    socketPath,
    host: `unix://${socketPath}`,
    get paused() {
      return paused;
    },
    get accepted() {
      return accepted;
    },
    async pause(mode: PauseMode = 'reset') {
      paused = true;
      cutAll();
      if (mode === 'refuse') await stopListening();
    },
    async resume() {
      paused = false;
      if (!server) await listen();
    },
    async close() {
      paused = true;
      cutAll();
      await stopListening();
      await rm(folder, { recursive: true, force: true });
    },
  };
}
