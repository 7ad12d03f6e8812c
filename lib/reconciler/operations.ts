/** Operation records: the progress and result of each apply or restart, kept in memory. */
import { randomBytes } from 'node:crypto';
import type { MountFailure } from '../types.js';

export type OperationKind = 'apply' | 'restart';
export type OperationState = 'queued' | 'running' | 'succeeded' | 'failed';

export interface OperationStep {
  step: string;
  /** Milliseconds since the operation started running. */
  at_ms: number;
}

export interface OperationResult {
  /** True when the container was recreated; false when it already matched or was only restarted. */
  recreated: boolean;
  restarted: boolean;
  container_id?: string;
  /** From the old container's stop request to the replacement's process running, in milliseconds. */
  downtime_ms?: number;
  /** Same start, until the replacement was first seen running and healthy (where it has a healthcheck). */
  ready_ms?: number;
  mounts_applied: number;
  mounts_failed: number;
  /** Set when the container changed but the compose file could not be updated. */
  compose_error?: MountFailure;
  warnings: string[];
}

export interface Operation {
  id: string;
  kind: OperationKind;
  state: OperationState;
  /** The step running now, or the step a failure came from. */
  step?: string;
  steps: OperationStep[];
  created_at: string;
  started_at?: string;
  finished_at?: string;
  duration_ms?: number;
  result?: OperationResult;
  error?: MountFailure;
}

/** Creates an operation id: `op_` and 12 hex digits. */
export function newOperationId(): string {
  return `op_${randomBytes(6).toString('hex')}`;
}

/** Keeps the last `limit` operations, oldest dropped first. */
export class OperationLog {
  private readonly operations = new Map<string, Operation>();
  private readonly waiters = new Map<string, Array<(operation: Operation) => void>>();

  constructor(private readonly limit = 500) {}

  add(operation: Operation): Operation {
    this.operations.set(operation.id, operation);
    while (this.operations.size > this.limit) {
      const oldest = this.operations.keys().next().value as string;
      this.operations.delete(oldest);
    }
    return operation;
  }

  get(id: string): Operation | undefined {
    return this.operations.get(id);
  }

  /** Resolves with the operation once it has succeeded or failed. */
  settled(operation: Operation): Promise<Operation> {
    if (operation.state === 'succeeded' || operation.state === 'failed') return Promise.resolve(operation);
    return new Promise((resolve) => {
      const list = this.waiters.get(operation.id) ?? [];
      list.push(resolve);
      this.waiters.set(operation.id, list);
    });
  }

  /** Wakes everyone waiting on a finished operation. */
  finish(operation: Operation): void {
    for (const resolve of this.waiters.get(operation.id) ?? []) resolve(operation);
    this.waiters.delete(operation.id);
  }
}
