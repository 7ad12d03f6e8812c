/**
 * Containers the recreate must refuse, each checked on a real engine: the
 * refusal is RECREATE_REFUSED with a reason, and the target is untouched
 * (same id, same start time, nothing renamed or created beside it).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DockerClient } from '../../lib/docker/index.js';
import { hasCode, type RecreateRefusedError } from '../../lib/errors.js';
import { NEXT_SUFFIX, PREV_SUFFIX, recreateContainer } from '../../lib/recreate/recreate.js';
import { managedTargetTest } from '../../lib/validation/managed-target.js';
import { docker, engineSkip, findEngine, uniqueName } from '../helpers/engine.js';

const engine = await findEngine();
const isManaged = managedTargetTest('/workspace');

describe('recreate refusals', { skip: engineSkip(engine) }, () => {
  let client: DockerClient;
  const created: string[] = [];

  before(() => {
    client = new DockerClient({ host: engine!.host });
  });

  after(async () => {
    for (const name of created) await docker(engine!, ['unpause', name]).catch(() => undefined);
    // One call for all, dependents first; it fails on the names that do not exist and removes the rest.
    const all = [...created].reverse().flatMap((name) => [name, name + NEXT_SUFFIX, name + PREV_SUFFIX]);
    await docker(engine!, ['rm', '-f', '-v', ...all]).catch(() => undefined);
    await client?.close();
  });

  async function run(args: string[], name = uniqueName('mc-refuse')): Promise<string> {
    created.push(name);
    await docker(engine!, ['run', '-d', '--pull', 'never', '--init', '--stop-timeout', '1', '--name', name, ...args, 'local/busybox:test']);
    return name;
  }

  const names = async (name: string) =>
    (await docker(engine!, ['ps', '-a', '--filter', `name=${name}`, '--format', '{{.Names}}'])).split('\n').filter(Boolean).sort();

  /** Tries a recreate that must be refused for `reason`; returns the error after checking the target is untouched. */
  async function expectRefusal(name: string, reason: string, selfContainerId?: string): Promise<RecreateRefusedError> {
    const was = await client.containerInspect({ id: name });
    let refusal: RecreateRefusedError | undefined;
    await assert.rejects(
      recreateContainer({
        engine: client,
        container: name,
        mounts: [{ local_path: '/tmp', container_path: '/workspace/u1/refused', read_only: true }],
        isManaged,
        operationId: `op_refuse_${reason}`,
        selfContainerId,
      }),
      (error: unknown) => {
        assert.ok(hasCode(error, 'RECREATE_REFUSED'), `expected RECREATE_REFUSED, got ${String(error)}`);
        assert.equal(error.status, 409);
        assert.equal(error.details.reason, reason);
        assert.equal(error.details.container, name);
        refusal = error as RecreateRefusedError;
        return true;
      },
    );
    const now = await client.containerInspect({ id: name });
    assert.equal(now.Id, was.Id);
    assert.equal(now.State.StartedAt, was.State.StartedAt);
    assert.equal(now.State.Status, was.State.Status);
    assert.deepEqual(now.Mounts, was.Mounts);
    assert.deepEqual(await names(name), [name]);
    return refusal!;
  }

  test('refuses the caller\'s own container', async () => {
    const name = await run(['--network', 'none']);
    const { Id } = await client.containerInspect({ id: name });
    await expectRefusal(name, 'self', Id.slice(0, 12));
  });

  test('refuses a container with AutoRemove', async () => {
    const name = await run(['--network', 'none', '--rm']);
    await expectRefusal(name, 'auto_remove');
  });

  test('refuses a paused container', async () => {
    const name = await run(['--network', 'none']);
    await docker(engine!, ['pause', name]);
    await expectRefusal(name, 'paused');
    assert.equal((await client.containerInspect({ id: name })).State.Paused, true);
  });

  test('refuses a Swarm task', async () => {
    // The test engines run no swarm, so a plain container with the task label is used in place of a task.
    const name = await run(['--network', 'none', '--label', 'com.docker.swarm.task.id=mc-refuse-task']);
    await expectRefusal(name, 'swarm_task');
  });

  test('refuses a container others depend on', async () => {
    const name = await run(['--network', 'none', '--ipc', 'shareable']);
    const { Id } = await client.containerInspect({ id: name });
    const byName = await run(['--network', `container:${name}`]);
    const byId = await run(['--network', 'none', '--volumes-from', `${Id.slice(0, 12)}:ro`]);
    const sharingPid = await run(['--network', 'none', '--pid', `container:${name}`]);
    const sharingIpc = await run(['--network', 'none', '--ipc', `container:${Id}`]);
    // A dependent that never ran counts too: starting it later would need the old container.
    const stopped = uniqueName('mc-refuse');
    created.push(stopped);
    await docker(engine!, ['create', '--pull', 'never', '--name', stopped, '--network', 'none', '--volumes-from', name, 'local/busybox:test']);

    const refusal = await expectRefusal(name, 'dependents');
    assert.deepEqual(refusal.details.dependents, [byName, byId, sharingPid, sharingIpc, stopped].sort());
    assert.match(refusal.message, new RegExp(byName));
  });

  test('unrelated containers are not dependents', async () => {
    const name = await run(['--network', 'none']);
    // A container whose name only starts with the target's name is another container.
    const neighbour = await run(['--network', 'none'], `${name}-other`);
    await run(['--network', `container:${neighbour}`]);
    await run(['--network', 'none', '--volumes-from', neighbour]);
    const result = await recreateContainer({ engine: client, container: name, mounts: [], isManaged, operationId: 'op_refuse_none', minUptimeMs: 200 });
    assert.equal((await client.containerInspect({ id: name })).Id, result.newId);
  });
});
