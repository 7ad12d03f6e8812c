/**
 * Figures a benchmark script measures, their summary (median, minimum,
 * maximum) and the JSON file through which bench/run.ts collects them.
 */
import { writeFile } from 'node:fs/promises';

/** One measured quantity and every sample taken of it. */
export interface Figure {
  /** Stable identifier that bench/run.ts uses to compute targets, such as `apply.monitor`. */
  id: string;
  /** Section of docs/benchmarks.md, such as `Apply latency`. */
  group: string;
  label: string;
  /** Unit of every sample, such as `ms`, `MiB` or `req/s`. */
  unit: string;
  samples: number[];
}

/** A correctness outcome measured along the way, such as "end state matches the store"; a failed one fails the run. */
export interface Check {
  group: string;
  label: string;
  ok: boolean;
  detail: string;
}

/** Everything one benchmark script reports. */
export interface BenchReport {
  name: string;
  /** Command that ran the script, as typed. */
  command: string;
  figures: Figure[];
  checks: Check[];
  /** Sentences about the setup that a reader needs to interpret the figures. */
  notes: string[];
}

export interface Summary {
  median: number;
  min: number;
  max: number;
  runs: number;
}

/** Returns the median, minimum and maximum of `samples`; the median of an even count is the mean of the middle two. */
export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, runs: 0 };
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, runs: sorted.length };
}

/** Formats a number with a precision that suits its size: 3 significant digits below 100, whole numbers above. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const size = Math.abs(value);
  if (size >= 100) return Math.round(value).toLocaleString('en-US');
  if (size >= 10) return value.toFixed(1);
  if (size >= 1) return value.toFixed(2);
  return value.toPrecision(3);
}

/** Collects figures and checks for one script, prints each as it is recorded, and saves them as JSON. */
export class Recorder {
  readonly report: BenchReport;

  constructor(name: string) {
    this.report = { name, command: ['node', '--import', 'tsx', ...process.argv.slice(1).map(relativeArg)].join(' '), figures: [], checks: [], notes: [] };
  }

  figure(id: string, group: string, label: string, unit: string, samples: number[]): Figure {
    const figure: Figure = { id, group, label, unit, samples };
    this.report.figures.push(figure);
    const { median, min, max, runs } = summarize(samples);
    console.log(`  ${label}: median ${formatNumber(median)} ${unit} (min ${formatNumber(min)}, max ${formatNumber(max)}, ${runs} runs)`);
    return figure;
  }

  check(group: string, label: string, ok: boolean, detail: string): void {
    this.report.checks.push({ group, label, ok, detail });
    console.log(`  ${ok ? 'ok' : 'FAILED'}: ${label} (${detail})`);
  }

  note(text: string): void {
    this.report.notes.push(text);
  }

  /** Writes the report to `file` when one was given with `--json`, and sets exit code 1 when a check failed. */
  async save(file: string | undefined): Promise<void> {
    if (file !== undefined) await writeFile(file, `${JSON.stringify(this.report, null, 2)}\n`);
    if (this.report.checks.some((check) => !check.ok)) process.exitCode = 1;
  }
}

function relativeArg(arg: string): string {
  const root = `${process.cwd()}/`;
  return arg.startsWith(root) ? arg.slice(root.length) : arg;
}
