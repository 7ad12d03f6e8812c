/** Constructors for the ComposeError values the transform throws. */
import { ComposeError, type ComposeProblem } from '../errors.js';

/** Creates the error for a compose file the transform cannot edit. `reason` is one line for the API message. */
export function invalidCompose(reason: string, problems: ComposeProblem[]): ComposeError {
  const where = problems.map((problem) => `${formatPath(problem.path)}: ${problem.message}`).join('; ');
  const message = where.length > 0 ? `${reason} (${where})` : reason;
  return new ComposeError('COMPOSE_INVALID', message, problems, { details: { reason } });
}

/** Creates the error for a fault of the transform itself, found by its own checks. */
export function internalComposeError(detail: string, path: (string | number)[] = []): ComposeError {
  const reason = `internal error in the compose transform (${detail}). The file was not changed. Please report this with the compose file`;
  return invalidCompose(reason, [{ path, message: detail }]);
}

/** Renders a problem path as `services.dev.volumes[2]`, or `(document)` for the root. */
export function formatPath(path: (string | number)[]): string {
  if (path.length === 0) return '(document)';
  let text = '';
  for (const part of path) {
    if (typeof part === 'number') text += `[${part}]`;
    else text += text.length === 0 ? part : `.${part}`;
  }
  return text;
}
