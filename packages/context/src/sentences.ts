/**
 * Sentence boundaries near a position, found with `Intl.Segmenter` on a bounded window only: on Node
 * 20's ICU, segmenting one long string is quadratic (see packages/chunking's text.ts), so no call here
 * ever hands it more than {@link WINDOW16} + 2 × {@link MARGIN16} code units.
 *
 * All positions are UTF-16 code unit indexes (`…16`).
 */

const sentences = new Intl.Segmenter(undefined, { granularity: 'sentence' });

/** Code units on each side of a position that are searched for a boundary. */
const WINDOW16 = 2048;
/**
 * Context given to the segmenter beyond the searched range on each side, so that its rules (which look
 * a little back and ahead) see real text; boundaries in the margins are not used.
 */
const MARGIN16 = 256;

/** Sentence terminators (Latin, CJK full-width, Devanagari danda, Arabic question mark, ellipsis). */
const TERMINAL = /[.!?\u3002\uff01\uff1f\u0964\u061f\u2026]/u;
/** Closing punctuation that may follow a terminator: quotes, brackets. */
const CLOSING = /[\])}"'\u2019\u201d\u00bb\u300d\u300f\uff09]/u;

function isSpace(c: string): boolean {
  return /\s/u.test(c);
}

/**
 * True when the text before `pos` ends a sentence with punctuation (after optional closing quotes and
 * whitespace) or with a blank line. `Intl.Segmenter` also breaks after every line feed, which in
 * hard-wrapped prose is mid-sentence; those boundaries are weak.
 */
function isStrong(text: string, pos: number): boolean {
  if (pos <= 0 || pos >= text.length) return true;
  let i = pos;
  let newlines = 0;
  while (i > 0 && isSpace(text[i - 1] ?? '')) {
    if (text[i - 1] === '\n') newlines++;
    i--;
  }
  if (newlines >= 2) return true;
  while (i > 0 && CLOSING.test(text[i - 1] ?? '')) i--;
  return i > 0 && TERMINAL.test(text[i - 1] ?? '');
}

/**
 * Sentence boundaries in [from, to] (UTF-16), with 0 and `text.length` counted as boundaries when in
 * range. Requires `to - from <= 2 × WINDOW16`.
 */
function boundariesIn(text: string, from: number, to: number): number[] {
  const a = Math.max(0, from - MARGIN16);
  const b = Math.min(text.length, to + MARGIN16);
  const out: number[] = [];
  if (from <= 0) out.push(0);
  for (const seg of sentences.segment(text.slice(a, b))) {
    const p = a + seg.index;
    if (p > 0 && p >= from && p <= to && p < text.length) out.push(p);
  }
  if (to >= text.length) out.push(text.length);
  return out;
}

/**
 * The best sentence boundary for `pos16` within {@link WINDOW16} code units: the nearest strong one
 * (after `.`, `!`, `?` or a blank line) in `direction`, else the nearest boundary of any kind, else the
 * nearest whitespace, else `pos16` itself moved off a surrogate pair. `direction` `floor` looks only at
 * positions `<= pos16`; `nearest` looks both ways (ties go to the earlier one).
 */
export function sentenceBoundaryNear(text: string, pos16: number, direction: 'floor' | 'nearest'): number {
  const pos = Math.max(0, Math.min(text.length, pos16));
  const from = Math.max(0, pos - WINDOW16);
  const to = direction === 'floor' ? pos : Math.min(text.length, pos + WINDOW16);
  const all = boundariesIn(text, from, to);
  const pick = (xs: number[]): number | null => {
    let best: number | null = null;
    for (const x of xs) if (best === null || Math.abs(x - pos) < Math.abs(best - pos)) best = x;
    return best;
  };
  const strong = pick(all.filter((p) => isStrong(text, p)));
  if (strong !== null) return strong;
  const any = pick(all);
  if (any !== null) return any;
  // One sentence longer than the window: cut after whitespace, or at a code point boundary.
  for (let i = pos; i > from; i--) if (isSpace(text[i - 1] ?? '')) return i;
  const c = text.charCodeAt(pos);
  return c >= 0xdc00 && c <= 0xdfff && pos > 0 ? pos - 1 : pos;
}
