/** The targets docs/benchmarks.md reports against, each computed from the medians of the figures it names. */
import { formatNumber, summarize, type Figure } from './report.js';

export interface TargetResult {
  target: string;
  measured: string;
  /** Undefined when a figure it needs was not measured in this run. */
  met: boolean | undefined;
}

type Medians = (id: string) => number | undefined;

interface Target {
  target: string;
  evaluate(median: Medians, max: Medians): { measured: string; met: boolean } | undefined;
}

const ms = (value: number) => `${formatNumber(value)} ms`;

/** Descriptions of the two measured proxies: the one the stack runs, and one that forwards every read. */
const PROXY_KINDS = { 'stack-proxy': 'as the stack runs it (fallback on)', proxy: 'forwarding (fallback off)' } as const;

/** Compares the medians of two figures as a ratio against `limit`. */
function ratio(target: string, numerator: string, denominator: string, test: (value: number) => boolean, describe: (value: number, a: number, b: number) => string): Target {
  return {
    target,
    evaluate(median) {
      const a = median(numerator);
      const b = median(denominator);
      if (a === undefined || b === undefined) return undefined;
      return { measured: describe(a / b, a, b), met: test(a / b) };
    },
  };
}

const TARGETS: Target[] = [
  ratio('Apply at most 1.10× the raw Engine API floor (MIN_UPTIME_MS=0)', 'apply.monitor', 'apply.floor', (r) => r <= 1.1,
    (r, a, b) => `${r.toFixed(2)}× (${ms(a)} against ${ms(b)})`),
  ratio('Apply ahead of `docker compose up -d`', 'apply.monitor', 'apply.compose', (r) => r < 1,
    (r, a, b) => `${r.toFixed(2)}× compose's time (${ms(a)} against ${ms(b)})`),
  {
    target: 'Downtime within 50 ms of the floor',
    evaluate(median) {
      const ours = median('downtime.monitor');
      const floor = median('downtime.floor');
      if (ours === undefined || floor === undefined) return undefined;
      return { measured: `${formatNumber(ours - floor)} ms more (${ms(ours)} against ${ms(floor)})`, met: ours - floor <= 50 };
    },
  },
  {
    target: 'Proxy exits well under a second after SIGTERM: every run under 500 ms, in each case measured',
    evaluate(median, max) {
      const keys = ['idle', 'fresh', 'settled'].filter((key) => median(`proxy-exit.${key}`) !== undefined);
      if (keys.length === 0) return undefined;
      const worst = Math.max(...keys.map((key) => max(`proxy-exit.${key}`)!));
      const measured = keys.map((key) => `${key} ${ms(median(`proxy-exit.${key}`)!)}`).join(', ');
      return { measured: `${measured}; max ${ms(worst)}`, met: worst < 500 };
    },
  },
  {
    target: 'A burst of 100 mutations costs at most 2 recreates',
    evaluate(_median, max) {
      const worst = max('burst.recreates');
      return worst === undefined ? undefined : { measured: `at most ${worst} in a burst`, met: worst <= 2 };
    },
  },
  {
    target: 'A lone change waits for no settle delay (operation starts within 50 ms of the POST)',
    evaluate(median, max) {
      const value = median('burst.lone-start');
      const worst = max('burst.lone-start');
      if (value === undefined || worst === undefined) return undefined;
      return { measured: `${ms(value)} (max ${ms(worst)})`, met: worst < 50 };
    },
  },
  ...(['stack-proxy', 'proxy'] as const).flatMap((proxy) =>
    ['10', '10000', '1000'].flatMap((count) =>
      ['c1', 'c32'].map((connections) =>
        ratio(`Proxy costs at most 15 % throughput, ${PROXY_KINDS[proxy]} (${Number(count).toLocaleString('en-US')} mounts, ${connections.slice(1)} connection${connections === 'c1' ? '' : 's'})`,
          `read.${proxy}.${count}.${connections}.rps`, `read.monitor.${count}.${connections}.rps`, (r) => r >= 0.85,
          (r, a, b) => `${((1 - r) * 100).toFixed(0)} % less (${formatNumber(a)} against ${formatNumber(b)} req/s)`),
      ),
    ),
  ),
  ...(['monitor', 'stack-proxy', 'proxy'] as const).map((target): Target => ({
    target: `p99 under 5 ms at 32 connections with 10 mounts (${target === 'monitor' ? 'monitor' : `through the proxy, ${PROXY_KINDS[target]}`})`,
    evaluate(median) {
      const value = median(`read.${target}.10.c32.p99`);
      return value === undefined ? undefined : { measured: ms(value), met: value < 5 };
    },
  })),
  ...(['engine', 'stub'] as const).flatMap((daemon) =>
    ['c1', 'c16'].map((concurrency) =>
      ratio(`DockerClient at least 1.5× dockerode (inspect, concurrency ${concurrency.slice(1)}, ${daemon === 'engine' ? 'real daemon' : 'stub daemon'})`,
        `${daemon}.ours.${concurrency}`, `${daemon}.dockerode.${concurrency}`, (r) => r >= 1.5,
        (r, a, b) => `${r.toFixed(2)}× (${formatNumber(a)} against ${formatNumber(b)} ops/s)`),
    ),
  ),
  ...(['monitor', 'proxy'] as const).map((server) =>
    ratio(`Idle RSS of the ${server === 'monitor' ? 'monitor' : 'dev proxy'} at most 1.3× a bare node:http server`, `memory.idle.${server}`, 'memory.idle.bare', (r) => r <= 1.3,
      (r, a, b) => `${r.toFixed(2)}× (${formatNumber(a)} against ${formatNumber(b)} MiB)`),
  ),
  {
    target: 'RSS grows under 10 % over 1,000 applies (in-memory engine)',
    evaluate(median) {
      const value = median('memory.fake.rss-growth-percent');
      return value === undefined ? undefined : { measured: `${value.toFixed(1)} %`, met: value < 10 };
    },
  },
];

/** Evaluates every target whose figures are present in `figures`. */
export function evaluateTargets(figures: Figure[]): TargetResult[] {
  const byId = new Map(figures.map((figure) => [figure.id, summarize(figure.samples)]));
  const median: Medians = (id) => byId.get(id)?.median;
  const max: Medians = (id) => byId.get(id)?.max;
  return TARGETS.flatMap((entry) => {
    const result = entry.evaluate(median, max);
    return result === undefined ? [] : [{ target: entry.target, measured: result.measured, met: result.met }];
  });
}
