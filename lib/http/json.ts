/**
 * Strict parsing of a JSON request body. On top of JSON.parse it rejects:
 * - bytes that are not UTF-8. RFC 8259 requires UTF-8 between systems, and a
 *   lenient decoder would turn a bad byte into U+FFFD, which names another
 *   folder without telling anyone.
 * - a member name that occurs twice in one object. JSON.parse keeps the last
 *   one without a word, while a filter in front of this server may read the
 *   first.
 * - the member names `__proto__`, `constructor` and `prototype` at any depth,
 *   so that no later copy of the body into an object can reach a prototype.
 */
import { HttpError, ValidationError } from '../errors.js';
import { quoteValue } from '../validation/text.js';

/** Member names no request body may contain. */
export const RESERVED_MEMBER_NAMES: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes `bytes` as UTF-8, dropping a leading byte order mark, and parses
 * the text. Throws HttpError INVALID_JSON (400) for bad UTF-8 or bad JSON.
 * Throws ValidationError DUPLICATE_FIELD for a repeated member name and
 * UNKNOWN_FIELD for a reserved one, both naming the member in
 * `details.field`. No error quotes the body, which may contain a secret.
 */
export function parseJsonBody(bytes: Uint8Array): unknown {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new HttpError('INVALID_JSON', 400, 'the request body is not valid UTF-8', { details: { reason: 'invalid_utf8' } });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // The parser's own message quotes part of the body, so it is not passed on.
    throw new HttpError('INVALID_JSON', 400, 'the request body is not valid JSON', { details: { reason: 'syntax' } });
  }
  checkMemberNames(text);
  return value;
}

/**
 * Walks text that JSON.parse has accepted and throws on the first repeated or
 * reserved member name. The walk keeps its own stack instead of recursing, so
 * deep nesting cannot overflow the call stack.
 */
function checkMemberNames(text: string): void {
  // One entry per open object (its names so far) or array (null).
  const open: Array<Set<string> | null> = [];
  let expectName = false;
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    if (char === '"') {
      const end = closingQuote(text, index);
      const names = open[open.length - 1];
      if (expectName && names) {
        checkName(JSON.parse(text.slice(index, end + 1)) as string, names);
        expectName = false;
      }
      index = end;
    } else if (char === '{') {
      open.push(new Set());
      expectName = true;
    } else if (char === '[') {
      open.push(null);
      expectName = false;
    } else if (char === '}' || char === ']') {
      open.pop();
      expectName = false;
    } else if (char === ',') {
      expectName = open[open.length - 1] instanceof Set;
    }
  }
}

function checkName(name: string, names: Set<string>): void {
  const field = quoteValue(name);
  if (RESERVED_MEMBER_NAMES.has(name)) {
    throw new ValidationError('UNKNOWN_FIELD', `the member name "${field}" is not allowed in a request body`, {
      details: { field, reason: 'reserved_name' },
    });
  }
  if (names.has(name)) {
    throw new ValidationError('DUPLICATE_FIELD', `the member "${field}" occurs more than once in one JSON object, but may be sent only once`, {
      details: { field },
    });
  }
  names.add(name);
}

/** Returns the index of the quote that ends the string starting at `start`, skipping escapes. */
function closingQuote(text: string, start: number): number {
  let index = start + 1;
  while (index < text.length && text[index] !== '"') {
    index += text[index] === '\\' ? 2 : 1;
  }
  return index;
}
