/**
 * Follows an operation until it succeeds or fails. On a terminal, one status
 * line is redrawn in place with the current step and the elapsed time.
 * Elsewhere, for logs and CI, each new step is printed once as a plain line.
 */
import { UnreachableError, type ApiClient, type Reply } from './client.js';

export interface FollowOptions {
  /** Writer of the progress text: stderr, so that stdout keeps only the result. */
  write: (text: string) => void;
  /** Redraw one line in place (a terminal) instead of printing a line per step. */
  tty: boolean;
  /** How long to follow before giving up, in milliseconds. */
  timeoutMs: number;
  /** Delay between two polls, in milliseconds. Default: 250. */
  intervalMs?: number;
  now?: () => number;
}

export type FollowResult =
  /** The operation ended; `reply` is the last GET operations/:id reply. */
  | { kind: 'settled'; reply: Reply; failed: boolean }
  /** The server returned an error envelope, such as OPERATION_NOT_FOUND after a monitor restart. */
  | { kind: 'rejected'; reply: Reply }
  | { kind: 'timeout'; lastError: UnreachableError | undefined };

interface OperationView {
  id: string;
  kind: string;
  state: string;
  step?: string;
  steps: Array<{ step: string; at_ms: number }>;
  duration_ms?: number;
  error?: { code: string; message: string; step?: string };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `GET operations/:id` until the operation ends or `timeoutMs` passes. */
export async function followOperation(client: ApiClient, id: string, options: FollowOptions): Promise<FollowResult> {
  const now = options.now ?? Date.now;
  const started = now();
  const interval = options.intervalMs ?? 250;
  let printedSteps = 0;
  let lastError: UnreachableError | undefined;
  let drawn = false;
  // Plain output names an outage once, not on every poll.
  let announcedOutage = false;
  const draw = (line: string) => {
    options.write(`\r\u001b[2K${line}`);
    drawn = true;
  };
  const endLine = () => {
    if (drawn) options.write('\r\u001b[2K');
    drawn = false;
  };

  for (;;) {
    const elapsed = now() - started;
    let reply: Reply | undefined;
    try {
      reply = await client.send({ kind: 'status', operation: id });
      lastError = undefined;
    } catch (error) {
      // Through the proxy, the connection drops while the development container is recreated; keep polling.
      if (!(error instanceof UnreachableError)) throw error;
      lastError = error;
    }

    if (reply && !reply.envelope.success) {
      endLine();
      return { kind: 'rejected', reply };
    }
    if (reply) {
      const operation = reply.envelope.data?.operation as OperationView;
      const settled = operation.state === 'succeeded' || operation.state === 'failed';
      if (options.tty) {
        if (!settled) draw(`${operation.id} ${operation.kind} ${operation.state}${operation.step ? `: ${operation.step}` : ''} (${seconds(elapsed)})`);
      } else {
        for (const entry of operation.steps.slice(printedSteps)) options.write(`${operation.id} ${operation.kind} step ${entry.step} at ${seconds(entry.at_ms)}\n`);
      }
      printedSteps = operation.steps.length;
      if (settled) {
        endLine();
        options.write(`${finalLine(operation)}\n`);
        return { kind: 'settled', reply, failed: operation.state === 'failed' };
      }
    } else if (options.tty) {
      draw(`${id} waiting for the server to respond again: ${lastError?.message} (${seconds(elapsed)})`);
    } else if (!announcedOutage) {
      options.write(`${id} waiting for the server to respond again: ${lastError?.message}\n`);
    }
    announcedOutage = reply === undefined;

    if (now() - started >= options.timeoutMs) {
      endLine();
      return { kind: 'timeout', lastError };
    }
    await sleep(interval);
  }
}

function finalLine(operation: OperationView): string {
  const took = operation.duration_ms === undefined ? '' : ` in ${seconds(operation.duration_ms)}`;
  if (operation.state === 'succeeded') return `${operation.id} ${operation.kind} succeeded${took}`;
  const error = operation.error;
  const step = error?.step ?? operation.step;
  const where = step ? ` at step ${step}` : '';
  return `${operation.id} ${operation.kind} failed${took}${where}: ${error ? `${error.code}: ${error.message}` : 'no error reported'}`;
}
