/**
 * Section starts for the `sections` hierarchy. A section runs from its heading line to the next
 * heading of any level, so sections tile the document; nesting is carried by `level` (and the parent
 * ids the chunker derives from it).
 *
 * - Markdown: ATX headings outside fenced code (see markdown.ts).
 * - Plain text (legal, technical, reStructuredText): numbered clauses ("1.", "1.1", "2.3.4",
 *   "Section 4", "Article IV", "Chapter 2", "§ 3"), reStructuredText titles (a line underlined with
 *   = - ~ ^ " ' * + # of at least its length; levels in order of first appearance), and title-like
 *   lines (short, set off by blank lines, ALL CAPS or Title Case, no closing punctuation).
 * - Plain text with none of these: blocks separated by two or more blank lines; else one section.
 */
import type { MarkdownOutline } from './markdown.js';

/** Where a section begins (UTF-16 index of its first line), its level (1 = top) and its title. */
export interface SectionStart {
  readonly pos: number;
  readonly level: number;
  readonly title: string;
}

const NUMBERED =
  /^[ \t]*(?:((?:article|chapter|part)\s+[0-9IVXLCDM]+)|((?:section|sec\.)\s+\d+(?:\.\d+)*)|(§+\s*\d+(?:\.\d+)*)|(\d+(?:\.\d+)*)\.?|([IVXLCDM]+)\.)[ \t]+\S/i;
const RST_UNDERLINE = /^([=\-~^"'*+#`:.])\1{2,}[ \t]*$/;
const MAX_TITLE = 100;

interface Line {
  start: number;
  text: string;
}

function lines(text: string): Line[] {
  const out: Line[] = [];
  let pos = 0;
  while (pos <= text.length) {
    let nl = text.indexOf('\n', pos);
    if (nl < 0) nl = text.length;
    out.push({ start: pos, text: text.slice(pos, nl).replace(/\r$/, '') });
    if (nl >= text.length) break;
    pos = nl + 1;
  }
  return out;
}

const blank = (l: Line | undefined): boolean => l === undefined || l.text.trim() === '';

/**
 * Levels: title lines and Article/Chapter/Part are 1; "Section 4" and "1." clauses are 2, so they nest
 * under a title such as "TERMS AND CONDITIONS"; each further number ("1.1", "Section 4.1") one deeper.
 */
function numberedLevel(m: RegExpExecArray): number {
  if (m[1] !== undefined) return 1; // Article / Chapter / Part
  if (m[2] !== undefined) return 2 + (m[2].match(/\./g)?.length ?? 0); // Section 4 → 2, Section 4.1 → 3
  if (m[3] !== undefined) return 2 + (m[3].match(/\./g)?.length ?? 0); // § 3 → 2
  if (m[4] !== undefined) return 1 + m[4].split('.').length; // 1. → 2, 1.1 → 3
  return 2; // Roman numeral clause "IV."
}

/** The title of a clause line: its number and the rest of its first sentence, at most 80 characters. */
function clauseTitle(t: string): string {
  const afterNumber = t.search(/\s/) + 1;
  const stop = t.slice(afterNumber).search(/[.:](\s|$)/);
  const head = stop >= 0 ? t.slice(0, afterNumber + stop + 1) : t;
  return head.length <= 80 ? head : `${head.slice(0, 79)}…`;
}

function titleLike(l: Line, prev: Line | undefined, next: Line | undefined): boolean {
  const t = l.text.trim();
  if (t.length < 2 || t.length > 80 || !blank(prev) || !blank(next)) return false;
  if (/[.,;:!?]$/.test(t) || !/\p{L}/u.test(t)) return false;
  const letters = t.replace(/[^\p{L}]/gu, '');
  if (letters !== '' && letters === letters.toUpperCase() && letters !== letters.toLowerCase()) return true;
  const words = t.split(/\s+/).filter((w) => /^\p{L}/u.test(w));
  const capital = words.filter((w) => /^\p{Lu}/u.test(w)).length;
  return words.length > 0 && words.length <= 10 && capital / words.length >= 0.6 && /^\p{Lu}/u.test(words[0] ?? '');
}

/** Section starts of a plain-text document, in order; the first may be after 0 (a preamble precedes it). */
export function plainTextSections(text: string): SectionStart[] {
  const ls = lines(text);
  const out: SectionStart[] = [];
  const rstLevels: string[] = [];
  for (let i = 0; i < ls.length; i++) {
    const l = ls[i]!;
    const next = ls[i + 1];
    const t = l.text.trim();
    if (t === '') continue;
    const m = NUMBERED.exec(l.text);
    if (m !== null && (blank(ls[i - 1]) || i === 0)) {
      out.push({ pos: l.start, level: Math.min(6, numberedLevel(m)), title: clauseTitle(t) });
      continue;
    }
    if (t.length > MAX_TITLE) continue;
    // reStructuredText title: the line is underlined (optionally also overlined).
    if (
      next !== undefined &&
      RST_UNDERLINE.test(next.text) &&
      next.text.trim().length >= t.length &&
      !RST_UNDERLINE.test(l.text)
    ) {
      const ch = next.text.trim()[0] ?? '=';
      const over = i > 0 && RST_UNDERLINE.test(ls[i - 1]!.text) && ls[i - 1]!.text.trim()[0] === ch;
      const key = (over ? 'o' : 'u') + ch;
      let level = rstLevels.indexOf(key);
      if (level < 0) level = rstLevels.push(key) - 1;
      out.push({ pos: over ? ls[i - 1]!.start : l.start, level: level + 1, title: t });
      i++;
      continue;
    }
    if (titleLike(l, ls[i - 1], next)) out.push({ pos: l.start, level: 1, title: t });
  }
  if (out.length > 0) return out;
  // No headings: blocks separated by two or more blank lines.
  const blocks: SectionStart[] = [];
  const re = /\n[^\S\n]*\n[^\S\n]*\n\s*/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    const p = m.index + m[0].length;
    if (p < text.length) blocks.push({ pos: text.lastIndexOf('\n', p - 1) + 1, level: 1, title: '' });
  }
  return blocks;
}

/** Section starts from Markdown headings. */
export function markdownSections(outline: MarkdownOutline): SectionStart[] {
  return outline.headings.map((h) => ({ pos: h.pos, level: h.depth, title: h.title }));
}
