/** Offsets, lines and splicing over the original compose text. Offsets are string indexes. */
import { internalComposeError } from './problems.js';

/** A replacement of `text.slice(start, end)`. An insertion has `start === end`. */
export interface TextEdit {
  start: number;
  end: number;
  text: string;
}

/** Returns `\r\n` when the first line break of `text` is CRLF, else `\n`. */
export function detectEol(text: string): '\n' | '\r\n' {
  const first = text.indexOf('\n');
  return first > 0 && text[first - 1] === '\r' ? '\r\n' : '\n';
}

/** Returns the offset where the line containing `offset` starts. */
export function lineStart(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

/**
 * Returns the offset just past the line break of the line that ends the range ending
 * at `offset`. A range that already ends with a line break ends that line itself.
 */
export function lineEndAfter(text: string, offset: number): number {
  if (offset > 0 && text[offset - 1] === '\n') return offset;
  const newline = text.indexOf('\n', offset);
  return newline === -1 ? text.length : newline + 1;
}

/** Returns the column of `offset` within its line, counted in UTF-16 code units. */
export function columnOf(text: string, offset: number): number {
  return offset - lineStart(text, offset);
}

/** Returns true when nothing but spaces precedes `offset` on its line. */
export function startsLine(text: string, offset: number): boolean {
  return /^ *$/.test(text.slice(lineStart(text, offset), offset));
}

/** Joins lines, each followed by `eol`. */
export function joinLines(lines: string[], eol: string): string {
  return lines.map((line) => line + eol).join('');
}

/** Applies non-overlapping edits to `text`. An overlap is a fault of the transform. */
export function applyEdits(text: string, edits: TextEdit[]): string {
  const sorted = [...edits].sort((a, b) => a.start - b.start || a.end - b.end);
  const parts: string[] = [];
  let position = 0;

  for (const edit of sorted) {
    if (edit.start < position) {
      throw internalComposeError(`two edits overlap at offset ${edit.start}`);
    }
    parts.push(text.slice(position, edit.start), edit.text);
    position = edit.end;
  }

  parts.push(text.slice(position));
  return parts.join('');
}
