/**
 * Line framing for newline-delimited JSON streams such as GET /events. Socket
 * chunks split the text anywhere, even inside a multi-byte UTF-8 character, so
 * bytes go through one streaming TextDecoder and a line is released only once
 * its `\n` has arrived.
 */
import { ConfigError, MountCoreError } from '../errors.js';

/** Default cap on one line, in UTF-16 code units; a Docker event is usually under a few kilobytes. */
export const DEFAULT_MAX_LINE_LENGTH = 1024 * 1024;

export interface NdjsonDecoderOptions {
  /** Maximum line length in UTF-16 code units; a longer line throws ENGINE_ERROR. Default 1048576. */
  maxLineLength?: number;
}

/**
 * Splits a byte stream into complete lines. Empty lines are skipped and a
 * trailing `\r` is removed. Text after the last `\n` waits for more input.
 */
export class NdjsonDecoder {
  readonly #decoder = new TextDecoder('utf-8');
  readonly #maxLineLength: number;
  #pending = '';

  constructor(options: NdjsonDecoderOptions = {}) {
    const max = options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH;
    if (!Number.isSafeInteger(max) || max <= 0) {
      throw new ConfigError(`invalid maxLineLength ${JSON.stringify(max)}: expected a positive integer`, {
        details: { option: 'maxLineLength', value: max, reason: 'expected a positive integer' },
      });
    }
    this.#maxLineLength = max;
  }

  /** Adds one chunk and returns the lines it completed, in order. */
  push(chunk: Uint8Array | string): string[] {
    const text = typeof chunk === 'string' ? chunk : this.#decoder.decode(chunk, { stream: true });
    if (text.length === 0) return [];

    const lines: string[] = [];
    let start = 0;
    let newline = text.indexOf('\n');
    while (newline !== -1) {
      const line = this.#pending + text.slice(start, newline);
      this.#pending = '';
      this.#checkLength(line.length);
      const trimmed = line.endsWith('\r') ? line.slice(0, -1) : line;
      if (trimmed.length > 0) lines.push(trimmed);
      start = newline + 1;
      newline = text.indexOf('\n', start);
    }
    this.#pending += text.slice(start);
    this.#checkLength(this.#pending.length);
    return lines;
  }

  /**
   * Ends the stream and returns the unterminated text that was dropped, or ''
   * when the stream ended on a line break. The dropped text is never a line.
   */
  end(): string {
    const dropped = this.#pending + this.#decoder.decode();
    this.#pending = '';
    return dropped;
  }

  #checkLength(length: number): void {
    if (length > this.#maxLineLength) {
      throw new MountCoreError('ENGINE_ERROR', 502, `Docker Engine stream line exceeds ${this.#maxLineLength} characters without a line break`, {
        details: { daemon_message: 'line too long', limit: this.#maxLineLength },
      });
    }
  }
}

/**
 * Yields each complete line of `source`. Partial data after the last line
 * break is dropped when the source ends.
 */
export async function* splitLines(source: AsyncIterable<Uint8Array | string>, options: NdjsonDecoderOptions = {}): AsyncGenerator<string> {
  const decoder = new NdjsonDecoder(options);
  for await (const chunk of source) {
    yield* decoder.push(chunk);
  }
  decoder.end();
}
