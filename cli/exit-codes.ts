/** Exit codes of mountctl; docs/cli.md lists them for scripts. */
export const ExitCode = {
  /** The request succeeded and, with --wait, so did the operation. */
  ok: 0,
  /** The server rejected the request (an error envelope other than MONITOR_UNAVAILABLE, or a reply that is not an envelope). */
  rejected: 1,
  /** The command line is invalid: unknown command or option, missing or extra argument. */
  usage: 2,
  /** The server could not be reached, or the proxy could not reach the monitor (MONITOR_UNAVAILABLE). */
  unreachable: 3,
  /** The operation failed, or the mount it applied ended in state `failed`. */
  operationFailed: 4,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];
