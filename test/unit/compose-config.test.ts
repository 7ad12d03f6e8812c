/**
 * Checks the transform's output with the real Compose parser: `docker compose config`
 * only loads and validates the file, it contacts no engine and no network. Without the
 * compose plugin the suite is skipped, except under CI=true, where that is a failure.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import { syncComposeMounts } from '../../lib/compose/index.js';
import type { MountSpec } from '../../lib/types.js';

const run = promisify(execFile);

interface ConfigVolume {
  type: string;
  source?: string;
  target: string;
  read_only?: boolean;
  bind?: { create_host_path?: boolean };
}

async function composeVersion(): Promise<string | undefined> {
  try {
    const { stdout } = await run('docker', ['compose', 'version', '--short'], { timeout: 10_000 });
    return stdout.trim();
  } catch {
    return undefined;
  }
}

const version = await composeVersion();
const MISSING = 'docker compose plugin not available (`docker compose version` failed)';
if (version === undefined && process.env.CI === 'true') {
  test('compose plugin is installed', () => {
    assert.fail(`CI=true but ${MISSING}`);
  });
}

/** Writes `text` to a temporary compose file and returns the service's volumes as Compose reads them. */
async function composeVolumes(t: TestContext, text: string): Promise<ConfigVolume[]> {
  const folder = await fs.mkdtemp(path.join(os.tmpdir(), 'mount-core-config-'));
  t.after(() => fs.rm(folder, { recursive: true, force: true }));
  const file = path.join(folder, 'docker-compose.dev.yml');
  await fs.writeFile(file, text);

  const args = ['compose', '-p', 'mount-core-config-test', '-f', file, 'config', '--format', 'json'];
  const { stdout } = await run('docker', args, { timeout: 30_000, cwd: folder });
  const config = JSON.parse(stdout) as { services: Record<string, { volumes?: ConfigVolume[] }> };
  return config.services.dev?.volumes ?? [];
}

const SOURCE = `# dev stack
services:
  dev:
    image: 'node:20'
    ports: ["5172:5172"]
    volumes:
      - ./src:/src   # sources
      # - ./old:/old
      - cache:/cache
  other:
    image: alpine
volumes:
  cache: {}
`;

const MOUNTS: MountSpec[] = [
  { local_path: '/home/dev/a', container_path: '/workspace/u1/a', read_only: false },
  { local_path: '/home/dev/My Projects/app', container_path: '/workspace/u1/b', read_only: true },
  { local_path: '/home/dev/Projekte/Müller Δ/app'.normalize('NFC'), container_path: '/workspace/u1/nfc', read_only: false },
  { local_path: '/home/dev/Projekte/Müller Δ/app'.normalize('NFD'), container_path: '/workspace/u1/nfd', read_only: false },
  { local_path: '/home/dev/proj:v2', container_path: '/workspace/u2/colon', read_only: false },
  { local_path: '/home/dev/a: b #c', container_path: '/workspace/u2/quoted', read_only: false },
  { local_path: 'C:\\Users\\dev\\proj', container_path: '/workspace/u2/windows', read_only: true },
  { local_path: '/home/dev/next\u0085line', container_path: '/workspace/u2/nel', read_only: false },
];

describe('docker compose config', { skip: version === undefined ? MISSING : false }, () => {
  test('reads every managed mount as written', async (t) => {
    const result = syncComposeMounts(SOURCE, { service: 'dev', workspaceRoot: '/workspace', mounts: MOUNTS });
    const volumes = await composeVolumes(t, result.text);

    for (const spec of MOUNTS) {
      const entry = volumes.find((volume) => volume.target === spec.container_path);
      assert.ok(entry, `no volume for ${spec.container_path}`);
      assert.equal(entry.type, 'bind');
      assert.equal(entry.source, spec.local_path);
      assert.equal(entry.read_only ?? false, spec.read_only);
      // Compose omits create_host_path when it is false, so an empty bind object is the expected output.
      assert.ok(entry.bind !== undefined, `no bind options for ${spec.container_path}`);
      assert.notEqual(entry.bind.create_host_path, true);
    }
    assert.ok(volumes.some((volume) => volume.target === '/src'));
    assert.ok(volumes.some((volume) => volume.target === '/cache' && volume.type === 'volume'));
    assert.equal(volumes.length, MOUNTS.length + 2);
  });

  test('accepts the file after removing every mount', async (t) => {
    const added = syncComposeMounts(SOURCE, { service: 'dev', workspaceRoot: '/workspace', mounts: MOUNTS });
    const removed = syncComposeMounts(added.text, { service: 'dev', workspaceRoot: '/workspace', mounts: [] });
    assert.equal(removed.text, SOURCE);
    const volumes = await composeVolumes(t, removed.text);
    assert.deepEqual(volumes.map((volume) => volume.target).sort(), ['/cache', '/src']);
  });

  test('accepts a volumes key added to a service', async (t) => {
    const source = 'services:\n  dev:\n    image: node:20\n';
    const result = syncComposeMounts(source, { service: 'dev', workspaceRoot: '/workspace', mounts: MOUNTS.slice(0, 1) });
    const volumes = await composeVolumes(t, result.text);
    assert.deepEqual(volumes.map((volume) => [volume.source, volume.target]), [['/home/dev/a', '/workspace/u1/a']]);
  });
});
