/**
 * Crash repair after a real SIGKILL. For each step, a child process runs the
 * recreate with a file journal and kills itself with SIGKILL as the step
 * starts (test/fixtures/recreate-until-step.ts). repairRecreate then runs in
 * this process with a fresh client and the same journal file, as the monitor
 * does at its next start.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { DockerClient } from '../../lib/docker/index.js';
import type { RecreateStep } from '../../lib/errors.js';
import { FileRecreateJournal } from '../../lib/recreate/journal.js';
import { PREV_SUFFIX } from '../../lib/recreate/recreate.js';
import { repairRecreate, type RepairOutcome } from '../../lib/recreate/repair.js';
import { docker, engineSkip, findEngine, uniqueName, removeContainers } from '../helpers/engine.js';

const engine = await findEngine();
const FIXTURE = fileURLToPath(new URL('../fixtures/recreate-until-step.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TARGET = '/workspace/u1/crash';

/**
 * What repair does after a kill at each step. Up to start-new the replacement
 * has not run, so repair rolls back and the old mounts stay. From wait-running
 * on the replacement runs under the container's name, so repair keeps it and
 * removes the old container.
 */
const CASES: Array<{ step: RecreateStep; outcome: RepairOutcome; mounts: 'old' | 'new' }> = [
  { step: 'create', outcome: 'rolled-back', mounts: 'old' },
  { step: 'verify-sources', outcome: 'rolled-back', mounts: 'old' },
  { step: 'park-old', outcome: 'rolled-back', mounts: 'old' },
  { step: 'stop-old', outcome: 'rolled-back', mounts: 'old' },
  { step: 'rename-new', outcome: 'rolled-back', mounts: 'old' },
  { step: 'start-new', outcome: 'rolled-back', mounts: 'old' },
  { step: 'wait-running', outcome: 'completed', mounts: 'new' },
  { step: 'remove-old', outcome: 'completed', mounts: 'new' },
];

/** Runs the fixture until it dies; returns its exit code or signal and what it wrote to stderr. */
function runUntilKilled(args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
}

describe('repair after the recreating process is killed', { skip: engineSkip(engine) }, () => {
  let client: DockerClient;
  let root: string;
  const created: string[] = [];

  before(async () => {
    client = new DockerClient({ host: engine!.host });
    root = await mkdtemp(join(tmpdir(), 'mc-crash-'));
  });

  after(async () => {
    await removeContainers(engine!, created);
    await client?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  const names = async (name: string) =>
    (await docker(engine!, ['ps', '-a', '--filter', `name=${name}`, '--format', '{{.Names}}'])).split('\n').filter(Boolean).sort();

  for (const { step, outcome, mounts } of CASES) {
    test(`SIGKILL at ${step}: repair leaves the ${mounts} mounts`, async () => {
      const source = join(root, step);
      await mkdir(source);
      await writeFile(join(source, 'marker.txt'), step);
      const name = uniqueName('mc-crash');
      created.push(name);
      await docker(engine!, [
        'run', '-d', '--pull', 'never', '--name', name, '--network', 'none', '--init', '--stop-timeout', '1',
        '--restart', 'always', 'local/busybox:test',
      ]);
      const was = await client.containerInspect({ id: name });
      const journalFile = join(root, `journal-${step}.json`);

      const child = await runUntilKilled([engine!.host, name, journalFile, step, source, TARGET]);
      assert.equal(child.signal, 'SIGKILL', `the fixture exited with code ${child.code} instead: ${child.stderr}`);
      assert.equal((await new FileRecreateJournal(journalFile).read())?.step, step, 'the journal records the step it died at');

      const fresh = new DockerClient({ host: engine!.host });
      try {
        assert.equal(await repairRecreate(fresh, new FileRecreateJournal(journalFile), name), outcome);
      } finally {
        await fresh.close();
      }

      assert.deepEqual(await names(name), [name], 'exactly one container has the name and nothing is left over');
      const now = await client.containerInspect({ id: name });
      assert.equal(now.State.Running, true);
      assert.deepEqual(now.HostConfig.RestartPolicy, was.HostConfig.RestartPolicy);
      const targets = now.Mounts.map((mount) => mount.Destination);
      if (mounts === 'old') {
        assert.equal(now.Id, was.Id);
        assert.deepEqual(now.Mounts, was.Mounts);
      } else {
        assert.notEqual(now.Id, was.Id);
        assert.deepEqual(targets, [TARGET]);
        assert.equal((await docker(engine!, ['exec', name, 'cat', `${TARGET}/marker.txt`])).trim(), step);
      }
      assert.equal(await new FileRecreateJournal(journalFile).read(), undefined, 'the journal is cleared');
    });
  }

  test('repair starts replacement when old is gone', async () => {
    const source = join(root, 'gone');
    await mkdir(source);
    const name = uniqueName('mc-crash');
    created.push(name);
    await docker(engine!, ['run', '-d', '--pull', 'never', '--name', name, '--network', 'none', '--init', '--stop-timeout', '1', '--restart', 'always', 'local/busybox:test']);
    const journalFile = join(root, 'journal-gone.json');
    const child = await runUntilKilled([engine!.host, name, journalFile, 'remove-old', source, TARGET]);
    assert.equal(child.signal, 'SIGKILL', child.stderr);
    // Someone removes the parked old container and the replacement stops before the monitor is back.
    await docker(engine!, ['rm', '-f', name + PREV_SUFFIX]);
    await docker(engine!, ['stop', name]);

    const fresh = new DockerClient({ host: engine!.host });
    try {
      assert.equal(await repairRecreate(fresh, new FileRecreateJournal(journalFile), name), 'completed');
    } finally {
      await fresh.close();
    }
    assert.deepEqual(await names(name), [name]);
    const now = await client.containerInspect({ id: name });
    assert.equal(now.State.Running, true);
    assert.deepEqual(now.Mounts.map((mount) => mount.Destination), [TARGET]);
    assert.equal(await new FileRecreateJournal(journalFile).read(), undefined);
  });
});
