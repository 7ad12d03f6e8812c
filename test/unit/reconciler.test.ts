/**
 * The reconciler's scheduling rules on an in-memory engine: a lone change
 * starts at once, a burst costs at most two recreates, identical state
 * recreates nothing, and an unreachable Engine is retried. The real-engine
 * behaviour of each apply is covered by test/engine and test/e2e.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { DockerUnavailableError } from '../../lib/errors.js';
import { Reconciler, type ReconcilerOptions } from '../../lib/reconciler/reconciler.js';
import { MountStore } from '../../lib/store/index.js';
import { containerPathFor, managedTargetTest } from '../../lib/validation/index.js';
import { MemoryEngine } from '../helpers/memory-engine.js';

const CONTAINER = 'dev';
const isManaged = managedTargetTest('/workspace');

interface Setup {
  engine: MemoryEngine;
  store: MountStore;
  reconciler: Reconciler;
  folder: string;
}

async function setup(
  t: TestContext,
  options: { stopDelayMs?: number; retryDelaysMs?: number[]; compose?: Pick<ReconcilerOptions, 'writeCompose' | 'prepareCompose'> } = {},
): Promise<Setup> {
  const folder = await mkdtemp(join(tmpdir(), 'mount-core-reconciler-'));
  t.after(() => rm(folder, { recursive: true, force: true }));
  const engine = new MemoryEngine();
  engine.addRunning(CONTAINER);
  engine.stopDelayMs = options.stopDelayMs ?? 0;
  const store = new MountStore({ file: join(folder, 'mounts.json'), workspaceRoot: '/workspace' });
  const reconciler = new Reconciler({
    store,
    engine,
    container: CONTAINER,
    isManaged,
    recreate: { minUptimeMs: 0, pollIntervalMs: 5 },
    retryDelaysMs: options.retryDelaysMs ?? [20],
    ...options.compose,
  });
  t.after(() => reconciler.close());
  return { engine, store, reconciler, folder };
}

async function save(setup: Setup, user: string, workspace: string) {
  const local_path = join(setup.folder, `${user}-${workspace}`);
  await mkdir(local_path, { recursive: true });
  return setup.store.upsert({
    user_id: user,
    workspace_id: workspace,
    local_path,
    container_path: containerPathFor('/workspace', user, workspace),
    description: '',
    read_only: false,
  });
}

test('lone change starts at once', async (t) => {
  const s = await setup(t);
  const { revision } = await save(s, 'u1', 'a');
  const operation = s.reconciler.request('apply', revision);
  assert.equal(operation.state, 'running');
  const settled = await s.reconciler.settled(operation);
  assert.equal(settled.state, 'succeeded', JSON.stringify(settled.error));
  assert.equal(settled.result?.recreated, true);
  assert.deepEqual(s.engine.mountTargets(CONTAINER), ['/workspace/u1/a']);
});

test('burst costs at most two recreates', async (t) => {
  const s = await setup(t, { stopDelayMs: 100 });
  const operations = new Set<string>();
  // 10 clients with 10 changes each; each change is saved, then requested, like the monitor's POST.
  await Promise.all(
    Array.from({ length: 10 }, async (_, client) => {
      for (let i = 0; i < 10; i++) {
        const { revision } = await save(s, `u${client}`, `w${i}`);
        operations.add(s.reconciler.request('apply', revision).id);
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20));
      }
    }),
  );
  const last = [...operations].map((id) => s.reconciler.operation(id)!);
  await Promise.all(last.map((operation) => s.reconciler.settled(operation)));

  assert.ok(s.engine.count('containerCreate') <= 2, `${s.engine.count('containerCreate')} recreates`);
  assert.ok(operations.size <= 2, `${operations.size} operations`);
  assert.equal(s.engine.mountTargets(CONTAINER).length, 100);
  const { mounts } = await s.store.read();
  assert.equal(mounts.filter((m) => m.state === 'applied').length, 100);
});

test('request for a covered revision joins', async (t) => {
  const s = await setup(t, { stopDelayMs: 50 });
  const first = await save(s, 'u1', 'a');
  const second = await save(s, 'u1', 'b');
  const running = s.reconciler.request('apply', second.revision);
  // A late request for an older revision, as from the store watcher, is carried by the running apply
  // whether or not it has read the store yet.
  const joined = s.reconciler.request('apply', first.revision);
  assert.equal(joined.id, running.id);
  await s.reconciler.settled(running);
  assert.deepEqual(s.engine.mountTargets(CONTAINER), ['/workspace/u1/a', '/workspace/u1/b']);
  assert.equal(s.engine.count('containerCreate'), 1);
});

test('matching state recreates nothing', async (t) => {
  const s = await setup(t);
  const { revision } = await save(s, 'u1', 'a');
  await s.reconciler.settled(s.reconciler.request('apply', revision));
  const creates = s.engine.count('containerCreate');
  const again = await s.reconciler.settled(s.reconciler.request('apply'));
  assert.equal(again.state, 'succeeded');
  assert.equal(again.result?.recreated, false);
  assert.equal(s.engine.count('containerCreate'), creates);
});

test('restart during an apply is queued', async (t) => {
  const s = await setup(t, { stopDelayMs: 50 });
  const { revision } = await save(s, 'u1', 'a');
  const apply = s.reconciler.request('apply', revision);
  const restart = s.reconciler.request('restart');
  assert.notEqual(restart.id, apply.id);
  assert.equal(restart.state, 'queued');
  const settled = await s.reconciler.settled(restart);
  assert.equal(settled.state, 'succeeded');
  assert.equal(settled.result?.restarted, true);
});

test('unreachable engine is retried', async (t) => {
  const s = await setup(t, { retryDelaysMs: [30] });
  s.engine.failWith = () => new DockerUnavailableError('cannot reach the engine', { details: { docker_host: 'unix:///nowhere' } });
  const { revision } = await save(s, 'u1', 'a');
  const failed = await s.reconciler.settled(s.reconciler.request('apply', revision));
  assert.equal(failed.state, 'failed');
  assert.equal(failed.error?.code, 'DOCKER_UNAVAILABLE');
  assert.equal((await s.store.get('u1', 'a'))?.state, 'pending');

  s.engine.failWith = undefined;
  for (let i = 0; i < 100 && (await s.store.get('u1', 'a'))?.state !== 'applied'; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.equal((await s.store.get('u1', 'a'))?.state, 'applied');
  assert.deepEqual(s.engine.mountTargets(CONTAINER), ['/workspace/u1/a']);
});

test('apply reuses earlier inspects', async (t) => {
  const s = await setup(t);
  const others = ['other-1', 'other-2', 'other-3'].map((name) => s.engine.addRunning(name));
  const before = (await s.engine.containerInspect({ id: CONTAINER })).Id;
  s.engine.inspected.length = 0;

  const first = await s.reconciler.settled(s.reconciler.request('apply', (await save(s, 'u1', 'a')).revision));
  assert.equal(first.state, 'succeeded', JSON.stringify(first.error));
  const between = (await s.engine.containerInspect({ id: CONTAINER })).Id;
  const later = s.engine.addRunning('other-4');
  const second = await s.reconciler.settled(s.reconciler.request('apply', (await save(s, 'u1', 'b')).revision));
  assert.equal(second.state, 'succeeded', JSON.stringify(second.error));

  const times = (id: string) => s.engine.inspected.filter((entry) => entry === id).length;
  assert.deepEqual(others.map(times), [1, 1, 1], 'each other container is inspected by the first dependents check only');
  assert.equal(times(later), 1, 'a container created between applies is inspected once');
  // The reconciler inspects the development container by name; the recreate reuses that inspect
  // instead of inspecting the old container by id again.
  assert.equal(times(CONTAINER), 3, 'one inspect by name per apply, plus the one above');
  assert.equal(times(before), 0);
  assert.equal(times(between), 1, 'only the first apply\'s wait for the replacement to run');
});

test('record runs during old removal', async (t) => {
  const s = await setup(t);
  const oldId = (await s.engine.containerInspect({ id: CONTAINER })).Id;
  let stateDuringRemove: string | undefined;
  s.engine.beforeRemove = async (id) => {
    if (id !== oldId) return;
    // The record runs beside the removal; wait for it here, for at most 2 s.
    for (let i = 0; i < 100 && (await s.store.get('u1', 'a'))?.state !== 'applied'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    stateDuringRemove = (await s.store.get('u1', 'a'))?.state;
  };
  const settled = await s.reconciler.settled(s.reconciler.request('apply', (await save(s, 'u1', 'a')).revision));
  assert.equal(settled.state, 'succeeded', JSON.stringify(settled.error));
  assert.equal(stateDuringRemove, 'applied');
  assert.deepEqual(settled.steps.map((entry) => entry.step).slice(-2), ['remove-old', 'record']);
});

test('failed old removal keeps applied state', async (t) => {
  const s = await setup(t);
  const oldId = (await s.engine.containerInspect({ id: CONTAINER })).Id;
  s.engine.beforeRemove = async (id) => {
    if (id === oldId) throw new DockerUnavailableError('lost the engine while removing', { details: { docker_host: 'unix:///nowhere' } });
  };
  const settled = await s.reconciler.settled(s.reconciler.request('apply', (await save(s, 'u1', 'a')).revision));
  assert.equal(settled.state, 'failed');
  assert.equal(settled.error?.step, 'remove-old');
  assert.deepEqual(s.engine.mountTargets(CONTAINER), ['/workspace/u1/a']);
  assert.equal((await s.store.get('u1', 'a'))?.state, 'applied');
});

test('compose update prepared during recreate', async (t) => {
  const calls: string[] = [];
  let s: Setup | undefined;
  s = await setup(t, {
    compose: {
      writeCompose: async (mounts) => {
        calls.push(`write ${mounts.length}`);
      },
      prepareCompose: async (mounts) => {
        const running = s!.reconciler.status().running;
        calls.push(`prepare ${mounts.length} at ${running?.step}`);
        return async () => {
          calls.push(`commit ${mounts.length}`);
        };
      },
    },
  });
  const settled = await s.reconciler.settled(s.reconciler.request('apply', (await save(s, 'u1', 'a')).revision));
  assert.equal(settled.state, 'succeeded', JSON.stringify(settled.error));
  assert.deepEqual(calls, ['prepare 1 at stop-old', 'commit 1']);
});

test('failed compose preparation falls back', async (t) => {
  const calls: string[] = [];
  const s = await setup(t, {
    compose: {
      writeCompose: async (mounts) => {
        calls.push(`write ${mounts.length}`);
      },
      prepareCompose: async () => {
        calls.push('prepare');
        throw new Error('the compose file changed under the test');
      },
    },
  });
  const settled = await s.reconciler.settled(s.reconciler.request('apply', (await save(s, 'u1', 'a')).revision));
  assert.equal(settled.state, 'succeeded', JSON.stringify(settled.error));
  assert.equal(settled.result?.compose_error, undefined);
  assert.deepEqual(calls, ['prepare', 'write 1']);
});
