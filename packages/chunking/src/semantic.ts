/**
 * The `semantic` strategy: cut at the highest structural level that fits and pack the largest run of
 * units of that level into each chunk. Levels, highest first: Markdown sections (heading depth 1 to 6,
 * for text/markdown), paragraphs (blank lines; never inside a fenced code block), lines, sentences
 * (`Intl.Segmenter`, bounded windows), words (whitespace), then token windows on grapheme boundaries.
 * A unit over the budget is split at the next level down, so nothing over the cap passes through.
 *
 * Whitespace between units stays with the unit before it, so chunks tile the document.
 */
import type { DocEngine } from './engine.js';
import type { MarkdownOutline } from './markdown.js';
import { sentenceBoundaries } from './text.js';

/** Structural levels below the Markdown sections (LINE = 7 is the one left over in `boundaries`). */
const PARAGRAPH = 6;
const SENTENCE = 8;
const WORD = 9;
const GRAPHEME = 10;

const BLANK_LINES = /\n[^\S\n]*\n(?:[^\S\n]*\n)*/g;
const WHITESPACE = /\s+/g;

export class SemanticSplitter {
  private readonly firstLevel: number;

  constructor(
    private readonly eng: DocEngine,
    private readonly outline: MarkdownOutline | null,
  ) {
    this.firstLevel = outline !== null && outline.headings.length > 0 ? 0 : PARAGRAPH;
  }

  /** Chunks the whole document. */
  run(): void {
    this.split(0, this.eng.text.length, this.firstLevel);
  }

  /** Chunks [a, b) from the paragraph level down (a section: it holds no headings but its first line). */
  runRange(a: number, b: number): void {
    this.split(a, b, PARAGRAPH);
  }

  /** Unit start positions strictly inside (a, b) at `level` (0-5: headings of depth <= level + 1). */
  private boundaries(level: number, a: number, b: number): number[] {
    const text = this.eng.text;
    const out: number[] = [];
    if (level < PARAGRAPH) {
      for (const h of this.outline?.headings ?? []) {
        if (h.pos > a && h.pos < b && h.depth <= level + 1) out.push(h.pos);
      }
      return out;
    }
    if (level === SENTENCE) return sentenceBoundaries(text, a, b);
    const re = level === PARAGRAPH ? BLANK_LINES : level === WORD ? WHITESPACE : null;
    if (re === null) {
      // LINE: after every newline.
      for (let i = text.indexOf('\n', a); i >= 0 && i + 1 < b; i = text.indexOf('\n', i + 1)) out.push(i + 1);
      return out;
    }
    const region = text.slice(a, b);
    re.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = re.exec(region)) !== null) {
      const p = a + m.index + m[0].length;
      if (p < b && !(level === PARAGRAPH && this.inFence(p))) out.push(p);
    }
    return out;
  }

  private inFence(pos: number): boolean {
    for (const [s, e] of this.outline?.fences ?? []) {
      if (pos > s && pos < e) return true;
      if (s >= pos) break;
    }
    return false;
  }

  /** Unit edges [a, ..., b] at `level`, moved onto cut points (token and grapheme boundaries). */
  private units(level: number, a: number, b: number): number[] {
    const edges = [a];
    for (const raw of this.boundaries(level, a, b)) {
      const p = this.eng.cutFloor(raw);
      if (p > (edges[edges.length - 1] ?? a) && p < b) edges.push(p);
    }
    edges.push(b);
    return edges;
  }

  /** Covers [a, b) with chunks, splitting at `level` or below. */
  private split(a: number, b: number, level: number): void {
    const eng = this.eng;
    if (a >= b) return;
    if (level >= GRAPHEME) {
      eng.windows(a, b, eng.overlap);
      return;
    }
    if (eng.tokensIn(a, b) <= eng.budget) {
      const num = eng.count(a, b);
      if (num <= eng.budget) {
        eng.push(a, b, 0, num);
        return;
      }
    }
    const edges = this.units(level, a, b);
    if (edges.length <= 2) {
      this.split(a, b, level + 1);
      return;
    }
    this.pack(edges, level);
  }

  /** Greedy packing of consecutive units edges[i..j) into chunks, with overlap at this level. */
  private pack(edges: number[], level: number): void {
    const eng = this.eng;
    const last = edges.length - 1;
    let i = 0;
    let overlapTokens = 0;
    let prevEnd = -1; // unit index where the previous chunk of this packing ended
    while (i < last) {
      const a = edges[i] ?? 0;
      // Largest j with the estimate inside the budget (the estimate grows with j).
      let lo = i + 1;
      let hi = last;
      if (eng.tokensIn(a, edges[lo] ?? a) > eng.budget)
        lo = i; // even one unit is too big
      else {
        while (lo < hi) {
          const mid = (lo + hi + 1) >>> 1;
          if (eng.tokensIn(a, edges[mid] ?? a) <= eng.budget) lo = mid;
          else hi = mid - 1;
        }
      }
      let j = lo;
      let num = -1;
      while (j > i) {
        num = eng.count(a, edges[j] ?? a);
        if (num <= eng.budget) break;
        j--;
      }
      if (j <= i || (prevEnd >= 0 && j <= prevEnd)) {
        if (prevEnd >= 0 && i < prevEnd) {
          // The overlap left no room to move forward: restart at the previous end without overlap.
          i = prevEnd;
          overlapTokens = 0;
          prevEnd = -1;
          continue;
        }
        // One unit alone is over the budget: split it at the next level down.
        this.split(a, edges[i + 1] ?? a, level + 1);
        i++;
        overlapTokens = 0;
        prevEnd = -1;
        continue;
      }
      eng.push(a, edges[j] ?? a, overlapTokens, num);
      if (j >= last) break;
      // Overlap: start the next chunk at the earliest unit edge within `overlap` tokens of the end.
      let next = j;
      overlapTokens = 0;
      if (eng.overlap > 0) {
        const end = edges[j] ?? 0;
        for (let m = i + 1; m < j; m++) {
          const t = eng.tokensIn(edges[m] ?? end, end);
          if (t <= eng.overlap) {
            if (t > 0) {
              next = m;
              overlapTokens = t;
            }
            break;
          }
        }
      }
      prevEnd = j;
      i = next;
    }
  }
}
