import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ComposeError, MountCoreError, ValidationError, type ComposeProblem } from '../../lib/errors.js';
import { readManagedMounts, syncComposeMounts } from '../../lib/compose/index.js';
import type { MountSpec } from '../../lib/types.js';

const REQUESTED: MountSpec[] = [{ local_path: '/home/dev/a', container_path: '/workspace/u1/a', read_only: false }];
const VALID = 'services:\n  dev:\n    image: x\n';

function sync(source: string, mounts: MountSpec[] = REQUESTED, service = 'dev') {
  return syncComposeMounts(source, { service, workspaceRoot: '/workspace', mounts });
}

/** Asserts that `run` throws ComposeError COMPOSE_INVALID and returns its problems. */
function composeProblems(run: () => unknown): ComposeProblem[] {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof ComposeError, `expected a ComposeError, got ${String(caught)}`);
  assert.equal(caught.code, 'COMPOSE_INVALID');
  assert.ok(caught.problems.length > 0, 'no problems listed');
  assert.deepEqual(caught.details.problems, caught.problems);
  assert.equal(typeof caught.details.reason, 'string');
  return caught.problems;
}

/** Asserts that `run` throws ValidationError INVALID_FIELD naming `field`. */
function rejectsField(run: () => unknown, field: string): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof ValidationError);
    assert.equal(error.code, 'INVALID_FIELD');
    assert.equal(error.details.field, field);
    return true;
  });
}

test('invalid yaml is rejected', () => {
  const problems = composeProblems(() => sync('services:\n  dev:\n    image: [x\n'));
  assert.deepEqual(problems[0]?.path, []);
});

test('duplicate keys are rejected', () => {
  composeProblems(() => sync('services:\n  dev:\n    image: x\n    image: y\n'));
});

test('several documents are rejected', () => {
  composeProblems(() => sync('services: {}\n---\nservices: {}\n'));
});

test('non-mapping root is rejected', () => {
  assert.deepEqual(composeProblems(() => sync('- a\n- b\n'))[0]?.path, []);
  composeProblems(() => sync(''));
});

test('missing services is rejected', () => {
  assert.deepEqual(composeProblems(() => sync('version: "3"\n'))[0]?.path, ['services']);
});

test('non-mapping services is rejected', () => {
  assert.deepEqual(composeProblems(() => sync('services:\n  - dev\n'))[0]?.path, ['services']);
});

test('missing service is rejected', () => {
  const problems = composeProblems(() => sync(VALID, REQUESTED, 'web'));
  assert.deepEqual(problems[0]?.path, ['services', 'web']);
});

test('null service is rejected', () => {
  assert.deepEqual(composeProblems(() => sync('services:\n  dev:\n'))[0]?.path, ['services', 'dev']);
});

test('non-sequence volumes are rejected', () => {
  for (const value of ['./src:/src', '{ a: b }', '', '~']) {
    const problems = composeProblems(() => sync(`services:\n  dev:\n    volumes: ${value}\n`, []));
    assert.deepEqual(problems[0]?.path, ['services', 'dev', 'volumes'], value);
  }
});

test('flow volumes needing a change are rejected', () => {
  const source = 'services:\n  dev:\n    volumes: ["./src:/src"]\n';
  const problems = composeProblems(() => sync(source));
  assert.deepEqual(problems[0]?.path, ['services', 'dev', 'volumes']);
});

test('flow volumes needing no change pass', () => {
  const source = 'services:\n  dev:\n    volumes: ["./src:/src", "/home/dev/a:/workspace/u1/a"]\n';
  const result = sync(source);
  assert.equal(result.changed, false);
  assert.equal(result.text, source);
});

test('volumes from a merge key are not edited', () => {
  const source = 'x-base: &base\n  volumes:\n    - ./src:/src\nservices:\n  dev:\n    <<: *base\n';
  assert.deepEqual(composeProblems(() => sync(source))[0]?.path, ['services', 'dev', 'volumes']);
  assert.equal(sync(source, []).changed, false);
});

test('volumes through an alias are not edited', () => {
  const source = 'x-vols: &vols\n  - ./src:/src\nservices:\n  dev:\n    volumes: *vols\n';
  assert.deepEqual(composeProblems(() => sync(source))[0]?.path, ['services', 'dev', 'volumes']);
});

test('aliased service is not edited', () => {
  const source = 'x-dev: &dev\n  image: x\nservices:\n  dev: *dev\n';
  assert.deepEqual(composeProblems(() => sync(source))[0]?.path, ['services', 'dev']);
});

test('flow service mapping is not edited', () => {
  const source = 'services:\n  dev: { image: x }\n';
  assert.deepEqual(composeProblems(() => sync(source))[0]?.path, ['services', 'dev']);
});

test('shared anchored entry is not removed', () => {
  const source = 'services:\n  dev:\n    volumes:\n      - &a /home/dev/x:/workspace/u1/x\n  other:\n    volumes:\n      - *a\n';
  assert.deepEqual(composeProblems(() => sync(source, []))[0]?.path, ['services', 'dev', 'volumes', 0]);
});

test('shared anchored volumes list is not edited', () => {
  const source = 'services:\n  dev:\n    volumes: &v\n      - ./src:/src\n  other:\n    volumes: *v\n';
  assert.deepEqual(composeProblems(() => sync(source))[0]?.path, ['services', 'dev', 'volumes']);
});

test('shared anchored service is not edited', () => {
  const source = 'services:\n  dev: &dev\n    image: x\n  other:\n    <<: *dev\n';
  assert.deepEqual(composeProblems(() => sync(source))[0]?.path, ['services', 'dev']);
});

test('volume on a wanted target is a conflict', () => {
  const source = 'services:\n  dev:\n    volumes:\n      - ./src:/src\n      - cache:/workspace/u1/a\n';
  assert.deepEqual(composeProblems(() => sync(source))[0]?.path, ['services', 'dev', 'volumes', 1]);
});

test('alias bomb is rejected', () => {
  const lines = ['a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]'];
  for (let i = 1; i < 8; i += 1) {
    const previous = String.fromCharCode(96 + i);
    const current = String.fromCharCode(97 + i);
    lines.push(`${current}: &${current} [${Array(10).fill(`*${previous}`).join(', ')}]`);
  }
  lines.push('services:', '  dev:', '    image: x', '');
  composeProblems(() => sync(lines.join('\n')));
});

test('read errors match sync errors', () => {
  composeProblems(() => readManagedMounts('services: [\n', { service: 'dev', workspaceRoot: '/workspace' }));
  composeProblems(() => readManagedMounts(VALID, { service: 'web', workspaceRoot: '/workspace' }));
});

test('unusable options are rejected', () => {
  const spec = (changes: Partial<MountSpec>): MountSpec[] => [{ ...REQUESTED[0]!, ...changes }];
  rejectsField(() => sync(VALID, REQUESTED, ''), 'service');
  rejectsField(() => syncComposeMounts(VALID, { service: 'dev', workspaceRoot: 'workspace', mounts: [] }), 'workspaceRoot');
  rejectsField(() => syncComposeMounts(VALID, { service: 'dev', workspaceRoot: '/a/../workspace', mounts: [] }), 'workspaceRoot');
  rejectsField(() => sync(VALID, spec({ local_path: '' })), 'mounts[0].local_path');
  rejectsField(() => sync(VALID, spec({ container_path: '/other/u1/a' })), 'mounts[0].container_path');
  rejectsField(() => sync(VALID, spec({ container_path: '/workspace/u1' })), 'mounts[0].container_path');
  rejectsField(() => sync(VALID, spec({ container_path: '/workspace/u1/a/b' })), 'mounts[0].container_path');
  rejectsField(() => sync(VALID, spec({ container_path: '/workspace/u1/a/' })), 'mounts[0].container_path');
  rejectsField(() => sync(VALID, spec({ container_path: '/workspace/u1/../a' })), 'mounts[0].container_path');
  rejectsField(() => sync(VALID, spec({ read_only: 'yes' as unknown as boolean })), 'mounts[0].read_only');
  rejectsField(() => sync(VALID, [...REQUESTED, { ...REQUESTED[0]!, local_path: '/home/dev/b' }]), 'mounts[1].container_path');
  rejectsField(() => readManagedMounts(VALID, { service: 'dev', workspaceRoot: '' }), 'workspaceRoot');
});

test('options are checked before parsing', () => {
  rejectsField(() => sync('not: [valid', REQUESTED, ''), 'service');
});

test('errors share the root class', () => {
  assert.throws(() => sync('services: {}\n'), MountCoreError);
});

test('explicit key volumes are not edited', () => {
  const source = 'services:\n  dev:\n    ? volumes\n    : - /home/dev/x:/workspace/u1/a\n    image: x\n';
  assert.deepEqual(composeProblems(() => sync(source))[0]?.path, ['services', 'dev', 'volumes']);
});
