/**
 * The state shared by both strategies for one document: its text, its token spans (tokenized once),
 * the budget, and the spans chosen so far. All positions are UTF-16 indexes.
 *
 * Cuts are only ever made where no token straddles them (so every document token lands in exactly
 * one chunk, G4) and on grapheme boundaries (G6). Sizes are estimated from the document's tokens;
 * every chunk is then re-counted alone with the tokenizer, and shrunk if that count is over the budget
 * (G2), because a text tokenized alone may not split like it did inside the document.
 */
import { graphemeFloor } from './text.js';

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
/** How far the grapheme fallback looks ahead, in UTF-16 code units. */
const GRAPHEME_FALLBACK_WINDOW = 2048;
import type { Encoding, Tokenizer } from './types.js';

/** A chosen chunk: UTF-16 span, overlap with the previous chunk in tokens, exact own token count. */
export interface Span {
  readonly start: number;
  readonly end: number;
  readonly overlapTokens: number;
  readonly numTokens: number;
}

/** First index in the sorted array `a` whose value is `>= x` (or `> x` when `strict`). */
function lowerBound(a: Int32Array, x: number, strict: boolean): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const v = a[mid] ?? 0;
    if (strict ? v <= x : v < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Per-document chunking state. */
export class DocEngine {
  readonly spans: Span[] = [];
  overCapGraphemes = 0;
  readonly n: number;

  constructor(
    readonly text: string,
    readonly enc: Encoding,
    private readonly tokenizer: Tokenizer,
    readonly budget: number,
    readonly overlap: number,
  ) {
    this.n = enc.ids.length;
  }

  /** Index of the first token that starts at or after `pos`. */
  firstTokenAtOrAfter(pos: number): number {
    return lowerBound(this.enc.start16, pos, false);
  }

  /** Number of document tokens whose spans lie inside [a, b). */
  tokensIn(a: number, b: number): number {
    if (b <= a) return 0;
    const i0 = lowerBound(this.enc.start16, a, false);
    const i1 = lowerBound(this.enc.end16, b, true); // tokens [0, i1) end at or before b
    return Math.max(0, i1 - i0);
  }

  /** Exact token count of text[a, b) tokenized alone (the tokenizer's shortcut at clean cuts). */
  count(a: number, b: number): number {
    if (this.tokenizer.countSpan !== undefined) {
      const c = this.tokenizer.countSpan(this.text, this.enc, a, b, this.tokensIn(a, b));
      if (c >= 0) return c;
    }
    return this.tokenizer.count(this.text.slice(a, b));
  }

  /** True when no token's span strictly contains `pos`. */
  isTokenBoundary(pos: number): boolean {
    const t = lowerBound(this.enc.end16, pos, true); // first token ending after pos
    return t >= this.n || (this.enc.start16[t] ?? pos) >= pos;
  }

  /**
   * The greatest position `<= pos` that is a grapheme boundary and a token boundary (G4, G6).
   */
  cutFloor(pos: number): number {
    let p = pos;
    for (;;) {
      const t = lowerBound(this.enc.end16, p, true);
      if (t < this.n) {
        const s = this.enc.start16[t] ?? p;
        if (s < p) p = s;
      }
      const g = graphemeFloor(this.text, p);
      if (g === p) return p;
      p = g;
    }
  }

  /** The least position `> pos` that is a grapheme boundary and a token boundary, or text.length. */
  cutCeil(pos: number): number {
    const len = this.text.length;
    let p = pos + 1;
    while (p < len) {
      const t = lowerBound(this.enc.end16, p, true);
      if (t < this.n) {
        const s = this.enc.start16[t] ?? p;
        const e = this.enc.end16[t] ?? p;
        if (s < p && e > p) {
          p = e;
          continue;
        }
      }
      if (graphemeFloor(this.text, p) === p) return p;
      p++;
    }
    return len;
  }

  /**
   * When no cut that is both a token and a grapheme boundary fits (a byte-level token spanning several
   * characters), the hard cap wins: cut at the last grapheme boundary that fits, even inside a token.
   * A token cut this way lies in neither chunk's token span. A single grapheme over the cap becomes its
   * own chunk (the G2 exception) and is counted.
   */
  private graphemeFallback(pos: number, b: number): [end: number, num: number] {
    const to = Math.min(b, pos + GRAPHEME_FALLBACK_WINDOW);
    const bounds: number[] = [];
    for (const seg of graphemes.segment(this.text.slice(pos, to))) {
      if (seg.index > 0) bounds.push(pos + seg.index);
    }
    if (to === b) bounds.push(b);
    if (bounds.length === 0) bounds.push(this.cutCeil(pos));
    let lo = -1;
    let hi = bounds.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.count(pos, bounds[mid] ?? b) <= this.budget) lo = mid;
      else hi = mid - 1;
    }
    const end = bounds[Math.max(0, lo)] ?? b;
    const num = this.count(pos, end);
    if (num > this.budget) this.overCapGraphemes++;
    return [end, num];
  }

  /** Records a chunk. */
  push(start: number, end: number, overlapTokens: number, numTokens: number): void {
    this.spans.push({ start, end, overlapTokens, numTokens });
  }

  /**
   * Fixed token windows over [a, b): the `window` strategy, and the last resort of `semantic` for a
   * word too long to fit. Each window holds at most `budget` tokens alone; the next one starts up to
   * `overlap` tokens before the previous one ended, on a grapheme boundary.
   */
  windows(a: number, b: number, overlap: number): void {
    let pos = a;
    let overlapTokens = 0;
    while (pos < b) {
      const i = this.firstTokenAtOrAfter(pos);
      let j = Math.min(i + this.budget, this.firstTokenAtOrAfter(b));
      let end = j >= this.n || (this.enc.start16[j] ?? b) >= b ? b : this.cutFloor(this.enc.start16[j] ?? b);
      let num = -1;
      while (end > pos) {
        num = this.count(pos, end);
        if (num <= this.budget) break;
        // Tokenized alone the text splits differently: give back tokens until it fits.
        const over = num - this.budget;
        j = Math.max(i, Math.min(j, this.firstTokenAtOrAfter(end)) - Math.max(1, Math.ceil(over / 2)));
        end = j <= i ? pos : this.cutFloor(this.enc.start16[j] ?? pos);
      }
      if (end <= pos) [end, num] = this.graphemeFallback(pos, b);
      this.push(pos, end, overlapTokens, num);
      if (end >= b) break;
      // Next window: start `overlap` tokens back, on a cut point, never at or before `pos`.
      let next = end;
      overlapTokens = 0;
      if (overlap > 0) {
        const jEnd = this.firstTokenAtOrAfter(end);
        for (let m = Math.max(this.firstTokenAtOrAfter(pos) + 1, jEnd - overlap); m < jEnd; m++) {
          const c = this.enc.start16[m] ?? end;
          if (c <= pos || c >= end || this.cutFloor(c) !== c) continue;
          const t = this.tokensIn(c, end);
          if (t <= overlap) {
            next = c;
            overlapTokens = t;
            break;
          }
        }
      }
      pos = next;
    }
  }
}
