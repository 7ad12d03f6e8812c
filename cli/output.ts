/** Text output of mountctl: the server's message as returned, then the facts of the reply in English. */
import type { Envelope } from './client.js';

interface MountView {
  user_id: string;
  workspace_id: string;
  local_path: string;
  container_path: string;
  description: string;
  read_only: boolean;
  created_at: string;
  updated_at: string;
  state: string;
  error?: { code: string; message: string; step?: string };
}

interface OperationView {
  id: string;
  kind: string;
  state: string;
  step?: string;
  steps?: Array<{ step: string; at_ms: number }>;
  created_at?: string;
  started_at?: string;
  finished_at?: string;
  duration_ms?: number;
  result?: Record<string, unknown>;
  error?: { code: string; message: string; step?: string };
}

const mode = (mount: MountView) => (mount.read_only ? 'ro' : 'rw');
const stateOf = (mount: MountView) => (mount.error ? `${mount.state} (${mount.error.code}: ${mount.error.message})` : mount.state);

/** Lines of a table with columns padded to their widest cell. */
function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((cell, index) => Math.max(cell.length, ...rows.map((row) => row[index]!.length)));
  const line = (row: string[]) => row.map((cell, index) => (index === row.length - 1 ? cell : cell.padEnd(widths[index]!))).join('  ');
  return [line(header), ...rows.map(line)];
}

/** `ls`: one row a mount. */
export function formatMountList(envelope: Envelope): string[] {
  const mounts = (envelope.data?.mounts ?? []) as MountView[];
  if (mounts.length === 0) return ['no mounts'];
  const rows = mounts.map((m) => [m.user_id, m.workspace_id, m.state, mode(m), m.local_path, m.container_path, m.description]);
  return table(['USER', 'WORKSPACE', 'STATE', 'MODE', 'HOST PATH', 'CONTAINER PATH', 'DESCRIPTION'], rows);
}

/** `show`: one field a line. */
export function formatMount(mount: MountView): string[] {
  return [
    `user:           ${mount.user_id}`,
    `workspace:      ${mount.workspace_id}`,
    `state:          ${stateOf(mount)}`,
    `host path:      ${mount.local_path}`,
    `container path: ${mount.container_path}`,
    `mode:           ${mount.read_only ? 'read-only' : 'read-write'}`,
    `description:    ${mount.description}`,
    `created:        ${mount.created_at}`,
    `updated:        ${mount.updated_at}`,
  ];
}

/** `status`: the operation's state, steps, result and error. */
export function formatOperation(operation: OperationView): string[] {
  const lines = [`operation: ${operation.id}`, `kind:      ${operation.kind}`, `state:     ${operation.state}`];
  if (operation.step) lines.push(`step:      ${operation.step}`);
  if (operation.started_at) lines.push(`started:   ${operation.started_at}`);
  if (operation.duration_ms !== undefined) lines.push(`duration:  ${(operation.duration_ms / 1000).toFixed(3)} s`);
  if (operation.steps && operation.steps.length > 0) {
    lines.push(`steps:     ${operation.steps.map((entry) => `${entry.step} (+${entry.at_ms} ms)`).join(', ')}`);
  }
  if (operation.error) lines.push(`error:     ${operation.error.code}: ${operation.error.message}`);
  if (operation.result) {
    const facts = Object.entries(operation.result)
      .filter(([, value]) => !(Array.isArray(value) && value.length === 0))
      .map(([key, value]) => `${key}=${typeof value === 'object' ? JSON.stringify(value) : String(value)}`);
    lines.push(`result:    ${facts.join(' ')}`);
  }
  return lines;
}

/** Returns the line that names the operation carrying a change and, unless `following` already, how to follow it. */
export function operationHint(operation: OperationView | null | undefined, following = false): string {
  if (!operation) return 'no operation: nothing to apply, or the change waits in the store until the monitor applies it';
  const named = `operation ${operation.id} (${operation.kind}, ${operation.state})`;
  return following ? named : `${named}; follow it with: mountctl status ${operation.id} --wait`;
}

/** `add` and `rm`: the mount and the operation that carries the change. */
export function formatMountChange(envelope: Envelope, following = false): string[] {
  const mount = envelope.data?.mount as MountView | undefined;
  const lines = [envelope.message];
  if (mount) lines.push(`${mount.user_id}/${mount.workspace_id}  ${mount.local_path} -> ${mount.container_path} (${mode(mount)})  ${stateOf(mount)}`);
  lines.push(operationHint(envelope.data?.operation, following));
  return lines;
}

/** `test` against the monitor: its health; against the proxy: whether the proxy reaches the monitor. */
export function formatHealth(envelope: Envelope, baseUrl: string, proxy: boolean): string[] {
  const data = envelope.data ?? {};
  if (proxy) return [`${envelope.message}`, `monitor API ${String(data.api_url)}: ${String(data.status)} (through the proxy at ${baseUrl})`];
  const docker = data.docker ?? {};
  const container = data.container ?? {};
  const dockerState = docker.reachable ? `reachable, API ${String(docker.api_version ?? 'unknown')}` : `unreachable${docker.error_code ? ` (${String(docker.error_code)})` : ''}`;
  const health = container.health ? `, health ${String(container.health)}` : '';
  return [
    envelope.message,
    `monitor ${baseUrl}: ${String(data.status)}`,
    `docker ${String(docker.host)}: ${dockerState}`,
    `container ${String(container.name)}: ${String(container.state)}${health}`,
  ];
}

/** Formats an error envelope as one line for stderr: the server's message, its code and the HTTP status. */
export function formatError(envelope: Envelope, status: number): string {
  return `${envelope.message} [${envelope.code ?? 'NO_CODE'}, HTTP ${status}]`;
}
