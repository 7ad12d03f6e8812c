/** Store files of a given size, written directly in the v2 format without going through the lock. */
import { writeFile } from 'node:fs/promises';
import { serializeStore, type Mount } from '../../lib/index.js';

/**
 * Writes a store with `count` applied mounts under `/srv/projects`, 100
 * workspaces a user. The paths need not exist: only a recreate checks them.
 */
export async function writeStoreFile(file: string, count: number, workspaceRoot = '/workspace'): Promise<void> {
  const mounts = new Map<string, Mount>();
  const time = new Date('2026-01-01T00:00:00.000Z').toISOString();
  for (let i = 0; i < count; i++) {
    const user = `user${Math.floor(i / 100)}`;
    const workspace = `ws${i % 100}`;
    mounts.set(`${user}:${workspace}`, {
      user_id: user,
      workspace_id: workspace,
      local_path: `/srv/projects/${user}/${workspace}`,
      container_path: `${workspaceRoot}/${user}/${workspace}`,
      description: `workspace ${workspace} of ${user}`,
      read_only: false,
      created_at: time,
      updated_at: time,
      state: 'applied',
    });
  }
  await writeFile(file, serializeStore({ revision: count, mounts }));
}
