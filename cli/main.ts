#!/usr/bin/env node
/**
 * mountctl: the command line of mount-core. Talks to the monitor API or to
 * the development-container proxy; exit codes are listed in exit-codes.ts.
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseInvocation, UsageError, type Invocation } from './args.js';
import { ApiClient, InvalidReplyError, UnreachableError, type Call, type Reply } from './client.js';
import { commandHelp, findCommand, overviewHelp } from './commands.js';
import { ExitCode, type ExitCodeValue } from './exit-codes.js';
import { formatError, formatHealth, formatMount, formatMountChange, formatMountList, formatOperation, operationHint } from './output.js';
import { followOperation } from './progress.js';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Whether stderr is a terminal, which turns --wait into a redrawn progress line. */
  stderrIsTty: boolean;
  env: Record<string, string | undefined>;
}

/** Runs one command line and returns its exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<ExitCodeValue> {
  let invocation: Invocation;
  try {
    invocation = parseInvocation(argv, io.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    const hint = error.command ? `mountctl ${error.command.name} --help` : 'mountctl --help';
    io.stderr(`mountctl: ${error.message}\nRun "${hint}" for usage.\n`);
    return ExitCode.usage;
  }

  const { command } = invocation;
  if (!command && !invocation.help) {
    io.stderr(overviewHelp());
    return ExitCode.usage;
  }
  if (!command || invocation.help || command.name === 'help') {
    const topic = command?.name === 'help' && !invocation.help ? invocation.args.command : command?.name;
    const spec = topic === undefined ? undefined : findCommand(topic);
    if (topic !== undefined && !spec) {
      io.stderr(`mountctl: unknown command "${topic}"\nRun "mountctl --help" for usage.\n`);
      return ExitCode.usage;
    }
    io.stdout(spec ? commandHelp(spec) : overviewHelp());
    return ExitCode.ok;
  }

  const client = new ApiClient({
    baseUrl: invocation.url,
    proxy: invocation.proxy,
    token: invocation.proxy ? io.env.PROXY_TOKEN || undefined : io.env.MONITOR_TOKEN || undefined,
    language: invocation.language,
  });
  try {
    return await execute(invocation, client, io);
  } catch (error) {
    if (error instanceof UnreachableError) {
      io.stderr(`mountctl: ${error.message}\n`);
      return ExitCode.unreachable;
    }
    if (error instanceof InvalidReplyError) {
      io.stderr(`mountctl: ${error.message}\n`);
      return ExitCode.rejected;
    }
    throw error;
  }
}

async function execute(invocation: Invocation, client: ApiClient, io: CliIo): Promise<ExitCodeValue> {
  const { args } = invocation;
  const name = invocation.command!.name;
  const call: Call =
    name === 'add'
      ? { kind: 'add', body: mountBody(invocation) }
      : name === 'rm' || name === 'show'
        ? { kind: name, user: args.user!, workspace: args.workspace! }
        : name === 'status'
          ? { kind: 'status', operation: args.operation! }
          : { kind: name as 'ls' | 'restart' | 'test' };

  const reply = await client.send(call);
  if (!reply.envelope.success) return reject(reply, invocation, io);

  const operation = reply.envelope.data?.operation;
  const follow = invocation.wait && operation && typeof operation.id === 'string' && !(name === 'status' && isSettled(operation));
  // With --json and --wait, stdout gets only the final envelope, so that it stays one JSON document.
  if (!invocation.json && !(follow && name === 'status')) io.stdout(`${describe(name, reply, invocation, Boolean(follow)).join('\n')}\n`);
  if (follow) return wait(invocation, client, io, operation.id as string, call);
  if (invocation.json) io.stdout(`${reply.raw}\n`);
  if (invocation.wait && !operation && (name === 'add' || name === 'rm')) io.stderr(`mountctl: ${operationHint(operation)}\n`);
  return name === 'status' && operation?.state === 'failed' ? ExitCode.operationFailed : ExitCode.ok;
}

/** Text for a successful reply of each command. */
function describe(name: string, reply: Reply, invocation: Invocation, following: boolean): string[] {
  const { envelope } = reply;
  switch (name) {
    case 'ls':
      return formatMountList(envelope);
    case 'show':
      return formatMount(envelope.data.mount);
    case 'status':
      return formatOperation(envelope.data.operation);
    case 'test':
      return formatHealth(envelope, invocation.url, invocation.proxy);
    case 'restart':
      return [envelope.message, operationHint(envelope.data?.operation, following)];
    default:
      return formatMountChange(envelope, following);
  }
}

/** Follows the operation, then, after `add`, reads the mount back: a dropped mount fails the command too. */
async function wait(invocation: Invocation, client: ApiClient, io: CliIo, id: string, call: Call): Promise<ExitCodeValue> {
  const result = await followOperation(client, id, { write: io.stderr, tty: io.stderrIsTty, timeoutMs: invocation.timeoutMs });
  if (result.kind === 'timeout') {
    const reason = result.lastError ? `; last error: ${result.lastError.message}` : '';
    io.stderr(`mountctl: operation ${id} did not finish within ${invocation.timeoutMs / 1000} s${reason}\n`);
    return result.lastError ? ExitCode.unreachable : ExitCode.operationFailed;
  }
  if (result.kind === 'rejected') return reject(result.reply, invocation, io);

  let failed = result.failed;
  if (!failed && call.kind === 'add') {
    const mount = await client.send({ kind: 'show', user: String(call.body.user_id), workspace: String(call.body.workspace_id) });
    if (mount.envelope.success && mount.envelope.data.mount.state === 'failed') {
      const error = mount.envelope.data.mount.error;
      io.stderr(`mountctl: mount ${String(call.body.user_id)}/${String(call.body.workspace_id)} failed: ${error?.code}: ${error?.message}\n`);
      failed = true;
    }
  }
  if (invocation.json) io.stdout(`${result.reply.raw}\n`);
  else io.stdout(`${formatOperation(result.reply.envelope.data.operation).join('\n')}\n`);
  return failed ? ExitCode.operationFailed : ExitCode.ok;
}

function reject(reply: Reply, invocation: Invocation, io: CliIo): ExitCodeValue {
  if (invocation.json) io.stdout(`${reply.raw}\n`);
  io.stderr(`mountctl: ${formatError(reply.envelope, reply.status)}\n`);
  return reply.envelope.code === 'MONITOR_UNAVAILABLE' ? ExitCode.unreachable : ExitCode.rejected;
}

function mountBody(invocation: Invocation): Record<string, unknown> {
  const body: Record<string, unknown> = {
    user_id: invocation.args.user,
    workspace_id: invocation.args.workspace,
    local_path: invocation.args.path,
  };
  if (invocation.args.desc !== undefined) body.description = invocation.args.desc;
  if (invocation.readOnly) body.read_only = true;
  return body;
}

const isSettled = (operation: { state?: unknown }) => operation.state === 'succeeded' || operation.state === 'failed';

/** True when this file is the program, also through npm's bin symlink, and not a module a test imports. */
function isProgram(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

if (isProgram()) {
  const code = await runCli(process.argv.slice(2), {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    stderrIsTty: process.stderr.isTTY === true,
    env: process.env,
  });
  process.exitCode = code;
}
