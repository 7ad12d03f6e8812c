import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isWindowsDrivePath, parseShortVolume, type ShortVolume } from '../../lib/compose/index.js';

function parsed(text: string): ShortVolume {
  const result = parseShortVolume(text);
  assert.ok(result.ok, `expected ${JSON.stringify(text)} to parse, got ${result.ok ? '' : result.reason}`);
  return result.volume;
}

function rejected(text: string): string {
  const result = parseShortVolume(text);
  assert.equal(result.ok, false, `expected ${JSON.stringify(text)} to be rejected`);
  return result.ok ? '' : result.reason;
}

test('splits source, target and mode', () => {
  assert.deepEqual(parsed('/home/dev/a:/workspace/u1/a:ro'), {
    source: '/home/dev/a',
    type: 'bind',
    target: '/workspace/u1/a',
    options: ['ro'],
    read_only: true,
  });
});

test('source and target without mode', () => {
  const volume = parsed('/home/dev/a:/workspace/u1/a');
  assert.equal(volume.source, '/home/dev/a');
  assert.equal(volume.target, '/workspace/u1/a');
  assert.deepEqual(volume.options, []);
  assert.equal(volume.read_only, false);
});

test('target alone is an anonymous volume', () => {
  const volume = parsed('/data');
  assert.equal(volume.source, undefined);
  assert.equal(volume.type, 'volume');
  assert.equal(volume.target, '/data');
});

test('name source is a named volume', () => {
  const volume = parsed('cache:/cache');
  assert.equal(volume.type, 'volume');
  assert.equal(volume.source, 'cache');
});

test('path-like sources are binds', () => {
  for (const source of ['/abs', './rel', '../up', '.', '~/home', '${HOME}/x', '$HOME', 'C:\\Users\\dev', 'd:/data', '\\\\server\\share']) {
    const volume = parsed(`${source}:/workspace/u1/a`);
    assert.equal(volume.type, 'bind', source);
    assert.equal(volume.source, source);
  }
});

test('windows drive source keeps its colon', () => {
  const volume = parsed('C:\\Users\\dev\\proj:/workspace/u1/a');
  assert.equal(volume.source, 'C:\\Users\\dev\\proj');
  assert.equal(volume.target, '/workspace/u1/a');
});

test('windows drive with forward slashes keeps its colon', () => {
  const volume = parsed('C:/Users/dev/proj:/workspace/u1/a:ro');
  assert.equal(volume.source, 'C:/Users/dev/proj');
  assert.equal(volume.target, '/workspace/u1/a');
  assert.equal(volume.read_only, true);
});

test('lowercase drive letter keeps its colon', () => {
  assert.equal(parsed('c:\\proj:/w').source, 'c:\\proj');
});

test('windows drive target keeps its colon', () => {
  const volume = parsed('/src:C:\\target:ro');
  assert.equal(volume.source, '/src');
  assert.equal(volume.target, 'C:\\target');
  assert.equal(volume.read_only, true);
});

test('drive path alone is an anonymous target', () => {
  const volume = parsed('C:\\data');
  assert.equal(volume.source, undefined);
  assert.equal(volume.target, 'C:\\data');
});

test('one letter before colon slash is a drive', () => {
  const volume = parsed('a:/data');
  assert.equal(volume.source, undefined);
  assert.equal(volume.target, 'a:/data');
});

test('two letters before colon are a volume name', () => {
  const volume = parsed('ab:/data');
  assert.equal(volume.source, 'ab');
  assert.equal(volume.type, 'volume');
  assert.equal(volume.target, '/data');
});

test('colon inside interpolation is not a separator', () => {
  const volume = parsed('${SRC:-/home/dev/a}:/workspace/u1/a:ro');
  assert.equal(volume.source, '${SRC:-/home/dev/a}');
  assert.equal(volume.target, '/workspace/u1/a');
  assert.equal(volume.read_only, true);
});

test('nested interpolation is one section', () => {
  assert.equal(parsed('${A:-${B:-/x}}:/w').source, '${A:-${B:-/x}}');
});

test('escaped dollar is kept as written', () => {
  assert.equal(parsed('/home/dev/a$$b:/w').source, '/home/dev/a$$b');
});

test('spaces and non-ascii stay in the source', () => {
  for (const source of ['/home/dev/My Projects/app', '/home/dev/Projekte/Müller Δ/app', '/home/dev/Projekte/Mu\u0308ller Δ/app']) {
    assert.equal(parsed(`${source}:/workspace/u1/a`).source, source);
  }
});

test('mode options in order', () => {
  const volume = parsed('/a:/b:ro,z,nocopy');
  assert.deepEqual(volume.options, ['ro', 'z', 'nocopy']);
  assert.equal(volume.read_only, true);
});

test('last of ro and rw wins', () => {
  assert.equal(parsed('/a:/b:ro,rw').read_only, false);
  assert.equal(parsed('/a:/b:rw,ro').read_only, true);
});

test('unknown options are kept', () => {
  const volume = parsed('/a:/b:cached');
  assert.deepEqual(volume.options, ['cached']);
  assert.equal(volume.read_only, false);
});

test('trailing slash target is kept as written', () => {
  assert.equal(parsed('/a:/workspace/u1/a/').target, '/workspace/u1/a/');
});

test('rejects invalid entries', () => {
  const cases = [
    '',
    ':/b',
    '/a:',
    '/a::/b',
    '/a:/b:',
    '/a:/b:ro:extra',
    '/a:bc:/workspace/u1/a',
    '/a:relative',
    'relative',
    '/a:/b:ro,,z',
    '${UNCLOSED:/b',
  ];
  for (const text of cases) {
    const reason = rejected(text);
    assert.ok(reason.length > 0, `no reason for ${JSON.stringify(text)}`);
  }
});

test('too many colons has its own reason', () => {
  assert.match(rejected('/a:/b:ro:x'), /too many colons/);
});

test('recognises windows drive paths', () => {
  assert.equal(isWindowsDrivePath('C:\\x'), true);
  assert.equal(isWindowsDrivePath('z:/x'), true);
  assert.equal(isWindowsDrivePath('C:'), false);
  assert.equal(isWindowsDrivePath('CC:\\x'), false);
  assert.equal(isWindowsDrivePath('/c/Users'), false);
});
