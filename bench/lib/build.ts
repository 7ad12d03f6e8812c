/**
 * Compiles lib/, servers/ and bench/children/ to JavaScript with tsc, into
 * node_modules/.cache/mount-core-bench/, so that memory and throughput
 * figures come from plain `node` as in production and not from the tsx
 * loader. The folder sits inside node_modules so that the compiled files
 * resolve the project's packages; its own package.json marks them as ES
 * modules. bench/run.ts compiles once and passes the folder on in
 * MC_BENCH_DIST, which makes the scripts skip their own compile.
 */
import { execFile } from 'node:child_process';
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CACHE = join(REPO_ROOT, 'node_modules', '.cache', 'mount-core-bench');

/** Compiled files, by what they run. */
export interface BuiltScripts {
  monitor: string;
  proxy: string;
  bareServer: string;
  applyLoop: string;
}

/** Returns the compiled entry points, compiling first unless MC_BENCH_DIST names a folder compiled already. */
export async function buildScripts(): Promise<BuiltScripts> {
  const outDir = process.env.MC_BENCH_DIST || (await compile());
  const scripts: BuiltScripts = {
    monitor: join(outDir, 'servers', 'monitor', 'main.js'),
    proxy: join(outDir, 'servers', 'dev-proxy', 'main.js'),
    bareServer: join(outDir, 'bench', 'children', 'bare-server.js'),
    applyLoop: join(outDir, 'bench', 'children', 'apply-loop.js'),
  };
  for (const file of Object.values(scripts)) await stat(file);
  return scripts;
}

/**
 * Runs tsc and returns the output folder. Type errors in the working tree
 * are printed and do not stop the benchmark, because tsc emits JavaScript
 * regardless.
 */
export async function compile(): Promise<string> {
  const outDir = join(CACHE, 'dist');
  console.log(`compiling lib/, servers/ and bench/children/ with tsc into ${outDir}`);
  await rm(outDir, { recursive: true, force: true });
  await mkdir(CACHE, { recursive: true });
  const config = {
    extends: '../../../tsconfig.json',
    compilerOptions: { noEmit: false, outDir: './dist', rootDir: '../../..', declaration: false, sourceMap: false },
    include: ['../../../lib/**/*.ts', '../../../servers/**/*.ts', '../../../bench/children/*.ts'],
  };
  await writeFile(join(CACHE, 'tsconfig.json'), `${JSON.stringify(config, null, 2)}\n`);
  await writeFile(join(CACHE, 'package.json'), '{ "type": "module", "private": true }\n');
  try {
    await run(process.execPath, [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(CACHE, 'tsconfig.json')], {
      cwd: REPO_ROOT,
      timeout: 300_000,
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (error) {
    const output = (error as { stdout?: string }).stdout ?? String(error);
    console.warn(`tsc reported errors; using the JavaScript it emitted anyway:\n${output.trim()}`);
  }
  return outDir;
}
