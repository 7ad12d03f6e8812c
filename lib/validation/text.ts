/**
 * Character checks shared by the validators, and a safe way to quote a
 * rejected value back in error details.
 */

/** C0 controls (NUL, tab, newline and the rest), DEL and C1 controls. */
export const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Invisible or direction-changing characters: the line and paragraph
 * separators, the bidirectional embedding, override and isolate controls,
 * zero-width space, word joiner and the byte order mark. A value holding one
 * displays as a different value in logs, listings and the compose file. The
 * zero-width joiner and non-joiner stay allowed, because emoji sequences and
 * Persian names need them.
 */
export const DISPLAY_SPOOFING = /[\u200b\u2028\u2029\u202a-\u202e\u2060\u2066-\u2069\ufeff]/;

/**
 * A lone UTF-16 surrogate. Such a string has no UTF-8 encoding, so writing it
 * to a file or passing it to the Engine would silently change it to U+FFFD.
 */
export const LONE_SURROGATE = /\p{Cs}/u;

/** Longest quoted value kept in error details; longer values are cut with "…". */
const MAX_QUOTED_LENGTH = 200;

/**
 * Returns `value` as it may appear in error details and logs. Control,
 * format and line-separator characters become `\uXXXX` (or `\u{XXXXX}`)
 * escapes, so a rejected value cannot inject lines or terminal sequences.
 * Values longer than 200 characters are cut.
 */
export function quoteValue(value: string): string {
  const cut = value.length > MAX_QUOTED_LENGTH ? `${value.slice(0, MAX_QUOTED_LENGTH)}…` : value;
  return cut.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu, (char) => {
    const code = char.codePointAt(0) ?? 0;
    const hex = code.toString(16).padStart(4, '0');
    return code > 0xffff ? `\\u{${hex}}` : `\\u${hex}`;
  });
}

/** Names the JSON type of a rejected value for error details: `null`, `array`, `number`, … */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}
