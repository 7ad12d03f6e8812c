/**
 * Strict JSON request bodies: UTF-8 only, no repeated or reserved member
 * names, and the media type and charset checks of readJsonBody.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, test } from 'node:test';
import { MountCoreError } from '../../lib/errors.js';
import { checkJsonMediaType, parseJsonBody, readJsonBody } from '../../lib/http/index.js';

/** Returns the MountCoreError that `run` throws. */
function rejection(run: () => unknown): MountCoreError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof MountCoreError, `expected MountCoreError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected an error');
}

/** A stand-in request whose body is `chunks` and whose headers are `headers`. */
function fakeRequest(chunks: Buffer[], headers: Record<string, string>): IncomingMessage {
  const source = (async function* () {
    yield* chunks;
  })();
  return Object.assign(source, { headers }) as unknown as IncomingMessage;
}

const bytes = (text: string) => Buffer.from(text, 'utf8');

describe('parseJsonBody', () => {
  test('parses a plain object', () => {
    assert.deepEqual(parseJsonBody(bytes('{"user_id":"u1","read_only":false}')), { user_id: 'u1', read_only: false });
  });

  test('keeps non-ASCII text exactly', () => {
    const value = parseJsonBody(bytes('{"local_path":"/home/dev/Projekte/Müller Δ/app"}')) as { local_path: string };
    assert.equal(value.local_path, '/home/dev/Projekte/Müller Δ/app');
  });

  test('drops a leading byte order mark', () => {
    assert.deepEqual(parseJsonBody(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes('{"a":1}')])), { a: 1 });
  });

  const duplicates: Array<[string, string, string]> = [
    ['same name twice', '{"local_path":"/home/dev/a","local_path":"/etc"}', 'local_path'],
    ['escaped spelling of the same name', '{"user_id":"u1","\\u0075ser_id":"u2"}', 'user_id'],
    ['repeat inside a nested object', '{"a":{"b":1,"b":2}}', 'b'],
    ['repeat inside an object in an array', '[{"x":1},{"y":1,"y":2}]', 'y'],
    ['repeat after a nested object', '{"a":{"b":1},"c":2,"a":3}', 'a'],
    ['empty name twice', '{"":1,"":2}', ''],
  ];
  for (const [name, text, field] of duplicates) {
    test(`rejects a duplicate: ${name}`, () => {
      const error = rejection(() => parseJsonBody(bytes(text)));
      assert.equal(error.code, 'DUPLICATE_FIELD');
      assert.equal(error.status, 400);
      assert.equal(error.details.field, field);
    });
  }

  const allowed: Array<[string, string]> = [
    ['same name in sibling objects', '[{"a":1},{"a":2}]'],
    ['same name at two depths', '{"a":{"a":{"a":1}}}'],
    ['names as string values', '{"a":"a","b":["a","a"]}'],
    ['quotes and braces inside strings', '{"a":"\\"}{,\\"a\\":","b":"]["}'],
  ];
  for (const [name, text] of allowed) {
    test(`accepts ${name}`, () => {
      assert.deepEqual(parseJsonBody(bytes(text)), JSON.parse(text));
    });
  }

  for (const name of ['__proto__', 'constructor', 'prototype']) {
    test(`rejects the reserved name ${name}`, () => {
      for (const text of [`{"${name}":{"polluted":true}}`, `{"a":[{"${name}":1}]}`]) {
        const error = rejection(() => parseJsonBody(bytes(text)));
        assert.equal(error.code, 'UNKNOWN_FIELD', text);
        assert.equal(error.status, 400, text);
        assert.equal(error.details.field, name, text);
      }
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    });
  }

  test('rejects invalid UTF-8 bytes', () => {
    const text = Buffer.concat([bytes('{"local_path":"/home/dev/'), Buffer.from([0xc3, 0x28]), bytes('"}')]);
    const error = rejection(() => parseJsonBody(text));
    assert.equal(error.code, 'INVALID_JSON');
    assert.equal(error.details.reason, 'invalid_utf8');
  });

  test('rejects Latin-1 text', () => {
    const error = rejection(() => parseJsonBody(Buffer.from('{"local_path":"/home/dev/Müller"}', 'latin1')));
    assert.equal(error.code, 'INVALID_JSON');
  });

  test('syntax error does not quote the body', () => {
    const error = rejection(() => parseJsonBody(bytes('{"token": hunter2-secret}')));
    assert.equal(error.code, 'INVALID_JSON');
    assert.equal(error.status, 400);
    assert.ok(!error.message.includes('hunter2'), error.message);
    assert.ok(!JSON.stringify(error.details).includes('hunter2'));
  });

  test('survives deep nesting', () => {
    const depth = 5000;
    const text = `${'['.repeat(depth)}${']'.repeat(depth)}`;
    assert.ok(Array.isArray(parseJsonBody(bytes(text))));
    const objects = `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    assert.equal(typeof parseJsonBody(bytes(objects)), 'object');
  });
});

describe('checkJsonMediaType', () => {
  const accepted = [
    'application/json',
    'application/json; charset=utf-8',
    'application/json;charset=UTF-8',
    'APPLICATION/JSON',
    'application/json; charset="utf-8"',
    'application/json; charset=utf8',
    'application/json ; charset = utf-8',
    'application/vnd.api+json',
    'application/merge-patch+json; charset=utf-8',
  ];
  for (const header of accepted) {
    test(`accepts ${header}`, () => {
      assert.doesNotThrow(() => checkJsonMediaType(header));
    });
  }

  const rejected = [
    undefined,
    '',
    'text/plain',
    'text/json',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/jsonx',
    'application/json, text/plain',
    'application/json; charset=latin1',
    'application/json; charset=utf-16',
    'application/json; charset=iso-8859-1',
    'text/plain+json',
  ];
  for (const header of rejected) {
    test(`rejects ${String(header)}`, () => {
      const error = rejection(() => checkJsonMediaType(header));
      assert.equal(error.code, 'UNSUPPORTED_MEDIA_TYPE');
      assert.equal(error.status, 415);
    });
  }
});

describe('readJsonBody', () => {
  test('reads chunks into one value', async () => {
    const value = await readJsonBody(fakeRequest([bytes('{"a":'), bytes('"Δ"}')], { 'content-type': 'application/json' }));
    assert.deepEqual(value, { a: 'Δ' });
  });

  test('multi-byte character split across chunks', async () => {
    const whole = bytes('{"a":"Müller"}');
    const cut = whole.indexOf(0xc3) + 1;
    const value = await readJsonBody(fakeRequest([whole.subarray(0, cut), whole.subarray(cut)], { 'content-type': 'application/json' }));
    assert.deepEqual(value, { a: 'Müller' });
  });

  test('empty body reads as undefined', async () => {
    assert.equal(await readJsonBody(fakeRequest([], {})), undefined);
  });

  test('declared length over the limit is 413', async () => {
    await assert.rejects(readJsonBody(fakeRequest([], { 'content-length': '100000', 'content-type': 'application/json' }), 1024), (error: unknown) => {
      assert.ok(error instanceof MountCoreError);
      assert.equal(error.code, 'BODY_TOO_LARGE');
      assert.equal(error.status, 413);
      return true;
    });
  });

  test('streamed body over the limit is 413', async () => {
    const chunks = Array.from({ length: 10 }, () => Buffer.alloc(200, 0x20));
    await assert.rejects(readJsonBody(fakeRequest(chunks, { 'content-type': 'application/json' }), 1024), { code: 'BODY_TOO_LARGE' });
  });

  test('wrong media type is 415', async () => {
    await assert.rejects(readJsonBody(fakeRequest([bytes('{}')], { 'content-type': 'text/plain' })), { code: 'UNSUPPORTED_MEDIA_TYPE' });
  });
});
