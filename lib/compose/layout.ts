/**
 * Positions of block sequence items in the text, and the indentation that new entries
 * copy from their neighbours.
 */
import { isSeq, visit, type CST, type Document, type Node, type Pair, type YAMLMap, type YAMLSeq } from 'yaml';
import { internalComposeError } from './problems.js';
import { columnOf, lineEndAfter, lineStart, startsLine } from './text.js';

/** The lines of one sequence item: from the start of its `-` line to past its last line break. */
export interface ItemSpan {
  start: number;
  end: number;
  /** Column of the `-` indicator. */
  dashColumn: number;
  /** Column where the item's content starts, for example 8 for `      - /a:/b`. */
  contentColumn: number;
}

/** Indentation for writing new long-syntax entries. */
export interface ItemLayout {
  dashColumn: number;
  contentColumn: number;
  /** Extra indentation of a nested mapping, such as `create_host_path` under `bind`. */
  unit: number;
}

/** Returns true when the sequence is written in block style (`- item` lines). */
export function isBlockSequence(seq: YAMLSeq): boolean {
  return seq.srcToken?.type === 'block-seq';
}

/** Returns the span of every item of a block sequence, in order. */
export function blockItemSpans(text: string, seq: YAMLSeq): ItemSpan[] {
  const indicators = itemIndicators(seq);
  const spans: ItemSpan[] = [];
  let next = 0;

  for (const item of seq.items as Node[]) {
    const itemStart = item.range?.[0];
    const itemEnd = item.range?.[1];
    if (itemStart === undefined || itemEnd === undefined) throw internalComposeError('a sequence item has no source range');

    // The item's own `-` is the last indicator at or before its first character.
    while (next + 1 < indicators.length && (indicators[next + 1]?.dash ?? Infinity) <= itemStart) next += 1;
    const indicator = indicators[next];
    if (indicator === undefined || indicator.dash > itemStart || !startsLine(text, indicator.dash)) {
      throw internalComposeError(`no "-" line found for the sequence item at offset ${itemStart}`);
    }

    const dashColumn = columnOf(text, indicator.dash);
    const content = indicator.content;
    const sameLine = content !== undefined && lineStart(text, content) === lineStart(text, indicator.dash);
    spans.push({
      start: lineStart(text, indicator.dash),
      end: lineEndAfter(text, itemEnd),
      dashColumn,
      contentColumn: sameLine ? columnOf(text, content) : dashColumn + 2,
    });
    next += 1;
  }
  return spans;
}

/** Returns true when every `-` of a block sequence starts its line, the form that line edits need. */
export function itemsStartLines(text: string, seq: YAMLSeq): boolean {
  return itemIndicators(seq).every((indicator) => startsLine(text, indicator.dash));
}

/** Collects each `-` of a block sequence with the offset of the first token after it. */
function itemIndicators(seq: YAMLSeq): { dash: number; content: number | undefined }[] {
  const token = seq.srcToken;
  if (token?.type !== 'block-seq') throw internalComposeError('the volumes sequence has no block-sequence token');

  const indicators: { dash: number; content: number | undefined }[] = [];
  for (const item of (token as CST.BlockSequence).items) {
    const dashIndex = item.start.findIndex((source) => source.type === 'seq-item-ind');
    const dash = item.start[dashIndex];
    if (dash === undefined) continue;
    const props = item.start.slice(dashIndex + 1).find((source) => source.type === 'anchor' || source.type === 'tag');
    indicators.push({ dash: dash.offset, content: props?.offset ?? item.value?.offset });
  }
  return indicators;
}

/**
 * Returns the indentation step of the file: the column of the service's keys minus
 * the column of the service name, or 2 when that is not positive.
 */
export function indentUnit(text: string, servicePair: Pair, serviceMap: YAMLMap): number {
  const nameOffset = (servicePair.key as Node | null)?.range?.[0];
  const firstKeyOffset = (serviceMap.items[0]?.key as Node | null | undefined)?.range?.[0];
  if (nameOffset === undefined || firstKeyOffset === undefined) return 2;
  const step = columnOf(text, firstKeyOffset) - columnOf(text, nameOffset);
  return step > 0 ? step : 2;
}

/**
 * Returns how many columns the `-` of a block sequence sits right of its key, 0 when
 * `key:` and `- item` share a column. The first such sequence in the service decides,
 * else the first in the document. Returns `fallback` when there is none.
 */
export function sequenceIndent(text: string, doc: Document.Parsed, serviceMap: YAMLMap, fallback: number): number {
  for (const scope of [serviceMap, doc]) {
    let found: number | undefined;
    visit(scope, {
      Pair(_, pair) {
        const keyOffset = (pair.key as Node | null)?.range?.[0];
        if (!isSeq(pair.value) || !isBlockSequence(pair.value) || keyOffset === undefined) return undefined;
        const dash = itemIndicators(pair.value)[0]?.dash;
        if (dash === undefined || !startsLine(text, keyOffset)) return undefined;
        found = columnOf(text, dash) - columnOf(text, keyOffset);
        return visit.BREAK;
      },
    });
    if (found !== undefined && found >= 0) return found;
  }
  return fallback;
}
