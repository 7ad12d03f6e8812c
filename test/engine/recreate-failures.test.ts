/**
 * Recreates that fail, each on a real engine. After every failure the old
 * container runs under its name with the same id and its restart policy, no
 * `-mount-core-next` or `-mount-core-prev` container is left, the journal is
 * empty, and the RecreateError names the step and the daemon's reason.
 *
 * Faults a shared engine cannot produce on demand go through FaultyEngine, a
 * wrapper around DockerClient:
 * - an image that is gone: the Engine will not remove the image of an
 *   existing container, so the wrapper fails create with the daemon's 404
 *   "No such image";
 * - an Engine that goes away mid-recreate: restarting a shared dockerd would
 *   disturb other tests, so from a chosen step on the wrapper fails every
 *   call with DockerUnavailableError, and repairRecreate then runs with a
 *   fresh client against the same journal, as the monitor does at its next
 *   start. The containers keep running meanwhile, which a real daemon
 *   restart without live-restore would not do.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DockerClient, type ContainerCreateBody, type ContainerInspect } from '../../lib/docker/index.js';
import { DockerUnavailableError, EngineError, RecreateError, type RecreateStep } from '../../lib/errors.js';
import { FileRecreateJournal } from '../../lib/recreate/journal.js';
import { recreateContainer, type RecreateOptions } from '../../lib/recreate/recreate.js';
import { repairRecreate } from '../../lib/recreate/repair.js';
import { managedTargetTest } from '../../lib/validation/managed-target.js';
import { FaultyEngine } from '../fixtures/faulty-engine.js';
import { docker, engineSkip, findEngine, uniqueName, removeContainers } from '../helpers/engine.js';

const engine = await findEngine();
const isManaged = managedTargetTest('/workspace');
const TARGET = '/workspace/u1/fail';
/** Exits with code 3 when the managed mount is present, so only the replacement crashes. */
const CRASH_WITH_MOUNT = ['sh', '-c', `if [ -e ${TARGET} ]; then exit 3; fi; exec sleep 3600`];

describe('recreate failures', { skip: engineSkip(engine) }, () => {
  let client: DockerClient;
  let root: string;
  const created: string[] = [];

  before(async () => {
    client = new DockerClient({ host: engine!.host });
    root = await mkdtemp(join(tmpdir(), 'mc-fail-'));
  });

  after(async () => {
    await removeContainers(engine!, created);
    await client?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  async function folder(label: string): Promise<string> {
    const path = join(root, label);
    await mkdir(path, { recursive: true });
    await writeFile(join(path, 'marker.txt'), label);
    return path;
  }

  /** Starts a container that stops within a second and has a restart policy to restore. */
  async function startContainer(args: string[] = [], command: string[] = []): Promise<{ name: string; was: ContainerInspect }> {
    const name = uniqueName('mc-fail');
    created.push(name);
    await docker(engine!, [
      'run', '-d', '--pull', 'never', '--name', name, '--network', 'none', '--init', '--stop-timeout', '1',
      '--restart', 'unless-stopped', ...args, 'local/busybox:test', ...command,
    ]);
    return { name, was: await client.containerInspect({ id: name }) };
  }

  const names = async (name: string) =>
    (await docker(engine!, ['ps', '-a', '--filter', `name=${name}`, '--format', '{{.Names}}'])).split('\n').filter(Boolean).sort();

  async function assertRestored(name: string, was: ContainerInspect, journal: FileRecreateJournal): Promise<void> {
    const now = await client.containerInspect({ id: name });
    assert.equal(now.Id, was.Id, 'the old container is back under its name');
    assert.equal(now.State.Running, true);
    assert.deepEqual(now.HostConfig.RestartPolicy, was.HostConfig.RestartPolicy);
    assert.deepEqual(now.Mounts, was.Mounts);
    assert.deepEqual(await names(name), [name], 'no -next or -prev container is left');
    assert.equal(await journal.read(), undefined, 'the journal is cleared');
  }

  /** Runs a recreate that must fail; returns its RecreateError. */
  async function failingRecreate(options: Partial<RecreateOptions> & Pick<RecreateOptions, 'container' | 'mounts' | 'journal'>): Promise<RecreateError> {
    let failure: RecreateError | undefined;
    await assert.rejects(
      recreateContainer({ engine: client, isManaged, operationId: 'op_fail', minUptimeMs: 300, startTimeoutMs: 20_000, ...options }),
      (error: unknown) => {
        assert.ok(error instanceof RecreateError, `expected a RecreateError, got ${String(error)}`);
        failure = error;
        return true;
      },
    );
    return failure!;
  }

  const journalFile = (label: string) => new FileRecreateJournal(join(root, `journal-${label}.json`));

  test('missing bind source fails at create', async () => {
    const { name, was } = await startContainer();
    const journal = journalFile('missing');
    const missing = join(root, 'does-not-exist');
    const error = await failingRecreate({ container: name, mounts: [{ local_path: missing, container_path: TARGET, read_only: false }], journal });
    assert.equal(error.code, 'BIND_SOURCE_MISSING');
    assert.equal(error.step, 'create');
    assert.equal(error.restored, true);
    assert.equal(error.details.path, missing);
    assert.match(String(error.details.daemon_message), /bind source path does not exist/);
    assert.equal((await client.containerInspect({ id: name })).State.StartedAt, was.State.StartedAt, 'the old container never stopped');
    await assertRestored(name, was, journal);
  });

  test('image gone fails at create', async () => {
    const { name, was } = await startContainer();
    const journal = journalFile('image');
    const faulty = new FaultyEngine(client, (method, options) => {
      if (method !== 'containerCreate') return undefined;
      const { body } = options as { body: ContainerCreateBody };
      return new EngineError(404, 'POST', '/v1.41/containers/create', `No such image: ${body.Image}`);
    });
    const error = await failingRecreate({ engine: faulty, container: name, mounts: [{ local_path: await folder('image'), container_path: TARGET, read_only: false }], journal });
    assert.equal(error.code, 'RECREATE_FAILED');
    assert.equal(error.step, 'create');
    assert.equal(error.restored, true);
    assert.match(String(error.details.daemon_message), /^No such image: /);
    assert.equal((await client.containerInspect({ id: name })).State.StartedAt, was.State.StartedAt);
    await assertRestored(name, was, journal);
  });

  test('create rejected by the daemon', async () => {
    const { name, was } = await startContainer(['--cpus', '0.5']);
    const journal = journalFile('rejected');
    // A CPU period beside NanoCpus is a HostConfig the daemon itself rejects, so the reason comes from the real engine.
    const faulty = new FaultyEngine(client, (method, options) => {
      if (method === 'containerCreate') (options as { body: ContainerCreateBody }).body.HostConfig!.CpuPeriod = 100_000;
      return undefined;
    });
    const error = await failingRecreate({ engine: faulty, container: name, mounts: [{ local_path: await folder('rejected'), container_path: TARGET, read_only: false }], journal });
    assert.equal(error.code, 'RECREATE_FAILED');
    assert.equal(error.step, 'create');
    assert.equal(error.restored, true);
    assert.match(String(error.details.daemon_message), /Nano CPUs and CPU Period cannot both be set/i);
    await assertRestored(name, was, journal);
  });

  test('bind source removed before start', async () => {
    const { name, was } = await startContainer();
    const journal = journalFile('start');
    const source = await folder('start');
    const error = await failingRecreate({
      container: name,
      mounts: [{ local_path: source, container_path: TARGET, read_only: false }],
      journal,
      // The bind source disappears after create, so the daemon fails to start the replacement.
      onStep: async (step) => {
        if (step === 'start-new') await rm(source, { recursive: true, force: true });
      },
    });
    assert.equal(error.code, 'BIND_SOURCE_MISSING');
    assert.equal(error.step, 'start-new');
    assert.equal(error.restored, true);
    assert.equal(error.details.path, source);
    assert.match(String(error.details.daemon_message), /bind source path does not exist/);
    await assertRestored(name, was, journal);
  });

  test('replacement that exits at once', async () => {
    const { name, was } = await startContainer([], CRASH_WITH_MOUNT);
    const journal = journalFile('exits');
    const started = Date.now();
    const error = await failingRecreate({ container: name, mounts: [{ local_path: await folder('exits'), container_path: TARGET, read_only: false }], journal });
    assert.equal(error.code, 'RECREATE_FAILED');
    assert.equal(error.step, 'wait-running');
    assert.equal(error.restored, true);
    // Its restart policy keeps restarting it, which must fail the wait at once rather than at startTimeoutMs.
    assert.match(String(error.details.reason), /exited/);
    assert.ok(Date.now() - started < 15_000, `the failure took ${Date.now() - started} ms`);
    await assertRestored(name, was, journal);
  });

  test('healthcheck not healthy within startTimeoutMs', async () => {
    const { name, was } = await startContainer(['--health-cmd', 'false', '--health-interval', '1s', '--health-retries', '1000']);
    const journal = journalFile('health-timeout');
    const error = await failingRecreate({
      container: name,
      mounts: [{ local_path: await folder('health-timeout'), container_path: TARGET, read_only: false }],
      journal,
      startTimeoutMs: 2500,
    });
    assert.equal(error.code, 'RECREATE_FAILED');
    assert.equal(error.step, 'wait-running');
    assert.equal(error.restored, true);
    assert.match(String(error.details.reason), /not healthy within 2500 ms/);
    await assertRestored(name, was, journal);
  });

  test('healthcheck that turns unhealthy', async () => {
    const { name, was } = await startContainer(['--health-cmd', 'false', '--health-interval', '1s', '--health-retries', '1']);
    const journal = journalFile('unhealthy');
    const error = await failingRecreate({ container: name, mounts: [{ local_path: await folder('unhealthy'), container_path: TARGET, read_only: false }], journal });
    assert.equal(error.step, 'wait-running');
    assert.equal(error.restored, true);
    assert.match(String(error.details.reason), /unhealthy/);
    await assertRestored(name, was, journal);
  });

  const outageSteps: RecreateStep[] = ['park-old', 'stop-old', 'rename-new', 'start-new'];
  for (const outageAt of outageSteps) {
    test(`engine unreachable from ${outageAt} on, then repair`, async () => {
      const { name, was } = await startContainer();
      const journal = journalFile(`outage-${outageAt}`);
      let down = false;
      const faulty = new FaultyEngine(client, (method) =>
        down ? new DockerUnavailableError(`cannot reach Docker Engine (${method}): the test took it away`) : undefined,
      );
      const error = await failingRecreate({
        engine: faulty,
        container: name,
        mounts: [{ local_path: await folder(`outage-${outageAt}`), container_path: TARGET, read_only: false }],
        journal,
        onStep: (step) => {
          if (step === outageAt) down = true;
        },
      });
      assert.equal(error.code, 'RECREATE_FAILED');
      assert.equal(error.step, outageAt);
      assert.equal(error.restored, false, 'the rollback cannot reach the engine either');
      assert.equal(error.details.cause_code, 'DOCKER_UNAVAILABLE');
      assert.equal((await journal.read())?.step, outageAt, 'the journal is kept for the repair');

      const fresh = new DockerClient({ host: engine!.host });
      try {
        assert.equal(await repairRecreate(fresh, new FileRecreateJournal(journal.file), name), 'rolled-back');
      } finally {
        await fresh.close();
      }
      await assertRestored(name, was, journal);
    });
  }
});
