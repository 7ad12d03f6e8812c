/**
 * The compose transform on the project's own docker-compose.dev.yml with
 * 1,000 managed mounts on the development service. Measures the time of each
 * kind of sync and checks that every line outside the entries it had to
 * change stays byte for byte as it was. String in, string out: no disk and no
 * engine.
 *
 * Run: node --import tsx bench/compose-transform.ts [--short] [--runs N] [--json FILE]
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { syncComposeMounts, type MountSpec } from '../lib/index.js';
import { parseBenchArgs } from './lib/args.js';
import { REPO_ROOT } from './lib/build.js';
import { Recorder } from './lib/report.js';

const SERVICE = 'openmanus-core-dev';
const WORKSPACE_ROOT = '/workspace';

function mountsFor(count: number): MountSpec[] {
  return Array.from({ length: count }, (_, i) => {
    const user = `user${Math.floor(i / 100)}`;
    const workspace = `ws${i % 100}`;
    return { local_path: `/srv/projects/${user}/${workspace}`, container_path: `${WORKSPACE_ROOT}/${user}/${workspace}`, read_only: i % 7 === 0 };
  });
}

/**
 * Compares two texts line by line and returns how many lines of `before`
 * survive unchanged at the start and at the end of `after`, and how many
 * lines in between differ on either side.
 */
function lineDiff(before: string, after: string): { kept: number; removed: number; added: number } {
  const a = before.split('\n');
  const b = after.split('\n');
  let prefix = 0;
  while (prefix < a.length && prefix < b.length && a[prefix] === b[prefix]) prefix++;
  let suffix = 0;
  while (suffix < a.length - prefix && suffix < b.length - prefix && a[a.length - 1 - suffix] === b[b.length - 1 - suffix]) suffix++;
  return { kept: prefix + suffix, removed: a.length - prefix - suffix, added: b.length - prefix - suffix };
}

function timed<T>(work: () => T): { value: T; ms: number } {
  const started = performance.now();
  const value = work();
  return { value, ms: performance.now() - started };
}

async function main(): Promise<void> {
  const args = parseBenchArgs();
  const recorder = new Recorder('compose-transform');
  const base = await readFile(join(REPO_ROOT, 'docker-compose.dev.yml'), 'utf8');
  const count = 1000;
  const mounts = mountsFor(count);
  const changed = mounts.map((mount, i) => (i === 500 ? { ...mount, local_path: `${mount.local_path}-moved` } : mount));
  const removed = mounts.filter((_, i) => i !== 250);
  const options = (list: MountSpec[]) => ({ service: SERVICE, workspaceRoot: WORKSPACE_ROOT, mounts: list });
  const full = syncComposeMounts(base, options(mounts)).text;

  const samples = { add: [] as number[], change: [] as number[], remove: [] as number[], same: [] as number[] };
  const diffs = { add: lineDiff(base, base), change: lineDiff(full, full), remove: lineDiff(full, full) };
  let sameChanged = false;
  for (let run = 0; run < args.runs + 1; run++) {
    const add = timed(() => syncComposeMounts(base, options(mounts)));
    const change = timed(() => syncComposeMounts(full, options(changed)));
    const remove = timed(() => syncComposeMounts(full, options(removed)));
    const same = timed(() => syncComposeMounts(full, options(mounts)));
    if (run === 0) continue;
    samples.add.push(add.ms);
    samples.change.push(change.ms);
    samples.remove.push(remove.ms);
    samples.same.push(same.ms);
    diffs.add = lineDiff(base, add.value.text);
    diffs.change = lineDiff(full, change.value.text);
    diffs.remove = lineDiff(full, remove.value.text);
    sameChanged ||= same.value.changed || same.value.text !== full;
  }

  const group = 'Compose transform (1,000 mounts)';
  recorder.figure('compose.add', group, `add ${count.toLocaleString('en-US')} mounts to docker-compose.dev.yml`, 'ms', samples.add);
  recorder.figure('compose.change', group, `change the source of one of ${count.toLocaleString('en-US')} mounts`, 'ms', samples.change);
  recorder.figure('compose.remove', group, `remove one of ${count.toLocaleString('en-US')} mounts`, 'ms', samples.remove);
  recorder.figure('compose.same', group, `sync the same ${count.toLocaleString('en-US')} mounts (nothing to change)`, 'ms', samples.same);
  const baseLines = base.split('\n').length;
  recorder.check(group, 'adding keeps every original line byte for byte', diffs.add.kept === baseLines && diffs.add.removed === 0,
    `${diffs.add.kept} of ${baseLines} lines kept, ${diffs.add.added} added`);
  recorder.check(group, 'changing one mount rewrites only its entry', diffs.change.removed <= 6 && diffs.change.added <= 6,
    `${diffs.change.removed} lines replaced by ${diffs.change.added}, ${diffs.change.kept} of ${full.split('\n').length} kept`);
  recorder.check(group, 'removing one mount deletes only its entry', diffs.remove.added === 0 && diffs.remove.removed <= 6,
    `${diffs.remove.removed} lines removed, ${diffs.remove.kept} kept`);
  recorder.check(group, 'an unchanged sync returns the same text', !sameChanged, sameChanged ? 'the text changed' : 'changed: false, same text');
  recorder.note(`The file is the repository's docker-compose.dev.yml (${baseLines} lines); the 1,000 entries are written in long syntax, every seventh read-only. Each figure runs after one untimed round.`);
  await recorder.save(args.json);
}

await main();
