/** Parses mountctl's command line with node:util parseArgs into one checked invocation. */
import { parseArgs } from 'node:util';
import { findCommand, type CommandSpec } from './commands.js';

export const DEFAULT_URL = 'http://127.0.0.1:8089/api';
const DEFAULT_TIMEOUT_SECONDS = 600;

/** Every option of every command; a command accepts the global ones plus those its spec lists. */
const OPTIONS = {
  url: { type: 'string' },
  proxy: { type: 'boolean' },
  json: { type: 'boolean' },
  lang: { type: 'string' },
  timeout: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  wait: { type: 'boolean' },
  user: { type: 'string', short: 'u' },
  workspace: { type: 'string', short: 'w' },
  path: { type: 'string', short: 'p' },
  desc: { type: 'string' },
  'read-only': { type: 'boolean' },
} as const;
const GLOBAL_OPTIONS = new Set(['url', 'proxy', 'json', 'lang', 'timeout', 'help']);

/** A command line that cannot run; main prints the message and exits 2. */
export class UsageError extends Error {
  constructor(message: string, readonly command?: CommandSpec) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface Invocation {
  /** Undefined when no command was given (only --help, or nothing). */
  command: CommandSpec | undefined;
  help: boolean;
  url: string;
  /** True when talking to the development-container proxy's original routes. */
  proxy: boolean;
  json: boolean;
  wait: boolean;
  language: 'en' | 'zh-CN';
  timeoutMs: number;
  /** Arguments by name: user, workspace, path, desc, operation, command. */
  args: Record<string, string>;
  readOnly: boolean;
}

/** Parses `argv` (without node and the script); throws UsageError. `env` supplies MOUNTCTL_URL. */
export function parseInvocation(argv: string[], env: Record<string, string | undefined>): Invocation {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; tokens: true; strict: true }>>;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, tokens: true, strict: true });
  } catch (error) {
    // parseArgs adds advice about `--` after the first sentence; the first sentence names the problem.
    const message = (error instanceof Error ? error.message : String(error)).split('. ')[0]!;
    throw new UsageError(message, argv.map((word) => findCommand(word)).find((command) => command !== undefined));
  }
  const { values, positionals, tokens } = parsed;
  const [name, ...rest] = positionals;
  const command = name === undefined ? undefined : findCommand(name);
  if (name !== undefined && !command) throw new UsageError(`unknown command "${name}"`);

  const given = new Set(tokens.filter((token) => token.kind === 'option').map((token) => token.name));
  for (const option of given) {
    if (GLOBAL_OPTIONS.has(option) || command?.options.includes(option)) continue;
    throw new UsageError(command ? `option --${option} is not valid for "${command.name}"` : `option --${option} needs a command`, command);
  }

  const url = values.url ?? env.MOUNTCTL_URL ?? DEFAULT_URL;
  let parsedUrl: URL;
  try {
    parsedUrl = new URL(url);
  } catch {
    throw new UsageError(`--url ${JSON.stringify(url)} is not a URL`, command);
  }
  if (parsedUrl.protocol !== 'http:' && parsedUrl.protocol !== 'https:') {
    throw new UsageError(`--url ${JSON.stringify(url)} must be an http or https URL`, command);
  }

  const language = values.lang ?? 'en';
  if (language !== 'en' && language !== 'zh-CN') throw new UsageError(`--lang ${JSON.stringify(language)} is invalid: expected en or zh-CN`, command);

  let timeoutMs = DEFAULT_TIMEOUT_SECONDS * 1000;
  if (values.timeout !== undefined) {
    const seconds = Number(values.timeout);
    if (!/^\d+(\.\d+)?$/.test(values.timeout) || seconds <= 0) {
      throw new UsageError(`--timeout ${JSON.stringify(values.timeout)} is invalid: expected a number of seconds above 0`, command);
    }
    timeoutMs = seconds * 1000;
  }

  const help = values.help === true;
  const args = help || !command ? {} : assignArguments(command, rest, values);
  return {
    command,
    help,
    url: url.replace(/\/+$/, ''),
    proxy: values.proxy === true || /\/api\/mounts$/.test(parsedUrl.pathname.replace(/\/+$/, '')),
    json: values.json === true,
    wait: values.wait === true,
    language,
    timeoutMs,
    args,
    readOnly: values['read-only'] === true,
  };
}

/**
 * Fills the command's arguments: options first (--user, --workspace, --path),
 * then positionals in order for the arguments no option set, so that both
 * `add alice ws1 /srv` and the original tool's `mount -u alice -w ws1 -p /srv` work.
 */
function assignArguments(command: CommandSpec, positionals: string[], values: Record<string, unknown>): Record<string, string> {
  const args: Record<string, string> = {};
  for (const name of command.positionals) {
    if (typeof values[name] === 'string') args[name] = values[name] as string;
  }
  const open = command.positionals.filter((name) => args[name] === undefined);
  if (positionals.length > open.length) {
    throw new UsageError(`unexpected argument "${positionals[open.length]}" for "${command.name}"`, command);
  }
  positionals.forEach((value, index) => {
    args[open[index]!] = value;
  });
  if (typeof values.desc === 'string') args.desc = values.desc;

  // Only `help` takes an optional argument; every other command needs all of its own.
  const missing = command.name === 'help' ? [] : command.positionals.filter((name) => args[name] === undefined || args[name] === '');
  if (missing.length > 0) {
    throw new UsageError(`missing ${missing.map((name) => name.toUpperCase()).join(', ')} for "${command.name}"`, command);
  }
  return args;
}
