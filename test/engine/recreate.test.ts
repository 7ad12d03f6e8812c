import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DockerClient } from '../../lib/docker/index.js';
import { EngineError, hasCode, RecreateError } from '../../lib/errors.js';
import { FileRecreateJournal } from '../../lib/recreate/journal.js';
import { recreateContainer } from '../../lib/recreate/recreate.js';
import { repairRecreate } from '../../lib/recreate/repair.js';
import type { RecreateStep } from '../../lib/errors.js';
import type { MountSpec } from '../../lib/types.js';
import { managedTargetTest } from '../../lib/validation/managed-target.js';
import { docker, engineSkip, findEngine, uniqueName, removeContainers } from '../helpers/engine.js';

const engine = await findEngine();
const isManaged = managedTargetTest('/workspace');

describe('recreate on a real engine', { skip: engineSkip(engine) }, () => {
  let client: DockerClient;
  let root: string;
  const created: string[] = [];

  before(async () => {
    client = new DockerClient({ host: engine!.host });
    root = await mkdtemp(join(tmpdir(), 'mc-recreate-'));
  });

  after(async () => {
    await removeContainers(engine!, created);
    await client.close();
    await rm(root, { recursive: true, force: true });
  });

  async function folder(name: string, marker: string): Promise<string> {
    const path = join(root, name);
    await mkdir(path, { recursive: true });
    await writeFile(join(path, 'marker.txt'), marker);
    return path;
  }

  async function startContainer(args: string[], command: string[] = []): Promise<string> {
    const name = uniqueName('mc-rc');
    created.push(name);
    await docker(engine!, ['run', '-d', '--pull', 'never', '--network', 'none', '--stop-timeout', '1', '--name', name, ...args, 'local/busybox:test', ...command]);
    return name;
  }

  const mount = (local_path: string, container_path: string, read_only = false): MountSpec => ({ local_path, container_path, read_only });
  const exec = (name: string, ...command: string[]) => docker(engine!, ['exec', name, ...command]);
  const names = async (prefix: string) =>
    (await docker(engine!, ['ps', '-a', '--filter', `name=${prefix}`, '--format', '{{.Names}}'])).split('\n').filter(Boolean).sort();

  test('adds a mount and keeps the existing bind and volumes', async () => {
    const src = await folder('k01-src', 'src');
    const a = await folder('k01-a', 'A');
    const b = await folder('k01-b', 'B');
    const name = await startContainer(['-v', `${src}:/src`, '-v', '/anon', '--mount', `type=bind,source=${a},target=/workspace/u1/a`]);
    await exec(name, 'sh', '-c', 'echo kept > /anon/data');
    const before = await client.containerInspect({ id: name });
    const anonymous = before.Mounts.find((m) => m.Destination === '/anon')!.Name;

    const result = await recreateContainer({
      engine: client,
      container: name,
      mounts: [mount(a, '/workspace/u1/a'), mount(b, '/workspace/u1/b', true)],
      isManaged,
      operationId: 'op_test1',
      minUptimeMs: 200,
    });

    assert.equal(result.name, name);
    assert.notEqual(result.newId, before.Id);
    const afterInspect = await client.containerInspect({ id: name });
    assert.equal(afterInspect.Id, result.newId);
    assert.equal(afterInspect.State.Running, true);
    assert.equal(afterInspect.Image, before.Image);
    const targets = afterInspect.Mounts.map((m) => m.Destination).sort();
    assert.deepEqual(targets, ['/anon', '/src', '/workspace/u1/a', '/workspace/u1/b']);
    assert.equal(afterInspect.Mounts.find((m) => m.Destination === '/anon')!.Name, anonymous);
    assert.equal(afterInspect.Mounts.find((m) => m.Destination === '/workspace/u1/b')!.RW, false);
    assert.equal((await exec(name, 'cat', '/workspace/u1/b/marker.txt')).trim(), 'B');
    assert.equal((await exec(name, 'cat', '/src/marker.txt')).trim(), 'src');
    assert.equal((await exec(name, 'cat', '/anon/data')).trim(), 'kept');
    assert.deepEqual(await names(name), [name]);
  });

  test('removes a mount and leaves the others', async () => {
    const a = await folder('rm-a', 'A');
    const b = await folder('rm-b', 'B');
    const name = await startContainer(['--mount', `type=bind,source=${a},target=/workspace/u1/a`, '--mount', `type=bind,source=${b},target=/workspace/u1/b`]);
    await recreateContainer({ engine: client, container: name, mounts: [mount(a, '/workspace/u1/a')], isManaged, operationId: 'op_test2', minUptimeMs: 200 });
    const inspect = await client.containerInspect({ id: name });
    assert.deepEqual(inspect.Mounts.map((m) => m.Destination), ['/workspace/u1/a']);
    await assert.rejects(exec(name, 'ls', '/workspace/u1/b/marker.txt'));
  });

  test('leftover replacement is replaced', async () => {
    const a = await folder('left-a', 'A');
    const name = await startContainer([]);
    // A recreate that crashed after its create leaves a stopped container under the replacement's name.
    await docker(engine!, ['create', '--pull', 'never', '--network', 'none', '--name', `${name}-mount-core-next`, 'local/busybox:test']);
    const leftover = (await client.containerInspect({ id: `${name}-mount-core-next` })).Id;
    const result = await recreateContainer({ engine: client, container: name, mounts: [mount(a, '/workspace/u1/a')], isManaged, operationId: 'op_leftover', minUptimeMs: 0 });
    assert.notEqual(result.newId, leftover);
    assert.deepEqual(await names(name), [name]);
    assert.equal((await exec(name, 'cat', '/workspace/u1/a/marker.txt')).trim(), 'A');
  });

  test('missing bind source leaves the old container running', async () => {
    const name = await startContainer([]);
    const before = await client.containerInspect({ id: name });
    const missing = join(root, 'does-not-exist');
    await assert.rejects(
      recreateContainer({ engine: client, container: name, mounts: [mount(missing, '/workspace/u1/x')], isManaged, operationId: 'op_test3' }),
      (error: unknown) => {
        assert.ok(hasCode(error, 'BIND_SOURCE_MISSING'));
        assert.equal((error as RecreateError).step, 'create');
        assert.equal((error as RecreateError).details.path, missing);
        return true;
      },
    );
    const afterInspect = await client.containerInspect({ id: name });
    assert.equal(afterInspect.Id, before.Id);
    assert.equal(afterInspect.State.Running, true);
    assert.equal(afterInspect.State.StartedAt, before.State.StartedAt);
    assert.deepEqual(await names(name), [name]);
  });

  test('host file as source leaves the old container running', async () => {
    // The source check runs while the old container is parked, so the test also checks that its restart policy is restored.
    const name = await startContainer(['--restart', 'unless-stopped']);
    const before = await client.containerInspect({ id: name });
    const file = join(root, 'a-file.txt');
    await writeFile(file, 'not a folder');
    await assert.rejects(
      recreateContainer({ engine: client, container: name, mounts: [mount(file, '/workspace/u1/file')], isManaged, operationId: 'op_file' }),
      (error: unknown) => {
        assert.ok(hasCode(error, 'BIND_SOURCE_NOT_DIRECTORY'));
        assert.equal((error as RecreateError).step, 'verify-sources');
        assert.equal((error as RecreateError).restored, true);
        assert.equal((error as RecreateError).details.path, file);
        return true;
      },
    );
    const afterInspect = await client.containerInspect({ id: name });
    assert.equal(afterInspect.Id, before.Id);
    assert.equal(afterInspect.State.StartedAt, before.State.StartedAt);
    assert.equal(afterInspect.HostConfig.RestartPolicy?.Name, 'unless-stopped');
    assert.deepEqual(await names(name), [name]);
  });

  test('replacement that exits restores the old container', async () => {
    const crash = await folder('crash', 'x');
    const name = await startContainer(['--restart', 'unless-stopped'], ['sh', '-c', 'if [ -e /workspace/u1/crash ]; then exit 3; fi; exec sleep 3600']);
    const before = await client.containerInspect({ id: name });
    await assert.rejects(
      recreateContainer({ engine: client, container: name, mounts: [mount(crash, '/workspace/u1/crash')], isManaged, operationId: 'op_test4', minUptimeMs: 1500 }),
      (error: unknown) => {
        assert.ok(hasCode(error, 'RECREATE_FAILED'));
        assert.equal((error as RecreateError).step, 'wait-running');
        assert.equal((error as RecreateError).restored, true);
        return true;
      },
    );
    const afterInspect = await client.containerInspect({ id: name });
    assert.equal(afterInspect.Id, before.Id);
    assert.equal(afterInspect.State.Running, true);
    assert.equal(afterInspect.HostConfig.RestartPolicy?.Name, 'unless-stopped');
    assert.deepEqual(await names(name), [name]);
  });

  test('refuses the caller\'s own container', async () => {
    const name = await startContainer([]);
    const before = await client.containerInspect({ id: name });
    await assert.rejects(
      recreateContainer({ engine: client, container: name, mounts: [], isManaged, operationId: 'op_test5', selfContainerId: before.Id }),
      (error: unknown) => hasCode(error, 'RECREATE_REFUSED'),
    );
    assert.equal((await client.containerInspect({ id: name })).State.StartedAt, before.State.StartedAt);
  });

  const crashSteps: RecreateStep[] = ['park-old', 'stop-old', 'rename-new', 'start-new', 'wait-running', 'remove-old'];
  for (const crashAt of crashSteps) {
    test(`repair after a crash at ${crashAt}`, async () => {
      const a = await folder(`crash-${crashAt}`, crashAt);
      const name = await startContainer(['--restart', 'always']);
      const journal = new FileRecreateJournal(join(root, `journal-${crashAt}.json`));
      let reached!: () => void;
      const hung = new Promise<void>((resolve) => (reached = resolve));
      // The step hook never returns: the recreate stops there, as if the monitor had been killed.
      void recreateContainer({
        engine: client,
        container: name,
        mounts: [mount(a, '/workspace/u1/a')],
        isManaged,
        operationId: `op_crash_${crashAt}`,
        journal,
        minUptimeMs: 200,
        onStep: (step) => {
          if (step === crashAt) {
            reached();
            return new Promise<void>(() => undefined);
          }
        },
      }).catch(() => undefined);
      await hung;

      const fresh = new DockerClient({ host: engine!.host });
      try {
        const outcome = await repairRecreate(fresh, journal, name);
        assert.ok(outcome === 'completed' || outcome === 'rolled-back', `outcome ${outcome}`);
      } finally {
        await fresh.close();
      }
      assert.deepEqual(await names(name), [name]);
      const inspect = await client.containerInspect({ id: name });
      assert.equal(inspect.State.Running, true);
      assert.equal(inspect.HostConfig.RestartPolicy?.Name, 'always');
      assert.equal(await journal.read(), undefined);
    });
  }

  test('inspect of a removed container is CONTAINER_NOT_FOUND', async () => {
    await assert.rejects(client.containerInspect({ id: uniqueName('mc-missing') }), (error: unknown) => {
      assert.ok(error instanceof EngineError);
      assert.equal(error.code, 'CONTAINER_NOT_FOUND');
      return true;
    });
  });
});
