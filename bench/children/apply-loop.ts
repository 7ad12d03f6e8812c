/**
 * Runs many applies through the monitor's HTTP API in one process and prints
 * its memory before and after, as one JSON line. With `--engine fake` the
 * monitor recreates an in-memory container (test/helpers/memory-engine.ts) and
 * keeps its files in /dev/shm, so that the loop measures mount-core and not
 * Docker or the disk. With `--engine real` it recreates a real container.
 *
 * Usage: node --expose-gc apply-loop.js --engine fake|real --applies N [--warmup N] [--docker-host H --container NAME]
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MemoryEngine } from '../../test/helpers/memory-engine.js';
import { callJson } from '../lib/http.js';
import { startMonitor } from '../lib/monitor.js';

const { values } = parseArgs({
  options: {
    engine: { type: 'string' },
    applies: { type: 'string' },
    'docker-host': { type: 'string', default: 'unix:///var/lib/mount-core-engines/d26.sock' },
    container: { type: 'string', default: 'mc-bench-fake' },
    warmup: { type: 'string', default: '10' },
  },
});
const fake = values.engine === 'fake';
const applies = Number(values.applies);
if ((values.engine !== 'fake' && values.engine !== 'real') || !Number.isSafeInteger(applies) || applies < 1) {
  console.error('usage: apply-loop --engine fake|real --applies N [--warmup N] [--docker-host H --container NAME]');
  process.exit(2);
}

/** Runs a full collection when --expose-gc allows it, then returns RSS, used and reserved heap, and memory outside the heap, in MiB. */
function memory(): { rss: number; heap: number; heapTotal: number; external: number } {
  (globalThis as { gc?: () => void }).gc?.();
  const usage = process.memoryUsage();
  const mib = (bytes: number) => bytes / 2 ** 20;
  return { rss: mib(usage.rss), heap: mib(usage.heapUsed), heapTotal: mib(usage.heapTotal), external: mib(usage.external) };
}

// The host path policy denies /dev, so the bind sources live in the temporary folder even for the fake engine.
const folder = await mkdtemp(join(fake ? '/dev/shm' : tmpdir(), 'mc-bench-loop-'));
const sourceFolder = await mkdtemp(join(tmpdir(), 'mc-bench-loop-src-'));
const sources = [join(sourceFolder, 'a'), join(sourceFolder, 'b')];
for (const source of sources) await mkdir(source);
const engine = new MemoryEngine();
if (fake) engine.addRunning(values.container!);
const monitor = await startMonitor({
  dockerHost: values['docker-host']!,
  container: values.container!,
  folder,
  env: { MIN_UPTIME_MS: '0' },
  wrapEngine: fake ? () => engine : undefined,
});

/** Applies one change and waits for it; throws unless the container was recreated. */
async function applyOnce(index: number): Promise<void> {
  const reply = await callJson('POST', `${monitor.api}/mounts?wait=true`, { user_id: 'loop', workspace_id: 'ws1', local_path: sources[index % 2] });
  if (reply.status !== 200 || reply.body?.data?.operation?.result?.recreated !== true) {
    throw new Error(`apply ${index} returned ${reply.status}: ${JSON.stringify(reply.body)}`);
  }
}

try {
  const warmup = Number(values.warmup);
  for (let i = 0; i < warmup; i++) await applyOnce(i);
  const before = memory();
  const started = performance.now();
  for (let i = warmup; i < warmup + applies; i++) await applyOnce(i);
  const elapsedMs = performance.now() - started;
  const after = memory();
  process.stdout.write(`${JSON.stringify({ applies, warmup, before, after, elapsedMs })}\n`);
} finally {
  await monitor.close();
  await rm(folder, { recursive: true, force: true });
  await rm(sourceFolder, { recursive: true, force: true });
}
