/**
 * Runs every benchmark script, each in its own process, and writes
 * docs/benchmarks.md: the machine, the Node and engine versions, the exact
 * commands, each figure's median, minimum and maximum, and the targets. The
 * part of docs/benchmarks.md below KEEP_MARKER is hand-written and kept.
 *
 * Run: node --import tsx bench/run.ts [--short] [--runs N] [--engine d20|d26] [--only a,b] [--out FILE] [--note TEXT]
 * `--short` (2 runs, smaller sizes) writes to the system's temporary folder unless `--out` is given.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { compile, REPO_ROOT } from './lib/build.js';
import { openEngine } from './lib/engine.js';
import { formatNumber, summarize, type BenchReport } from './lib/report.js';
import { evaluateTargets } from './lib/targets.js';

/** The scripts in the order they run: the ones that need no engine first. */
const SCRIPTS = ['compose-transform', 'proxy-exit', 'engine-client', 'apply', 'burst', 'read-path', 'memory'] as const;
const KEEP_MARKER = '<!-- bench/run.ts keeps everything below this line. -->';

const { values } = parseArgs({
  options: {
    short: { type: 'boolean', default: false },
    runs: { type: 'string' },
    engine: { type: 'string', default: 'd26' },
    only: { type: 'string' },
    out: { type: 'string' },
    note: { type: 'string' },
  },
});
if (values.engine !== 'd20' && values.engine !== 'd26') {
  console.error(`invalid --engine ${JSON.stringify(values.engine)}: expected d20 or d26`);
  process.exit(2);
}
const selected = values.only === undefined ? [...SCRIPTS] : values.only.split(',').map((name) => name.trim());
const unknown = selected.filter((name) => !(SCRIPTS as readonly string[]).includes(name));
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(', ')}; expected some of ${SCRIPTS.join(', ')}`);
  process.exit(2);
}
const out = values.out ?? (values.short ? join(os.tmpdir(), 'mount-core-bench-smoke.md') : join(REPO_ROOT, 'docs', 'benchmarks.md'));

function scriptArgs(name: string, json: string): string[] {
  const args = ['--import', 'tsx', `bench/${name}.ts`, '--engine', values.engine!, '--json', json];
  if (values.short) args.push('--short');
  if (values.runs !== undefined) args.push('--runs', values.runs);
  return args;
}

/** Runs one script with its output passed through; returns its report and how long it took. */
async function runScript(name: string, folder: string, dist: string): Promise<{ report: BenchReport; seconds: number }> {
  const json = join(folder, `${name}.json`);
  console.log(`\n== ${name}`);
  const started = performance.now();
  const child = spawn(process.execPath, scriptArgs(name, json), { cwd: REPO_ROOT, stdio: 'inherit', env: { ...process.env, MC_BENCH_DIST: dist } });
  const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
  // Exit code 1 with a report means a failed check, which main() reports after writing the page.
  const text = await readFile(json, 'utf8').catch(() => undefined);
  if (text === undefined || (code !== 0 && code !== 1)) throw new Error(`bench/${name}.ts exited with ${code ?? signal}`);
  return { report: JSON.parse(text) as BenchReport, seconds: (performance.now() - started) / 1000 };
}

async function cpuModel(): Promise<string> {
  const text = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  return /^model name\s*:\s*(.+)$/m.exec(text)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
}

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  const engine = await openEngine(values.engine as 'd20' | 'd26');
  const folder = await mkdtemp(join(os.tmpdir(), 'mc-bench-run-'));
  const reports: Array<{ report: BenchReport; seconds: number }> = [];
  const started = new Date();
  try {
    const dist = await compile();
    for (const name of selected) reports.push(await runScript(name, folder, dist));
  } finally {
    await rm(folder, { recursive: true, force: true });
  }

  // The note is shown in its own row, so the command leaves out its text.
  const shownArgs = process.argv.slice(2).flatMap((arg, index, all) => (arg === '--note' || all[index - 1] === '--note' ? [] : [arg]));
  const command = ['node', '--import', 'tsx', 'bench/run.ts', ...shownArgs].join(' ');
  const npmScript = process.env.npm_lifecycle_event;
  const lines: string[] = [
    '# Benchmarks',
    '',
    'Measurements of mount-core against the raw Docker Engine API, `docker compose`, dockerode and bare `node:http`, made by the scripts in `bench/`. ' +
      'Every figure is the median, minimum and maximum of separate runs on the machine below. ' +
      'Regenerate this page with `npm run bench` (about 15 minutes) on a quiet machine with the project engines running; `npm run bench:smoke` is the short form CI runs.',
    '',
    '## This run',
    '',
    table(['', ''], [
      ['Machine', `${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB memory, ${await cpuModel()}, Linux ${os.release()}`],
      ['Node', process.version],
      ['Engine', `Docker Engine ${engine.version} (API ${engine.apiVersion}) at ${engine.host}`],
      ['Command', `\`${npmScript ? `npm run ${npmScript}` : command}\`${npmScript ? ` (\`${command}\`)` : ''}`],
      ['Mode', values.short ? 'short: 2 runs a figure, smaller sizes' : `full: ${values.runs ?? 10} runs a figure`],
      ['Started', started.toISOString()],
      ...(values.note ? [['Note', `${values.note} (passed with --note)`]] : []),
    ]),
    '',
    'Each script also runs alone, for example `node --import tsx bench/apply.ts --runs 10 --engine d26`:',
    '',
    table(['Script', 'Command', 'Time'], reports.map(({ report, seconds }) => [report.name, `\`${report.command.replace(/ --json \S+/, '')}\``, `${seconds.toFixed(0)} s`])),
    '',
    '## Targets',
    '',
    table(['Target', 'Measured (medians)', 'Met'], evaluateTargets(reports.flatMap(({ report }) => report.figures)).map((result) => [
      result.target, result.measured, result.met ? 'yes' : 'no',
    ])),
    '',
  ];

  const groups = new Map<string, BenchReport['figures']>();
  for (const { report } of reports) {
    for (const figure of report.figures) groups.set(figure.group, [...(groups.get(figure.group) ?? []), figure]);
  }
  for (const [group, figures] of groups) {
    lines.push(`## ${group}`, '');
    lines.push(table(['Figure', 'Unit', 'Median', 'Min', 'Max', 'Runs'], figures.map((figure) => {
      const summary = summarize(figure.samples);
      return [figure.label, figure.unit, formatNumber(summary.median), formatNumber(summary.min), formatNumber(summary.max), String(summary.runs)];
    })));
    const checks = reports.flatMap(({ report }) => report.checks).filter((check) => check.group === group);
    if (checks.length > 0) lines.push('', ...checks.map((check) => `- ${check.ok ? 'Passed' : 'FAILED'}: ${check.label} (${check.detail}).`));
    lines.push('');
  }
  lines.push('## How each script measures', '');
  for (const { report } of reports) {
    if (report.notes.length > 0) lines.push(`- \`bench/${report.name}.ts\`: ${report.notes.join(' ')}`);
  }
  lines.push('');

  const previous = await readFile(out, 'utf8').catch(() => '');
  const handWritten = previous.includes(KEEP_MARKER) ? previous.slice(previous.indexOf(KEEP_MARKER) + KEEP_MARKER.length) : '\n';
  await writeFile(out, `${lines.join('\n')}\n${KEEP_MARKER}${handWritten}`);
  console.log(`\nwrote ${out}`);

  const failed = reports.flatMap(({ report }) => report.checks.filter((check) => !check.ok).map((check) => `${report.name}: ${check.label} (${check.detail})`));
  if (failed.length > 0) {
    console.error(`\n${failed.length} correctness check${failed.length > 1 ? 's' : ''} failed:\n${failed.join('\n')}`);
    process.exitCode = 1;
  }
}

await main();
