/**
 * Turns a sync plan into splices of the original text. Every edit covers whole lines
 * of managed entries, the `volumes:` key line, or an empty `[]`. Nothing else moves.
 */
import type { Document, Node } from 'yaml';
import type { ComposeProblem } from '../errors.js';
import type { MountSpec } from '../types.js';
import { referencedAnchors, type ServiceLocation } from './document.js';
import { blockItemSpans, indentUnit, isBlockSequence, itemsStartLines, sequenceIndent, type ItemLayout } from './layout.js';
import type { SyncPlan } from './plan.js';
import { internalComposeError, invalidCompose } from './problems.js';
import { renderLongEntry } from './render.js';
import { columnOf, joinLines, lineEndAfter, lineStart, startsLine, type TextEdit } from './text.js';

export interface EditContext {
  /** The compose text, ending with a line break. */
  text: string;
  eol: string;
  doc: Document.Parsed;
  location: ServiceLocation;
  /** Names a mount in error details, for example `mounts[2]`. */
  fieldOf: (spec: MountSpec) => string;
}

/**
 * Returns the edits that carry out `plan`. Throws ComposeError COMPOSE_INVALID when
 * the volumes cannot be changed without touching text the user wrote: volumes reached
 * through an alias or merge key, a non-empty flow sequence, a flow-style service, or
 * a changed node whose anchor other nodes refer to.
 */
export function buildEdits(context: EditContext, plan: SyncPlan): TextEdit[] {
  checkEditable(context, plan);
  const { location } = context;
  const seq = location.volumesSeq;
  if (seq !== undefined && isBlockSequence(seq)) return editBlockSequence(context, plan);
  if (seq !== undefined) return fillEmptyFlowSequence(context, plan);
  return addVolumesKey(context, plan);
}

function checkEditable(context: EditContext, plan: SyncPlan): void {
  const { location } = context;
  const problems: ComposeProblem[] = [];
  if (location.readOnlyProblem !== undefined) problems.push(location.readOnlyProblem);

  const seq = location.volumesSeq;
  if (seq !== undefined && !isBlockSequence(seq) && (seq.items.length > 0 || !isEmptyFlowOnKeyLine(context))) {
    problems.push({ path: location.volumesPath, message: 'volumes is a flow sequence ([...]). Write it as a block list of "- entry" lines to let the monitor edit it' });
  }
  if (seq !== undefined && isBlockSequence(seq) && !itemsStartLines(context.text, seq)) {
    problems.push({ path: location.volumesPath, message: 'an entry shares its line with other syntax, such as ": - entry" after "? volumes". Write each "- entry" on its own line' });
  }
  if (seq === undefined && location.serviceMap.srcToken?.type !== 'block-map') {
    problems.push({ path: location.volumesPath.slice(0, -1), message: 'the service is a flow mapping ({...}). Write it in block style to let the monitor add volumes' });
  }

  const referenced = referencedAnchors(context.doc);
  const watched: { node: Node | undefined; path: (string | number)[] }[] = [
    { node: location.serviceMap, path: location.volumesPath.slice(0, -1) },
    { node: seq, path: location.volumesPath },
  ];
  for (const entry of [...plan.replace.map((change) => change.entry), ...plan.remove]) {
    watched.push({ node: seq?.items[entry.index] as Node | undefined, path: [...location.volumesPath, entry.index] });
  }
  for (const { node, path } of watched) {
    const anchor = node?.anchor;
    if (anchor !== undefined && referenced.has(anchor)) {
      problems.push({ path, message: `other nodes use this node through anchor &${anchor}, so editing it would change them too` });
    }
  }

  if (problems.length > 0) throw invalidCompose(`the volumes of service "${String(location.volumesPath[1])}" cannot be edited safely`, problems);
}

function editBlockSequence(context: EditContext, plan: SyncPlan): TextEdit[] {
  const { text, eol, location, fieldOf } = context;
  const seq = location.volumesSeq;
  if (seq === undefined) throw internalComposeError('no volumes sequence');
  const spans = blockItemSpans(text, seq);
  const last = spans.at(-1);
  const first = spans[0];
  if (first === undefined || last === undefined) throw internalComposeError('a block sequence without items');

  // New entries copy the content column of the first mapping entry, else of the first entry.
  const mapIndex = seq.items.findIndex((item) => (item as Node).srcToken?.type === 'block-map');
  const layout: ItemLayout = {
    dashColumn: first.dashColumn,
    contentColumn: (spans[mapIndex] ?? first).contentColumn,
    unit: indentUnit(text, location.servicePair, location.serviceMap),
  };

  const edits: TextEdit[] = [];
  for (const { entry, spec } of plan.replace) {
    const span = spans[entry.index];
    if (span === undefined) throw internalComposeError(`no span for entry ${entry.index}`);
    edits.push({ start: span.start, end: span.end, text: joinLines(renderLongEntry(spec, layout, fieldOf(spec)), eol) });
  }
  for (const entry of plan.remove) {
    const span = spans[entry.index];
    if (span === undefined) throw internalComposeError(`no span for entry ${entry.index}`);
    edits.push({ start: span.start, end: span.end, text: '' });
  }
  if (plan.add.length > 0) {
    edits.push({ start: last.end, end: last.end, text: renderEntries(context, plan.add, layout) });
  }

  if (seq.items.length - plan.remove.length + plan.add.length === 0) edits.push(emptyVolumesEdit(context));
  return edits;
}

/**
 * Edits the `volumes:` key line of a sequence that lost its last entry. A bare key
 * line is removed, so that adding a first entry and removing it again restores the
 * file. A key line with a comment, tag or anchor keeps them and gets `[]`, because
 * Compose rejects `volumes:` with no value.
 */
function emptyVolumesEdit(context: EditContext): TextEdit {
  const { text, location } = context;
  const keyRange = (location.volumesPair?.key as Node | undefined)?.range;
  if (keyRange === undefined || keyRange === null) throw internalComposeError('the volumes key has no source range');
  const [keyStart, keyEnd] = keyRange;

  const colon = text.indexOf(':', keyEnd);
  const lineEnd = lineEndAfter(text, colon + 1);
  const rest = text.slice(colon + 1, lineEnd).replace(/\r?\n$/, '');
  const comment = rest.search(/(^|\s)#/);
  const beforeComment = comment === -1 ? rest : rest.slice(0, comment);

  const bare = comment === -1 && beforeComment.trim() === '';
  if (bare && location.serviceMap.items.length > 1 && startsLine(text, keyStart)) {
    return { start: lineStart(text, keyStart), end: lineEnd, text: '' };
  }
  const position = colon + 1 + beforeComment.trimEnd().length;
  return { start: position, end: position, text: ' []' };
}

/** Replaces `volumes: []` with `volumes:` and the new entries below it. */
function fillEmptyFlowSequence(context: EditContext, plan: SyncPlan): TextEdit[] {
  const { text, location } = context;
  const range = location.volumesSeq?.range;
  const keyStart = (location.volumesPair?.key as Node | undefined)?.range?.[0];
  if (range === undefined || range === null || keyStart === undefined) throw internalComposeError('the volumes sequence has no source range');

  let start = range[0];
  while (start > 0 && text[start - 1] === ' ') start -= 1;
  const lineEnd = lineEndAfter(text, range[1]);
  const layout = newListLayout(context, columnOf(text, keyStart));
  return [
    { start, end: range[1], text: '' },
    { start: lineEnd, end: lineEnd, text: renderEntries(context, plan.add, layout) },
  ];
}

function isEmptyFlowOnKeyLine(context: EditContext): boolean {
  const { text, location } = context;
  const range = location.volumesSeq?.range;
  const keyStart = (location.volumesPair?.key as Node | undefined)?.range?.[0];
  if (range === undefined || range === null || keyStart === undefined) return false;
  return /^\[ *\]$/.test(text.slice(range[0], range[1])) && lineStart(text, range[0]) === lineStart(text, keyStart);
}

/** Writes a new `volumes:` key after the service's last key, at the column of its keys. */
function addVolumesKey(context: EditContext, plan: SyncPlan): TextEdit[] {
  const { text, eol, location } = context;
  const pairs = location.serviceMap.items;
  const firstKey = (pairs[0]?.key as Node | undefined)?.range?.[0];
  const lastPair = pairs.at(-1);
  const ends = [(lastPair?.key as Node | undefined)?.range?.[1], (lastPair?.value as Node | undefined)?.range?.[1]];
  const end = Math.max(...ends.filter((offset): offset is number => offset !== undefined));
  if (firstKey === undefined || !Number.isFinite(end)) throw internalComposeError('the service mapping has no source range');

  const keyColumn = columnOf(text, firstKey);
  const at = lineEndAfter(text, end);
  const keyLine = `${' '.repeat(keyColumn)}volumes:${eol}`;
  return [{ start: at, end: at, text: keyLine + renderEntries(context, plan.add, newListLayout(context, keyColumn)) }];
}

/** Layout for the first entries of a list whose key sits at `keyColumn`. */
function newListLayout(context: EditContext, keyColumn: number): ItemLayout {
  const { text, doc, location } = context;
  const unit = indentUnit(text, location.servicePair, location.serviceMap);
  const dashColumn = keyColumn + sequenceIndent(text, doc, location.serviceMap, unit);
  return { dashColumn, contentColumn: dashColumn + 2, unit };
}

function renderEntries(context: EditContext, specs: MountSpec[], layout: ItemLayout): string {
  return specs.map((spec) => joinLines(renderLongEntry(spec, layout, context.fieldOf(spec)), context.eol)).join('');
}
