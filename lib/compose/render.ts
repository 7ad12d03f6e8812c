/** Text of the long-syntax entries the transform writes. */
import { parse, Scalar, stringify } from 'yaml';
import { ValidationError } from '../errors.js';
import type { MountSpec } from '../types.js';
import { escapeComposeLiteral } from './entries.js';
import type { ItemLayout } from './layout.js';

/** Characters that are safe only inside a double-quoted scalar, where they are escaped. */
const NEEDS_ESCAPE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\ufeff]/u;

/** Characters that YAML 1.1 parsers may read as line breaks or strip when left raw. */
const RAW_IN_QUOTES = /[\u0080-\u009f\u2028\u2029\ufeff]/gu;

/**
 * Returns the lines of one long-syntax bind entry, without line breaks:
 *
 *     - type: bind
 *       source: /home/dev/a
 *       target: /workspace/u1/a
 *       read_only: true
 *       bind:
 *         create_host_path: false
 *
 * `read_only` is written only when true. `create_host_path: false` makes
 * `docker compose up` fail on a missing host folder instead of creating it.
 */
export function renderLongEntry(spec: MountSpec, layout: ItemLayout, field: string): string[] {
  const dash = `${' '.repeat(layout.dashColumn)}-${' '.repeat(layout.contentColumn - layout.dashColumn - 1)}`;
  const body = ' '.repeat(layout.contentColumn);
  const nested = body + ' '.repeat(layout.unit);

  const lines = [
    `${dash}type: bind`,
    `${body}source: ${scalarText(escapeComposeLiteral(spec.local_path), `${field}.local_path`)}`,
    `${body}target: ${scalarText(spec.container_path, `${field}.container_path`)}`,
  ];
  if (spec.read_only) lines.push(`${body}read_only: true`);
  lines.push(`${body}bind:`, `${nested}create_host_path: false`);
  return lines;
}

/**
 * Returns `value` as a one-line YAML scalar for a mapping value, in the form the yaml
 * library prefers when YAML 1.2 and YAML 1.1 both read it back as the same string,
 * else double-quoted. Code points are kept as given: NFC and NFD text stay distinct.
 * Throws ValidationError INVALID_FIELD when no form reads back unchanged.
 */
export function scalarText(value: string, field: string): string {
  if (!NEEDS_ESCAPE.test(value)) {
    // The library writes plain text where it can and picks quotes where it must.
    const preferred = stringify(value, { lineWidth: 0 }).replace(/\n$/, '');
    if (readsBackAs(preferred, value)) return preferred;
  }

  const node = new Scalar(value);
  node.type = Scalar.QUOTE_DOUBLE;
  // The library leaves NEL, LS, PS and BOM raw inside the quotes, and the Go YAML parser
  // used by Compose 2.26 folds a raw NEL into a space, so those become \u escapes.
  const quoted = stringify(node, { lineWidth: 0 })
    .replace(/\n$/, '')
    .replace(RAW_IN_QUOTES, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (readsBackAs(quoted, value)) return quoted;

  throw new ValidationError('INVALID_FIELD', `invalid ${field} ${JSON.stringify(value)}: it cannot be written as a one-line YAML string`, {
    details: { field, expected: 'a string that YAML can write on one line', value },
  });
}

/** Checks `text` as the value of a mapping key, the place where it will be written. */
function readsBackAs(text: string, value: string): boolean {
  if (text.includes('\n')) return false;
  const line = `key: ${text}\n`;
  for (const version of ['1.2', '1.1'] as const) {
    try {
      const read = parse(line, { version }) as { key?: unknown } | null;
      if (read?.key !== value) return false;
    } catch {
      return false;
    }
  }
  return true;
}
