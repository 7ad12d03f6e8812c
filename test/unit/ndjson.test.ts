import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MountCoreError } from '../../lib/errors.js';
import { NdjsonDecoder, splitLines } from '../../lib/docker/index.js';

const encoder = new TextEncoder();

function event(action: string, name: string): string {
  return JSON.stringify({ Type: 'container', Action: action, Actor: { ID: 'abc', Attributes: { name } }, time: 1, timeNano: 1 });
}

/** Deterministic PRNG (mulberry32), so a failing chunking can be replayed from its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function splitAt(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    chunks.push(bytes.subarray(start, cut));
    start = cut;
  }
  chunks.push(bytes.subarray(start));
  return chunks;
}

async function* source(chunks: Array<Uint8Array | string>): AsyncGenerator<Uint8Array | string> {
  for (const chunk of chunks) yield chunk;
}

async function collect(lines: AsyncIterable<string>): Promise<string[]> {
  const result: string[] = [];
  for await (const line of lines) result.push(line);
  return result;
}

test('two events in one chunk then one split inside a utf-8 character', () => {
  const first = event('start', 'a');
  const second = event('die', 'b');
  const third = event('start', 'Müller Δ 工作区 🚀');
  const thirdBytes = encoder.encode(`${third}\n`);

  // Cut inside the two bytes of "ü" and inside the four bytes of the rocket emoji.
  const umlaut = thirdBytes.indexOf(0xc3);
  const rocket = thirdBytes.indexOf(0xf0);
  assert.ok(umlaut > 0, 'fixture contains ü');
  assert.ok(rocket > umlaut, 'fixture contains the rocket after ü');

  const decoder = new NdjsonDecoder();
  assert.deepEqual(decoder.push(encoder.encode(`${first}\n${second}\n`)), [first, second]);
  assert.deepEqual(decoder.push(thirdBytes.subarray(0, umlaut + 1)), []);
  assert.deepEqual(decoder.push(thirdBytes.subarray(umlaut + 1, rocket + 2)), []);
  assert.deepEqual(decoder.push(thirdBytes.subarray(rocket + 2)), [third]);
  assert.equal(decoder.end(), '');
  assert.deepEqual(JSON.parse(third).Actor.Attributes.name, 'Müller Δ 工作区 🚀');
});

test('random chunkings yield each line once', () => {
  const events = Array.from({ length: 40 }, (_, index) => event(index % 2 === 0 ? 'start' : 'die', `ws-${index}-Grüße-日本-🙂`));
  const bytes = encoder.encode(events.map((line) => `${line}\n`).join(''));

  for (let seed = 1; seed <= 300; seed += 1) {
    const next = random(seed);
    const cutCount = Math.floor(next() * 60);
    const cuts = Array.from({ length: cutCount }, () => Math.floor(next() * bytes.length));
    const decoder = new NdjsonDecoder();
    const lines = splitAt(bytes, cuts).flatMap((chunk) => decoder.push(chunk));
    assert.deepEqual(lines, events, `seed ${seed}`);
    assert.equal(decoder.end(), '', `seed ${seed}`);
  }
});

test('single-byte chunks yield each line once', () => {
  const events = [event('start', 'ä'), event('die', '𝄞'), event('stop', 'z')];
  const bytes = encoder.encode(events.map((line) => `${line}\n`).join(''));
  const decoder = new NdjsonDecoder();
  const lines: string[] = [];
  for (let index = 0; index < bytes.length; index += 1) {
    lines.push(...decoder.push(bytes.subarray(index, index + 1)));
  }
  assert.deepEqual(lines, events);
});

test('partial trailing line is dropped', async () => {
  const complete = event('start', 'a');
  const lines = await collect(splitLines(source([encoder.encode(`${complete}\n{"Type":"contai`)])));
  assert.deepEqual(lines, [complete]);

  const decoder = new NdjsonDecoder();
  decoder.push(encoder.encode(`${complete}\n{"Type":`));
  assert.equal(decoder.end(), '{"Type":');
});

test('complete json without line break is dropped', async () => {
  const lines = await collect(splitLines(source([event('start', 'a')])));
  assert.deepEqual(lines, []);
});

test('truncated utf-8 at end is dropped', () => {
  const decoder = new NdjsonDecoder();
  decoder.push(new Uint8Array([0x7b, 0xe5, 0xb7]));
  assert.equal(decoder.end().startsWith('{'), true);
});

test('empty lines and crlf are skipped', async () => {
  const lines = await collect(splitLines(source(['\n\r\n{"a":1}\r\n', '\n{"b":2}\n', ''])));
  assert.deepEqual(lines, ['{"a":1}', '{"b":2}']);
});

test('string and byte chunks mix', async () => {
  const lines = await collect(splitLines(source(['{"a":', encoder.encode('"é"}\n')])));
  assert.deepEqual(lines, ['{"a":"é"}']);
});

test('line longer than the limit throws', () => {
  const decoder = new NdjsonDecoder({ maxLineLength: 16 });
  assert.deepEqual(decoder.push('{"short":true}\n'), ['{"short":true}']);
  assert.throws(
    () => decoder.push('{"long":"xxxxxxxxxxxxxxxxxxxxxxxx"'),
    (error: unknown) => error instanceof MountCoreError && error.code === 'ENGINE_ERROR',
  );
});

test('invalid line limit is a config error', () => {
  for (const maxLineLength of [0, -1, 1.5, Number.NaN]) {
    assert.throws(
      () => new NdjsonDecoder({ maxLineLength }),
      (error: unknown) => error instanceof MountCoreError && error.code === 'CONFIG_INVALID',
      String(maxLineLength),
    );
  }
});
