/**
 * Counters, gauges and histograms rendered in the Prometheus text exposition
 * format 0.0.4, without a metrics library: the monitor needs a handful of
 * series and no push, summaries or exemplars.
 */

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type Labels = Record<string, string>;

interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  /** Sample lines without the HELP and TYPE lines. */
  samples(): string[];
}

/** Escapes a label value: backslash, double quote and line feed, as the text format requires. */
function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatLabels(labels: Labels): string {
  const pairs = Object.entries(labels).map(([name, value]) => `${name}="${escapeLabelValue(value)}"`);
  return pairs.length > 0 ? `{${pairs.join(',')}}` : '';
}

function formatValue(value: number): string {
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return Number.isNaN(value) ? 'NaN' : String(value);
}

/** Key of a label set, with label names sorted so that `{a,b}` and `{b,a}` are one series. */
function seriesKey(labels: Labels): string {
  return JSON.stringify(Object.keys(labels).sort().map((name) => [name, labels[name]]));
}

/** A counter family: one monotonically increasing value per label set. */
export class Counter {
  private readonly series = new Map<string, { labels: Labels; value: number }>();

  constructor(readonly name: string, readonly help: string) {}

  inc(labels: Labels = {}, amount = 1): void {
    const key = seriesKey(labels);
    const entry = this.series.get(key) ?? { labels, value: 0 };
    entry.value += amount;
    this.series.set(key, entry);
  }

  /** Returns the current value for `labels`, 0 when that series was never incremented. */
  get(labels: Labels = {}): number {
    return this.series.get(seriesKey(labels))?.value ?? 0;
  }

  family(): Family {
    return {
      name: this.name,
      help: this.help,
      type: 'counter',
      samples: () => [...this.series.values()].map(({ labels, value }) => `${this.name}${formatLabels(labels)} ${formatValue(value)}`),
    };
  }
}

/** A histogram family with fixed upper bounds, in the unit its name ends with. */
export class Histogram {
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  private readonly bounds: number[];

  constructor(readonly name: string, readonly help: string, bounds: number[]) {
    this.bounds = [...bounds].sort((a, b) => a - b);
  }

  observe(value: number, labels: Labels = {}): void {
    const key = seriesKey(labels);
    const entry = this.series.get(key) ?? { labels, counts: this.bounds.map(() => 0), sum: 0, count: 0 };
    this.bounds.forEach((bound, index) => {
      if (value <= bound) entry.counts[index]! += 1;
    });
    entry.sum += value;
    entry.count += 1;
    this.series.set(key, entry);
  }

  family(): Family {
    return {
      name: this.name,
      help: this.help,
      type: 'histogram',
      samples: () => {
        const lines: string[] = [];
        for (const { labels, counts, sum, count } of this.series.values()) {
          this.bounds.forEach((bound, index) => {
            lines.push(`${this.name}_bucket${formatLabels({ ...labels, le: formatValue(bound) })} ${counts[index]}`);
          });
          lines.push(`${this.name}_bucket${formatLabels({ ...labels, le: '+Inf' })} ${count}`);
          lines.push(`${this.name}_sum${formatLabels(labels)} ${formatValue(sum)}`);
          lines.push(`${this.name}_count${formatLabels(labels)} ${count}`);
        }
        return lines;
      },
    };
  }
}

/** A gauge family whose values are computed when the metrics are rendered. */
export function gaugeFamily(name: string, help: string, values: Array<{ labels: Labels; value: number }>): Family {
  return {
    name,
    help,
    type: 'gauge',
    samples: () => values.map(({ labels, value }) => `${name}${formatLabels(labels)} ${formatValue(value)}`),
  };
}

/** Renders families as one text exposition, each with its HELP and TYPE lines, ending with a line feed. */
export function renderFamilies(families: Array<Family | { family(): Family }>): string {
  const lines: string[] = [];
  for (const item of families) {
    const family = 'family' in item ? item.family() : item;
    lines.push(`# HELP ${family.name} ${family.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`);
    lines.push(`# TYPE ${family.name} ${family.type}`);
    lines.push(...family.samples());
  }
  return `${lines.join('\n')}\n`;
}
