/** Command-line options shared by every benchmark script. */
import { parseArgs } from 'node:util';

export type EngineName = 'd20' | 'd26';

export interface BenchArgs {
  /** Two runs per figure and smaller sizes, for a smoke test. */
  short: boolean;
  /** Runs per figure: `--runs`, else 2 with `--short`, else 10. */
  runs: number;
  /** File that receives the JSON report for bench/run.ts; without one the script only prints. */
  json: string | undefined;
  /** Local engine to use: one of the two project engines. */
  engine: EngineName;
}

/** Parses `--short`, `--runs N`, `--json FILE` and `--engine d20|d26` (default d26); exits with a usage line on anything else. */
export function parseBenchArgs(argv: string[] = process.argv.slice(2)): BenchArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        short: { type: 'boolean', default: false },
        runs: { type: 'string' },
        json: { type: 'string' },
        engine: { type: 'string', default: 'd26' },
      },
    }));
  } catch (error) {
    usage(error instanceof Error ? error.message : String(error));
  }
  const engine = values.engine;
  if (engine !== 'd20' && engine !== 'd26') usage(`invalid --engine ${JSON.stringify(engine)}: expected d20 or d26`);
  let runs = values.short ? 2 : 10;
  if (values.runs !== undefined) runs = Number(values.runs);
  if (!Number.isSafeInteger(runs) || runs < 1) usage(`invalid --runs ${JSON.stringify(values.runs)}: expected a whole number from 1`);
  return { short: values.short ?? false, runs, json: values.json, engine };
}

function usage(reason: string): never {
  console.error(`${reason}\nusage: node --import tsx bench/<name>.ts [--short] [--runs N] [--json FILE] [--engine d20|d26]`);
  process.exit(2);
}
