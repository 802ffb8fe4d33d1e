/**
 * The little Markdown structure the semantic strategy needs: ATX headings (outside fenced code) and
 * the spans of fenced code blocks, whose blank lines are not paragraph breaks.
 * Setext headings (underlined with === or ---) are not recognised.
 */

/** An ATX heading: `pos` is the UTF-16 index of its line start. */
export interface Heading {
  readonly pos: number;
  readonly depth: number;
  readonly title: string;
}

/** Headings and fenced-code spans of a Markdown text, in order. */
export interface MarkdownOutline {
  readonly headings: readonly Heading[];
  /** [start, end) UTF-16 spans of fenced code blocks, fence lines included. */
  readonly fences: readonly (readonly [number, number])[];
}

const HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*\r?$/;
const FENCE = /^ {0,3}(`{3,}|~{3,})/;

/** Scans the text line by line once. */
export function outlineMarkdown(text: string): MarkdownOutline {
  const headings: Heading[] = [];
  const fences: [number, number][] = [];
  let pos = 0;
  let fence: { marker: string; start: number } | null = null;
  while (pos <= text.length) {
    let nl = text.indexOf('\n', pos);
    if (nl < 0) nl = text.length;
    const line = text.slice(pos, nl);
    const f = FENCE.exec(line);
    if (fence !== null) {
      if (
        f !== null &&
        f[1] !== undefined &&
        f[1][0] === fence.marker[0] &&
        f[1].length >= fence.marker.length &&
        line.trim() === f[1]
      ) {
        fences.push([fence.start, Math.min(text.length, nl + 1)]);
        fence = null;
      }
    } else if (f !== null && f[1] !== undefined) {
      fence = { marker: f[1], start: pos };
    } else {
      const h = HEADING.exec(line);
      if (h !== null && h[1] !== undefined) headings.push({ pos, depth: h[1].length, title: (h[2] ?? '').trim() });
    }
    if (nl >= text.length) break;
    pos = nl + 1;
  }
  if (fence !== null) fences.push([fence.start, text.length]); // an unclosed fence runs to the end
  return { headings, fences };
}

/** Heading path (outermost first) in force at `pos`, given the headings before it. */
export class HeadingTracker {
  private readonly stack: Heading[] = [];
  private next = 0;
  constructor(private readonly headings: readonly Heading[]) {}

  /** Path at `pos`; positions must not decrease between calls. */
  at(pos: number): string[] {
    while (this.next < this.headings.length) {
      const h = this.headings[this.next];
      if (h === undefined || h.pos > pos) break;
      while (this.stack.length > 0 && (this.stack[this.stack.length - 1]?.depth ?? 0) >= h.depth) this.stack.pop();
      this.stack.push(h);
      this.next++;
    }
    return this.stack.map((h) => h.title);
  }
}
