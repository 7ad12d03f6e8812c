/**
 * Parser for the short volume syntax of a compose service, `SOURCE:TARGET[:MODE]`, by
 * the Compose v2 rules. A one-letter section followed by `:\` or `:/` is a Windows
 * drive, so that colon is no separator. A colon inside `${...}` belongs to the
 * interpolation (`${SRC:-/home/dev}`), because Compose interpolates before it splits.
 */

/** A short-syntax volume entry split into its parts. */
export interface ShortVolume {
  /** Host path or volume name as written, `undefined` for an anonymous volume (`/data`). */
  source: string | undefined;
  /** `bind` when the source is a path (or starts with `$`), `volume` for a named or anonymous volume. */
  type: 'bind' | 'volume';
  /** Path inside the container, as written. */
  target: string;
  /** Comma-separated options of the mode section in order, for example `['ro', 'z']`. */
  options: string[];
  /** True when the last of `ro` and `rw` in the options is `ro`. */
  read_only: boolean;
}

/** Outcome of `parseShortVolume`: the parts, or why the text is not a valid entry. */
export type ShortVolumeParse = { ok: true; volume: ShortVolume } | { ok: false; reason: string };

const DRIVE_PATH = /^[A-Za-z]:[\\/]/;

/** Returns true for `C:\x` and `C:/x`, the Windows forms of an absolute path. */
export function isWindowsDrivePath(text: string): boolean {
  return DRIVE_PATH.test(text);
}

/**
 * Parses a short-syntax volume entry. The target must be absolute, either POSIX or a
 * Windows drive path. Never throws: an invalid entry yields `{ ok: false, reason }`.
 */
export function parseShortVolume(text: string): ShortVolumeParse {
  if (text.length === 0) return { ok: false, reason: 'empty volume entry' };

  const split = splitSections(text);
  if (typeof split === 'string') return { ok: false, reason: split };
  if (split.some((section) => section.length === 0)) {
    return { ok: false, reason: 'empty section between colons' };
  }
  if (split.length > 3) return { ok: false, reason: 'too many colons' };

  const [first = '', second, mode] = split;
  const source = second === undefined ? undefined : first;
  const target = second ?? first;
  if (!target.startsWith('/') && !isWindowsDrivePath(target)) {
    return { ok: false, reason: `target "${target}" is not an absolute path` };
  }

  const options = mode === undefined ? [] : mode.split(',');
  if (options.some((option) => option.length === 0)) {
    return { ok: false, reason: `empty option in mode "${mode ?? ''}"` };
  }
  let readOnly = false;
  for (const option of options) {
    if (option === 'ro') readOnly = true;
    if (option === 'rw') readOnly = false;
  }

  const type = source !== undefined && isPathSource(source) ? 'bind' : 'volume';
  return { ok: true, volume: { source, type, target, options, read_only: readOnly } };
}

/** Compose treats a source as a host path when it does not look like a volume name. */
function isPathSource(source: string): boolean {
  return /^[/.~$\\]/.test(source) || isWindowsDrivePath(source);
}

/**
 * Splits at the colons that separate sections. Returns the sections, or a reason
 * when a `${` interpolation is never closed.
 */
function splitSections(text: string): string[] | string {
  const sections: string[] = [];
  let current = '';
  let i = 0;

  while (i < text.length) {
    const char = text[i] ?? '';
    const next = text[i + 1] ?? '';

    if (char === '$' && next === '$') {
      // `$$` is Compose's escape for a literal dollar sign.
      current += '$$';
      i += 2;
    } else if (char === '$' && next === '{') {
      const end = findInterpolationEnd(text, i + 2);
      if (end === -1) return 'unclosed "${" interpolation';
      current += text.slice(i, end + 1);
      i = end + 1;
    } else if (char === ':' && /^[A-Za-z]$/.test(current) && (next === '\\' || next === '/')) {
      current += char;
      i += 1;
    } else if (char === ':') {
      sections.push(current);
      current = '';
      i += 1;
    } else {
      current += char;
      i += 1;
    }
  }

  sections.push(current);
  return sections;
}

/** Returns the index of the `}` that closes an interpolation opened before `from`, or -1. */
function findInterpolationEnd(text: string, from: number): number {
  let depth = 1;
  for (let i = from; i < text.length; i += 1) {
    if (text[i] === '$' && text[i + 1] === '{') {
      depth += 1;
      i += 1;
    } else if (text[i] === '}') {
      depth -= 1;
      if (depth === 0) return i;
    }
  }
  return -1;
}
