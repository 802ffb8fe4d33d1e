/**
 * Text helpers that never hand a whole document to `Intl.Segmenter`: on Node 20's ICU, segmenting one
 * long string is quadratic (80,000 characters of graphemes took 0.85 s, 10.7 s with one non-Latin-1
 * character), so every call here looks at a bounded window.
 */

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
const sentences = new Intl.Segmenter(undefined, { granularity: 'sentence' });

/** How far back a grapheme look-up starts; clusters longer than this are cut at a code point. */
const GRAPHEME_WINDOW = 64;
/** Size of the windows used to find sentence boundaries. */
const SENTENCE_WINDOW = 4096;
/** Trailing part of a sentence window whose boundaries are found again by the next window. */
const SENTENCE_MARGIN = 256;

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

/**
 * The greatest grapheme-cluster boundary `<= pos` (UTF-16 index), looking at most
 * {@link GRAPHEME_WINDOW} code units back. Never inside a surrogate pair; 0 and `text.length` are
 * boundaries.
 */
export function graphemeFloor(text: string, pos: number): number {
  if (pos <= 0) return 0;
  if (pos >= text.length) return text.length;
  // Fast path: between two ASCII characters that are not CR LF, always a boundary.
  const before = text.charCodeAt(pos - 1);
  const after = text.charCodeAt(pos);
  if (before < 0x80 && after < 0x80 && after >= 0x20 && !(before === 13 && after === 10)) return pos;
  let from = Math.max(0, pos - GRAPHEME_WINDOW);
  if (from > 0 && isLowSurrogate(text.charCodeAt(from))) from--;
  const to = Math.min(text.length, pos + GRAPHEME_WINDOW);
  let best = from;
  for (const seg of graphemes.segment(text.slice(from, to))) {
    const b = from + seg.index;
    if (b > pos) break;
    best = b;
  }
  if (best === from && from > 0) {
    // A cluster longer than the window: fall back to the nearest code point boundary.
    return isLowSurrogate(after) && isHighSurrogate(before) ? pos - 1 : pos;
  }
  return best;
}

/** True when `pos` is a grapheme-cluster boundary of `text`. */
export function isGraphemeBoundary(text: string, pos: number): boolean {
  return graphemeFloor(text, pos) === pos;
}

/**
 * Sentence boundaries strictly inside (from, to), found with `Intl.Segmenter` on windows of at most
 * {@link SENTENCE_WINDOW} code units. Sentence rules look a little ahead, so boundaries in a window's
 * last {@link SENTENCE_MARGIN} code units are not trusted; the next window starts at the last trusted
 * boundary (or at the margin when the window had none).
 */
export function sentenceBoundaries(text: string, from: number, to: number): number[] {
  const out: number[] = [];
  let start = from;
  for (;;) {
    const end = Math.min(to, start + SENTENCE_WINDOW);
    const trusted = end >= to ? to : end - SENTENCE_MARGIN;
    let last = -1;
    for (const seg of sentences.segment(text.slice(start, end))) {
      const b = start + seg.index;
      if (b <= start) continue;
      if (b >= trusted) break;
      out.push(b);
      last = b;
    }
    if (end >= to) return out;
    start = last > start ? last : trusted;
  }
}

/** Converts UTF-16 positions into code point and UTF-8 byte positions, walking from the last one. */
export class PositionCursor {
  private i16 = 0;
  private cp = 0;
  private bytes = 0;
  constructor(private readonly text: string) {}

  /**
   * Moves to UTF-16 position `pos`, forward or back. Walking costs the distance moved, so one cursor
   * serves a chunk's start and end in turn: going back is only the overlap with the previous chunk.
   */
  seek(pos: number): { codePoints: number; bytes: number } {
    const t = this.text;
    let i = this.i16;
    let cp = this.cp;
    let bytes = this.bytes;
    while (i > pos) {
      const c = t.charCodeAt(i - 1);
      if (isLowSurrogate(c) && i >= 2 && isHighSurrogate(t.charCodeAt(i - 2))) {
        bytes -= 4;
        i -= 2;
      } else {
        bytes -= c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
        i--;
      }
      cp--;
    }
    while (i < pos) {
      const c = t.charCodeAt(i);
      if (c < 0x80) bytes += 1;
      else if (c < 0x800) bytes += 2;
      else if (isHighSurrogate(c) && i + 1 < t.length && isLowSurrogate(t.charCodeAt(i + 1))) {
        bytes += 4;
        i++;
      } else bytes += 3;
      i++;
      cp++;
    }
    this.i16 = i;
    this.cp = cp;
    this.bytes = bytes;
    return { codePoints: cp, bytes };
  }
}

/** True when every code unit of text[from, to) is whitespace. */
export function isBlank(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (!(c === 32 || (c >= 9 && c <= 13) || (c > 127 && /\s/.test(text[i] ?? '')))) return false;
  }
  return true;
}
