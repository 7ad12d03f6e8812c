/** The path of a request target, found without URL parsing where that gives the same result. */

/** A path of only the characters that URL parsing keeps as they are, so it needs no parsing. */
const PLAIN_PATH = /^\/(?!\/)[\w\-.~!$&'()*+,;=:@%/]*$/;
/** A `.` or `..` segment, also percent-encoded, which URL parsing resolves. */
const DOT_SEGMENT = /\/(?:\.|%2e){1,2}(?=\/|$)/i;

/**
 * Returns the path of a request target, with the same result as
 * `new URL(target, base).pathname`. A plain path is only cut at its query
 * or fragment, which costs about a fifth of URL parsing on Node 20 (a loop
 * of 2 million calls).
 * Anything else, such as a dot segment, a backslash, a leading `//` or an
 * absolute URL, goes through URL parsing.
 */
export function pathnameOf(target: string): string {
  const end = target.search(/[?#]/);
  const path = end === -1 ? target : target.slice(0, end);
  if (PLAIN_PATH.test(path) && !DOT_SEGMENT.test(path)) return path;
  return new URL(target, 'http://proxy.invalid').pathname;
}
