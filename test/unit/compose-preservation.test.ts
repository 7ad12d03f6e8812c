import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'yaml';
import { readManagedMounts, syncComposeMounts } from '../../lib/compose/index.js';
import type { MountSpec } from '../../lib/types.js';

function mount(workspace: string, localPath: string, readOnly = false): MountSpec {
  return { local_path: localPath, container_path: `/workspace/u1/${workspace}`, read_only: readOnly };
}

function sync(source: string, mounts: MountSpec[], service = 'dev') {
  return syncComposeMounts(source, { service, workspaceRoot: '/workspace', mounts });
}

/** Returns the lines `after` has in addition to `before`, asserting that nothing else differs. */
function insertedLines(before: string, after: string): { at: number; lines: string[] } {
  const old = before.split('\n');
  const now = after.split('\n');
  let at = 0;
  while (at < old.length && old[at] === now[at]) at += 1;
  const count = now.length - old.length;
  assert.ok(count > 0, 'no lines were added');
  assert.deepEqual(now.slice(at + count), old.slice(at), 'lines after the insertion differ');
  return { at, lines: now.slice(at, at + count) };
}

const K08 = `# Development stack for mount-core.
# The monitor edits only /workspace/<user>/<workspace> entries below.
services:
  dev:
    image: 'node:20-bookworm'
    container_name: "openmanus-core-dev"
    ports: ["5172:5172"]
    environment:
      GREETING: 'it''s "quoted"'
    volumes:
      - ./src:/app/src   # sources, live reloaded
      # - ./old-data:/data
      - "./config:/app/config:ro"
      - 'node_modules:/app/node_modules'


  monitor:
    image: "mount-monitor:latest"
    volumes:
      - /var/run/docker.sock:/var/run/docker.sock

volumes:
  node_modules: {}
`;

test('adding a mount inserts only its lines', () => {
  const result = sync(K08, [mount('a', '/home/dev/a')]);
  const { at, lines } = insertedLines(K08, result.text);
  assert.equal(K08.split('\n')[at - 1], "      - 'node_modules:/app/node_modules'");
  assert.deepEqual(lines, [
    '      - type: bind',
    '        source: /home/dev/a',
    '        target: /workspace/u1/a',
    '        bind:',
    '          create_host_path: false',
  ]);
});

test('removing the added mount restores every byte', () => {
  const added = sync(K08, [mount('a', '/home/dev/a', true)]);
  const removed = sync(added.text, []);
  assert.equal(removed.changed, true);
  assert.equal(removed.text, K08);
});

test('compact list style is copied', () => {
  const source = 'services:\n  dev:\n    volumes:\n    - ./src:/src\n    image: x\n';
  const { lines } = insertedLines(source, sync(source, [mount('a', '/a')]).text);
  assert.equal(lines[0], '    - type: bind');
  assert.equal(lines[1], '      source: /a');
  assert.equal(lines[4], '        create_host_path: false');
});

test('four space indentation is copied', () => {
  const source = 'services:\n    dev:\n        volumes:\n            -   ./src:/src\n';
  const { lines } = insertedLines(source, sync(source, [mount('a', '/a')]).text);
  assert.deepEqual(lines, [
    '            -   type: bind',
    '                source: /a',
    '                target: /workspace/u1/a',
    '                bind:',
    '                    create_host_path: false',
  ]);
});

test('service without volumes gets a key and loses it again', () => {
  const source = `services:
  dev:
    image: node:20
    ports:
      - "5172:5172"
    command: ["npm", "run", "dev"]   # keep

  other:
    image: alpine
`;
  const added = sync(source, [mount('a', '/home/dev/a')]);
  const { at, lines } = insertedLines(source, added.text);
  assert.equal(at, 6);
  assert.deepEqual(lines.slice(0, 2), ['    volumes:', '      - type: bind']);
  assert.equal(sync(added.text, []).text, source);
});

test('last service without final newline round-trips', () => {
  const source = 'services:\n  dev:\n    image: node:20';
  const added = sync(source, [mount('a', '/a')]);
  assert.ok(!added.text.endsWith('\n'));
  assert.equal(added.text.split('\n')[3], '    volumes:');
  assert.equal(sync(added.text, []).text, source);
});

test('crlf line breaks are kept and used', () => {
  const source = 'services:\r\n  dev:\r\n    volumes:\r\n      - ./src:/src  # sources\r\n    image: x\r\n';
  const added = sync(source, [mount('a', '/a')]);
  assert.equal(added.text.split('\r\n').length, source.split('\r\n').length + 5);
  assert.ok(!/[^\r]\n/.test(added.text));
  assert.equal(sync(added.text, []).text, source);
});

test('byte order mark is kept', () => {
  const source = '\uFEFFservices:\n  dev:\n    image: x\n';
  const added = sync(source, [mount('a', '/a')]);
  assert.ok(added.text.startsWith('\uFEFFservices:'));
  assert.equal(sync(added.text, []).text, source);
});

test('removed entry takes its inline comment only', () => {
  const source = `services:
  dev:
    volumes:
      - /home/dev/a:/workspace/u1/a   # alice
      # - /home/dev/b:/workspace/u1/b
      - ./src:/src
`;
  const result = sync(source, []);
  assert.equal(result.text, 'services:\n  dev:\n    volumes:\n      # - /home/dev/b:/workspace/u1/b\n      - ./src:/src\n');
});

test('comment after the last entry stays after it', () => {
  const source = 'services:\n  dev:\n    volumes:\n      - ./src:/src\n      # - ./later:/later\n    image: x\n';
  const added = sync(source, [mount('a', '/a')]);
  const { at } = insertedLines(source, added.text);
  assert.equal(at, 4);
  assert.equal(sync(added.text, []).text, source);
});

test('empty flow list becomes a block list', () => {
  const source = 'services:\n  dev:\n    volumes: []   # filled by the monitor\n    image: x\n';
  const added = sync(source, [mount('a', '/a')]);
  assert.equal(added.text.split('\n')[2], '    volumes:   # filled by the monitor');
  assert.equal(added.text.split('\n')[3], '      - type: bind');
});

test('emptied commented key becomes empty flow', () => {
  const source = 'services:\n  dev:\n    volumes:   # managed\n      - /a:/workspace/u1/a\n    image: x\n';
  const result = sync(source, []);
  assert.equal(result.text, 'services:\n  dev:\n    volumes: []   # managed\n    image: x\n');
});

test('emptied only key becomes empty flow', () => {
  const source = 'services:\n  dev:\n    volumes:\n      - /a:/workspace/u1/a\n';
  assert.equal(sync(source, []).text, 'services:\n  dev:\n    volumes: []\n');
});

test('anchors and extension fields survive', () => {
  const source = `x-common: &common
  restart: unless-stopped   # for every service
  environment: &env
    TZ: UTC
x-paths:
  src: &src ./src:/src

services:
  dev:
    <<: *common
    image: node:20
    environment: *env
    volumes:
      - *src
      - &data ./data:/data
  worker:
    <<: *common
    image: node:20
`;
  const added = sync(source, [mount('a', '/home/dev/a')]);
  insertedLines(source, added.text);
  const value = parse(added.text, { merge: true }) as { services: { dev: Record<string, unknown> } };
  assert.equal(value.services.dev.restart, 'unless-stopped');
  assert.deepEqual((value.services.dev.volumes as unknown[]).slice(0, 2), ['./src:/src', './data:/data']);
  assert.equal(sync(added.text, []).text, source);
});

test('merge key without volumes allows a local key', () => {
  const source = 'x-base: &base\n  image: node:20\nservices:\n  dev:\n    <<: *base\n';
  const added = sync(source, [mount('a', '/a')]);
  assert.equal(added.text.split('\n')[5], '    volumes:');
  assert.equal(sync(added.text, []).text, source);
});

test('relative entries stay as written', () => {
  const source = `services:
  dev:
    working_dir: /app
    volumes:
      - ./src:/src
      - ../shared:/shared:ro
      - ./data:/workspace/u1/data
      - type: bind
        source: ./cfg
        target: /cfg
`;
  assert.equal(readManagedMounts(source, { service: 'dev', workspaceRoot: '/workspace' })[0]?.source, './data');
  const result = sync(source, [mount('data', './data'), mount('b', '/home/dev/b')]);
  insertedLines(source, result.text);
  assert.ok(result.text.includes('      - ./src:/src\n      - ../shared:/shared:ro\n      - ./data:/workspace/u1/data\n'));
});

test('other services are never edited', () => {
  const source = 'services:\n  other:\n    volumes:\n      - /home/dev/a:/workspace/u1/a\n  dev:\n    image: x\n';
  const added = sync(source, [mount('b', '/b')]);
  assert.ok(added.text.startsWith('services:\n  other:\n    volumes:\n      - /home/dev/a:/workspace/u1/a\n'));
  assert.equal(sync(added.text, []).text, source);
});

test('paths read back exactly through the yaml parser', () => {
  const paths = [
    '/home/dev/My Projects/app',
    '/home/dev/Projekte/Müller Δ/app'.normalize('NFC'),
    '/home/dev/Projekte/Müller Δ/app'.normalize('NFD'),
    'C:\\Users\\dev\\proj',
    'C:/Users/dev/proj',
    '/home/dev/proj:v2',
    '/home/dev/a: b',
    '/home/dev/x #y',
    '/home/dev/it\'s "quoted"',
    '/home/dev/trailing ',
    ' /home/dev/leading',
    '/home/dev/[brackets]{braces},comma',
    '/home/dev/tab\there',
    'yes',
    '0777',
    '~',
    '@at',
  ];
  const mounts = paths.map((localPath, i) => mount(`w${i}`, localPath));
  const result = sync('services:\n  dev:\n    image: x\n', mounts);

  const written = (parse(result.text) as { services: { dev: { volumes: { source: string; target: string }[] } } }).services.dev.volumes;
  const byTarget = new Map(written.map((entry) => [entry.target, entry.source]));
  for (const spec of mounts) assert.equal(byTarget.get(spec.container_path), spec.local_path, JSON.stringify(spec.local_path));
  assert.equal(sync(result.text, mounts).changed, false);
});

test('line break characters are escaped', () => {
  const result = sync('services:\n  dev:\n    image: x\n', [mount('a', '/home/dev/n\u0085l\u2028p\u2029')]);
  assert.ok(result.text.includes('        source: "/home/dev/n\\u0085l\\u2028p\\u2029"\n'));
  assert.equal(readManagedMounts(result.text, { service: 'dev', workspaceRoot: '/workspace' })[0]?.source, '/home/dev/n\u0085l\u2028p\u2029');
});

test('nfc and nfd sources are distinct', () => {
  const nfc = '/home/dev/Müller'.normalize('NFC');
  const nfd = nfc.normalize('NFD');
  const written = sync('services:\n  dev:\n    image: x\n', [mount('a', nfc)]).text;
  const replaced = sync(written, [mount('a', nfd)]);
  assert.equal(replaced.changed, true);
  assert.equal(readManagedMounts(replaced.text, { service: 'dev', workspaceRoot: '/workspace' })[0]?.source, nfd);
});

test('windows sources are written as one scalar', () => {
  const result = sync('services:\n  dev:\n    image: x\n', [mount('a', 'C:\\Users\\dev\\proj')]);
  assert.ok(result.text.includes('        source: C:\\Users\\dev\\proj\n'));
  const [entry] = readManagedMounts(result.text, { service: 'dev', workspaceRoot: '/workspace' });
  assert.equal(entry?.source, 'C:\\Users\\dev\\proj');
  assert.equal(entry?.target, '/workspace/u1/a');
});
