import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MountCoreError } from '../../lib/errors.js';
import { parseDockerHost } from '../../lib/docker/index.js';

test('unix socket url', () => {
  assert.deepEqual(parseDockerHost('unix:///var/run/docker.sock'), {
    kind: 'unix',
    socketPath: '/var/run/docker.sock',
    origin: 'http://localhost',
  });
});

test('unix socket path with spaces is kept verbatim', () => {
  const host = parseDockerHost('unix:///tmp/my engines/d.sock');
  assert.equal(host.kind, 'unix');
  assert.equal(host.kind === 'unix' ? host.socketPath : '', '/tmp/my engines/d.sock');
});

test('tcp and http forms map to http origins', () => {
  const cases: Array<[string, string]> = [
    ['tcp://127.0.0.1:2375', 'http://127.0.0.1:2375'],
    ['tcp://127.0.0.1', 'http://127.0.0.1:2375'],
    ['tcp://127.0.0.1:2375/', 'http://127.0.0.1:2375'],
    ['TCP://Engine.Local:4243', 'http://engine.local:4243'],
    ['tcp://[::1]:2375', 'http://[::1]:2375'],
    ['tcp://[::1]', 'http://[::1]:2375'],
    ['http://127.0.0.1:2375', 'http://127.0.0.1:2375'],
    ['http://127.0.0.1:80', 'http://127.0.0.1:80'],
    ['http://127.0.0.1', 'http://127.0.0.1:80'],
  ];
  for (const [value, origin] of cases) {
    assert.deepEqual(parseDockerHost(value), { kind: 'tcp', origin }, value);
  }
});

test('unsupported and malformed values are rejected', () => {
  const rejected = [
    '',
    ' unix:///var/run/docker.sock',
    'unix:///var/run/docker.sock\n',
    '/var/run/docker.sock',
    '127.0.0.1:2375',
    '://x',
    'npipe:////./pipe/docker_engine',
    'ssh://user@host',
    'https://127.0.0.1:2376',
    'fd://',
    'ftp://127.0.0.1',
    'unix://',
    'unix://var/run/docker.sock',
    'unix:///var/run/',
    'tcp://',
    'tcp://:2375',
    'tcp://127.0.0.1:',
    'tcp://127.0.0.1:0',
    'tcp://127.0.0.1:65536',
    'tcp://127.0.0.1:port',
    'tcp://127.0.0.1:2375/prefix',
    'tcp://127.0.0.1:2375?x=1',
    'tcp://127.0.0.1:2375#x',
    'tcp://::1:2375',
    'tcp://user:secret@127.0.0.1:2375',
  ];
  for (const value of rejected) {
    assert.throws(
      () => parseDockerHost(value),
      (error: unknown) => error instanceof MountCoreError && error.code === 'CONFIG_INVALID' && error.details.option === 'host',
      JSON.stringify(value),
    );
  }
});

test('rejection details quote the value', () => {
  try {
    parseDockerHost('npipe:////./pipe/docker_engine');
    assert.fail('expected a ConfigError');
  } catch (error) {
    assert.ok(error instanceof MountCoreError);
    assert.equal(error.code, 'CONFIG_INVALID');
    assert.equal(error.details.value, 'npipe:////./pipe/docker_engine');
  }
});

test('credentials never appear in the error', () => {
  try {
    parseDockerHost('tcp://user:secret@127.0.0.1:2375');
    assert.fail('expected a ConfigError');
  } catch (error) {
    assert.ok(error instanceof MountCoreError);
    assert.equal(String(error.details.value).includes('secret'), false);
    assert.equal(error.message.includes('secret'), false);
  }
});

test('non-string value is rejected', () => {
  assert.throws(
    () => parseDockerHost(undefined as unknown as string),
    (error: unknown) => error instanceof MountCoreError && error.code === 'CONFIG_INVALID',
  );
});
