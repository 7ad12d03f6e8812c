import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import { parse } from 'yaml';
import { readManagedMounts, syncComposeMounts } from '../../lib/compose/index.js';
import type { MountSpec } from '../../lib/types.js';

const ROOT = '/workspace';

function mount(user: string, workspace: string, localPath: string, readOnly = false): MountSpec {
  return { local_path: localPath, container_path: `${ROOT}/${user}/${workspace}`, read_only: readOnly };
}

function sync(source: string, mounts: MountSpec[]) {
  return syncComposeMounts(source, { service: 'dev', workspaceRoot: ROOT, mounts });
}

function managed(source: string) {
  return readManagedMounts(source, { service: 'dev', workspaceRoot: ROOT });
}

/** Returns the service's volumes as plain values. */
function volumes(text: string): unknown[] {
  return (parse(text) as { services: { dev: { volumes?: unknown[] } } }).services.dev.volumes ?? [];
}

function longEntry(localPath: string, target: string, readOnly = false): Record<string, unknown> {
  return {
    type: 'bind',
    source: localPath,
    target,
    ...(readOnly ? { read_only: true } : {}),
    bind: { create_host_path: false },
  };
}

const BASE = `services:
  dev:
    image: node:20
    volumes:
      - ./src:/src
      - /home/dev/a:/workspace/u1/a
  other:
    image: alpine
`;

test('adds a mount in long syntax', () => {
  const result = sync(BASE, [mount('u1', 'a', '/home/dev/a'), mount('u1', 'b', '/home/dev/b', true)]);
  assert.equal(result.changed, true);
  assert.deepEqual(volumes(result.text), ['./src:/src', '/home/dev/a:/workspace/u1/a', longEntry('/home/dev/b', '/workspace/u1/b', true)]);
  assert.deepEqual(result.added, [mount('u1', 'b', '/home/dev/b', true)]);
  assert.deepEqual(result.removed, []);
  assert.deepEqual(result.problems, []);
});

test('writes read_only only when true', () => {
  const result = sync(BASE, [mount('u1', 'a', '/home/dev/a'), mount('u1', 'b', '/home/dev/b')]);
  assert.ok(!result.text.includes('read_only'));
  assert.ok(result.text.includes('create_host_path: false'));
});

test('adds new mounts sorted by container path', () => {
  const mounts = [mount('u2', 'z', '/home/dev/z'), mount('u1', 'a', '/home/dev/a'), mount('u1', 'c', '/home/dev/c'), mount('u1', 'b', '/home/dev/b')];
  const result = sync(BASE, mounts);
  assert.deepEqual(
    managed(result.text).map((entry) => entry.target),
    ['/workspace/u1/a', '/workspace/u1/b', '/workspace/u1/c', '/workspace/u2/z'],
  );
  assert.deepEqual(result.added.map((spec) => spec.container_path), ['/workspace/u1/b', '/workspace/u1/c', '/workspace/u2/z']);
});

test('keeps a matching short entry as written', () => {
  const result = sync(BASE, [mount('u1', 'a', '/home/dev/a')]);
  assert.equal(result.changed, false);
  assert.equal(result.text, BASE);
});

test('removes a mount that is no longer wanted', () => {
  const result = sync(BASE, []);
  assert.deepEqual(volumes(result.text), ['./src:/src']);
  assert.deepEqual(result.removed, [{ index: 1, source: '/home/dev/a', target: '/workspace/u1/a', read_only: false, syntax: 'short' }]);
  assert.deepEqual(result.added, []);
});

test('removes a long entry with all its lines', () => {
  const source = `services:
  dev:
    volumes:
      - type: bind
        source: /home/dev/a
        target: /workspace/u1/a
        bind:
          create_host_path: false
      - ./src:/src
    image: node:20
`;
  const result = sync(source, []);
  assert.equal(result.text, 'services:\n  dev:\n    volumes:\n      - ./src:/src\n    image: node:20\n');
  assert.equal(result.removed[0]?.syntax, 'long');
});

test('replaces an entry whose read_only changed in place', () => {
  const source = `services:
  dev:
    volumes:
      - ./src:/src
      - /home/dev/a:/workspace/u1/a
      - ./lib:/lib
`;
  const result = sync(source, [mount('u1', 'a', '/home/dev/a', true)]);
  assert.deepEqual(volumes(result.text), ['./src:/src', longEntry('/home/dev/a', '/workspace/u1/a', true), './lib:/lib']);
  assert.deepEqual(result.added, [mount('u1', 'a', '/home/dev/a', true)]);
  assert.equal(result.removed.length, 1);
  assert.equal(result.removed[0]?.index, 1);
});

test('replaces an entry whose source changed', () => {
  const result = sync(BASE, [mount('u1', 'a', '/home/dev/other')]);
  assert.deepEqual(volumes(result.text), ['./src:/src', longEntry('/home/dev/other', '/workspace/u1/a')]);
});

test('keeps a matching long entry with extra options', () => {
  const source = `services:
  dev:
    volumes:
      - type: bind
        source: /home/dev/a
        target: /workspace/u1/a
        read_only: true
        consistency: cached
        bind:
          propagation: rprivate
`;
  const result = sync(source, [mount('u1', 'a', '/home/dev/a', true)]);
  assert.equal(result.changed, false);
  assert.equal(result.text, source);
});

test('keeps the mounts of other entries while adding one', () => {
  const result = sync(BASE, [mount('u1', 'a', '/home/dev/a'), mount('u1', 'b', '/home/dev/b')]);
  assert.deepEqual(volumes(result.text).slice(0, 2), ['./src:/src', '/home/dev/a:/workspace/u1/a']);
  assert.deepEqual(
    managed(result.text).map((entry) => [entry.source, entry.target]),
    [
      ['/home/dev/a', '/workspace/u1/a'],
      ['/home/dev/b', '/workspace/u1/b'],
    ],
  );
});

test('second sync changes nothing', () => {
  const mounts = [mount('u1', 'b', '/home/dev/b', true), mount('u2', 'c', '/home/dev/My Projects/c')];
  const first = sync(BASE, mounts);
  const second = sync(first.text, mounts);
  assert.equal(second.changed, false);
  assert.equal(second.text, first.text);
  assert.deepEqual(second.added, []);
  assert.deepEqual(second.removed, []);
});

test('reads trailing slash target as the same target', () => {
  const source = 'services:\n  dev:\n    volumes:\n      - /home/dev/a:/workspace/u1/a/\n';
  assert.equal(managed(source)[0]?.target, '/workspace/u1/a');
  const result = sync(source, [mount('u1', 'a', '/home/dev/a')]);
  assert.equal(result.changed, false);
});

test('removes a duplicate and reports it', () => {
  const source = `services:
  dev:
    volumes:
      - /home/dev/old:/workspace/u1/ws1
      - ./src:/src
      - type: bind
        source: /home/dev/a
        target: /workspace/u1/ws1/
`;
  const result = sync(source, [mount('u1', 'ws1', '/home/dev/a')]);
  assert.deepEqual(volumes(result.text), ['./src:/src', { type: 'bind', source: '/home/dev/a', target: '/workspace/u1/ws1/' }]);
  assert.deepEqual(result.problems.map((problem) => problem.path), [['services', 'dev', 'volumes', 0]]);
  assert.deepEqual(result.removed.map((entry) => entry.index), [0]);
});

test('keeps the first duplicate when none matches', () => {
  const source = `services:
  dev:
    volumes:
      - /home/dev/x:/workspace/u1/ws1
      - /home/dev/y:/workspace/u1/ws1:ro
      - /home/dev/z:/workspace/u1/ws1/
`;
  const result = sync(source, [mount('u1', 'ws1', '/home/dev/b')]);
  assert.deepEqual(volumes(result.text), [longEntry('/home/dev/b', '/workspace/u1/ws1')]);
  assert.deepEqual(result.problems.map((problem) => problem.path.at(-1)), [1, 2]);
  assert.deepEqual(result.removed.map((entry) => entry.index), [0, 1, 2]);
  assert.equal(managed(result.text).length, 1);
});

test('removes every duplicate of an unwanted target', () => {
  const source = 'services:\n  dev:\n    volumes:\n      - /home/dev/x:/workspace/u1/ws1\n      - /home/dev/x:/workspace/u1/ws1\n    image: x\n';
  const result = sync(source, []);
  assert.equal(result.text, 'services:\n  dev:\n    image: x\n');
  assert.equal(result.problems.length, 1);
  assert.deepEqual(result.problems[0]?.path, ['services', 'dev', 'volumes', 1]);
});

test('leaves targets that are not two levels deep', () => {
  const source = `services:
  dev:
    volumes:
      - /home/dev/root:/workspace
      - /home/dev/user:/workspace/u1
      - /home/dev/deep:/workspace/u1/a/deep
      - /home/dev/near:/workspacex/u1/a
      - /home/dev/other:/other/u1/a
      - /home/dev/dots:/workspace/../u1/a
      - /home/dev/dot:/workspace/./u1
`;
  assert.deepEqual(managed(source), []);
  const result = sync(source, []);
  assert.equal(result.changed, false);
  assert.equal(result.text, source);
});

test('leaves targets whose segments are not ids', () => {
  const source = `services:
  dev:
    volumes:
      - /home/dev/a:/workspace/Müller/a
      - /home/dev/b:/workspace/_cache/b
      - /home/dev/c:/workspace/u1/${'x'.repeat(65)}
      - /home/dev/d:/workspace/u1/$\{WS}
`;
  assert.deepEqual(managed(source), []);
  assert.equal(sync(source, []).changed, false);
});

test('leaves named and anonymous volumes on workspace targets', () => {
  const source = 'services:\n  dev:\n    volumes:\n      - cache:/workspace/u1/a\n      - /workspace/u1/b\n      - type: tmpfs\n        target: /workspace/u1/c\n';
  assert.deepEqual(managed(source), []);
  assert.equal(sync(source, []).changed, false);
});

test('recognises interpolated and relative sources', () => {
  const source = 'services:\n  dev:\n    volumes:\n      - ${HOME}/a:/workspace/u1/a\n      - ./b:/workspace/u1/b:ro\n      - ${SRC:-/x}:/workspace/u1/c\n';
  assert.deepEqual(
    managed(source).map((entry) => [entry.source, entry.read_only]),
    [
      ['${HOME}/a', false],
      ['./b', true],
      ['${SRC:-/x}', false],
    ],
  );
  const result = sync(source, [mount('u1', 'b', './b', true)]);
  assert.deepEqual(volumes(result.text), ['./b:/workspace/u1/b:ro']);
});

test('replaces an interpolated source with the literal path', () => {
  const source = 'services:\n  dev:\n    volumes:\n      - ${HOME}/a:/workspace/u1/a\n';
  const result = sync(source, [mount('u1', 'a', '${HOME}/a')]);
  assert.deepEqual(volumes(result.text), [longEntry('$${HOME}/a', '/workspace/u1/a')]);
  assert.equal(sync(result.text, [mount('u1', 'a', '${HOME}/a')]).changed, false);
});

test('escapes dollar signs in written sources', () => {
  const spec = mount('u1', 'a', '/home/dev/price$5');
  const result = sync(BASE, [spec]);
  assert.equal(managed(result.text)[0]?.source, '/home/dev/price$$5');
  assert.equal(sync(result.text, [spec]).changed, false);
});

test('matches windows drive sources without splitting', () => {
  const source = 'services:\n  dev:\n    volumes:\n      - C:\\Users\\dev\\proj:/workspace/u1/a:ro\n';
  assert.deepEqual(managed(source), [{ index: 0, source: 'C:\\Users\\dev\\proj', target: '/workspace/u1/a', read_only: true, syntax: 'short' }]);
  assert.equal(sync(source, [mount('u1', 'a', 'C:\\Users\\dev\\proj', true)]).changed, false);
});

test('reads managed entries through aliases', () => {
  const source = `x-vols: &vols
  - /home/dev/a:/workspace/u1/a
services:
  dev:
    volumes: *vols
`;
  assert.deepEqual(managed(source).map((entry) => entry.target), ['/workspace/u1/a']);
});

test('reads managed entries through merge keys', () => {
  const source = `x-base: &base
  volumes:
    - type: bind
      source: /home/dev/a
      target: /workspace/u1/a
      read_only: yes
services:
  dev:
    <<: *base
    image: x
`;
  assert.deepEqual(managed(source), [{ index: 0, source: '/home/dev/a', target: '/workspace/u1/a', read_only: true, syntax: 'long' }]);
  assert.equal(sync(source, [mount('u1', 'a', '/home/dev/a', true)]).changed, false);
});

test('syncs a thousand mounts', (t) => {
  const mounts = Array.from({ length: 1000 }, (_, i) => mount(`u${i % 10}`, `w${i}`, `/home/dev/p${i}`, i % 3 === 0));
  const started = performance.now();
  const added = sync(BASE, mounts);
  const addMs = performance.now() - started;

  const entries = managed(added.text);
  assert.equal(entries.length, 1000);
  assert.equal(added.added.length, 1000);
  assert.deepEqual(added.removed.map((entry) => entry.target), ['/workspace/u1/a']);
  assert.deepEqual(volumes(added.text)[0], './src:/src');

  const again = performance.now();
  const second = sync(added.text, mounts);
  const idleMs = performance.now() - again;
  assert.equal(second.changed, false);

  const removed = sync(added.text, mounts.slice(0, 500));
  assert.equal(managed(removed.text).length, 500);
  assert.equal(removed.removed.length, 500);
  t.diagnostic(`1000 mounts: add ${addMs.toFixed(0)} ms, unchanged sync ${idleMs.toFixed(0)} ms`);
});
