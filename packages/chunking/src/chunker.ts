import { DocEngine } from './engine.js';
import { ChunkingError } from './errors.js';
import { chunkId, hashParts, textVersion } from './ids.js';
import { HeadingTracker, outlineMarkdown, type MarkdownOutline } from './markdown.js';
import { compileChunkerOptions, type ChunkerOptions, type CompiledChunkerOptions } from './options.js';
import { markdownSections, plainTextSections } from './sections.js';
import { SemanticSplitter } from './semantic.js';
import { isBlank, PositionCursor } from './text.js';
import type { ChunkedDocument, ChunkRecord, DocumentInput, SectionRecord, Tokenizer } from './types.js';

/** Version of the cutting rules; part of the fingerprint so that a rule change changes chunk ids. */
const ALGORITHM_VERSION = 1;

/** Content type that turns on heading-aware splitting. */
export const MARKDOWN = 'text/markdown';

/** Splits documents into chunk records. Create one with {@link createChunker}. */
export interface Chunker {
  /** Hash of the tokenizer and the compiled options; recorded on every chunk. */
  readonly fingerprint: string;
  readonly options: CompiledChunkerOptions;
  readonly tokenizer: Tokenizer;
  /** Chunks one document. Pure: the same document and options give identical records. */
  chunk(doc: DocumentInput): ChunkedDocument;
}

/** Builds a chunker; bad options throw a {@link ChunkingError} saying what to change. */
export function createChunker(tokenizer: Tokenizer, options?: ChunkerOptions): Chunker {
  const compiled = compileChunkerOptions(options);
  const fingerprint = hashParts(
    [
      'chunkline',
      ALGORITHM_VERSION,
      tokenizer.id,
      tokenizer.fingerprint,
      compiled.strategy,
      compiled.maxTokens,
      compiled.overlapTokens,
      compiled.reservedTokens,
      compiled.wholeIfFitsTokens ?? '',
      compiled.hierarchy === 'sections' ? `sections/${compiled.parentMaxTokens}` : '',
    ],
    16,
  );
  return Object.freeze({
    fingerprint,
    options: compiled,
    tokenizer,
    chunk: (doc: DocumentInput) => chunkDocument(tokenizer, compiled, fingerprint, doc),
  });
}

function checkDocument(doc: DocumentInput): void {
  if (typeof doc.docId !== 'string' || doc.docId === '') {
    throw new ChunkingError('BAD_INPUT', 'doc_id', 'doc_id must be a non-empty string');
  }
  if (typeof doc.text !== 'string') {
    throw new ChunkingError('BAD_INPUT', 'text', `text of ${doc.docId} must be a string, got ${typeof doc.text}`);
  }
}

/** A parent section (or one part of a section over the parent cap). */
interface SectionPart {
  readonly start: number;
  readonly end: number;
  readonly level: number;
  readonly part: number;
  readonly path: string[];
  /** Index (in the parts list) of the first part of the enclosing section, or -1 at the top level. */
  readonly parent: number;
  readonly numTokens: number;
}

/** Splits the document into section parts that tile it (see sections.ts). */
function planSections(
  eng: DocEngine,
  tokenizer: Tokenizer,
  outline: MarkdownOutline | null,
  options: CompiledChunkerOptions,
): SectionPart[] {
  const text = eng.text;
  const starts = outline !== null ? markdownSections(outline) : plainTextSections(text);
  const edges = [0];
  const meta: { level: number; title: string }[] = [{ level: 0, title: '' }];
  for (const st of starts) {
    const p = eng.cutFloor(st.pos);
    if (p >= text.length) continue;
    if (p <= (edges[edges.length - 1] ?? 0)) {
      if (p === 0 && edges.length === 1) meta[0] = { level: st.level, title: st.title };
      continue;
    }
    edges.push(p);
    meta.push({ level: st.level, title: st.title });
  }
  // A blank preamble joins the first section (it has nothing of its own to hold).
  if (edges.length > 1 && meta[0]?.level === 0 && isBlank(text, 0, edges[1] ?? 0)) {
    edges.splice(1, 1);
    meta.splice(0, 1);
  }
  edges.push(text.length);
  const parentCap = options.parentMaxTokens - options.reservedTokens;
  const parts: SectionPart[] = [];
  const stack: { level: number; title: string; firstPart: number }[] = [];
  for (let k = 0; k + 1 < edges.length; k++) {
    const a = edges[k] ?? 0;
    const b = edges[k + 1] ?? text.length;
    const m = meta[k] ?? { level: 1, title: '' };
    while (stack.length > 0 && (stack[stack.length - 1]?.level ?? 0) >= m.level) stack.pop();
    const parent = m.level === 0 ? -1 : (stack[stack.length - 1]?.firstPart ?? -1);
    const path = [...stack.map((x) => x.title), ...(m.level === 0 ? [] : [m.title])];
    let spans: { start: number; end: number; numTokens: number }[];
    const whole = eng.tokensIn(a, b) <= parentCap ? eng.count(a, b) : Infinity;
    if (whole <= parentCap) spans = [{ start: a, end: b, numTokens: whole }];
    else {
      const sub = new DocEngine(text, eng.enc, tokenizer, parentCap, 0);
      new SemanticSplitter(sub, null).runRange(a, b);
      spans = sub.spans;
    }
    const firstPart = parts.length;
    spans.forEach((sp, i) =>
      parts.push({
        start: sp.start,
        end: sp.end,
        level: m.level,
        part: spans.length > 1 ? i + 1 : 0,
        path,
        parent,
        numTokens: sp.numTokens,
      }),
    );
    if (m.level > 0) stack.push({ level: m.level, title: m.title, firstPart });
  }
  return parts;
}

function chunkDocument(
  tokenizer: Tokenizer,
  options: CompiledChunkerOptions,
  fingerprint: string,
  doc: DocumentInput,
): ChunkedDocument {
  checkDocument(doc);
  const text = doc.text;
  const contentType = doc.contentType ?? 'text/plain';
  const version = doc.version ?? textVersion(text);
  const markdown = contentType === MARKDOWN;
  const enc = tokenizer.encode(text);
  const eng = new DocEngine(text, enc, tokenizer, options.budgetTokens, options.overlapTokens);
  const outline = markdown ? outlineMarkdown(text) : null;
  const window = options.wholeIfFitsTokens;
  let parts: SectionPart[] = [];
  /** For each chunk span, the index of its section part (hierarchy only). */
  const partOf: number[] = [];
  if (isBlank(text, 0, text.length)) {
    // Nothing to embed: zero chunks.
  } else if (window !== null && eng.n + options.reservedTokens <= window) {
    eng.push(0, text.length, 0, eng.count(0, text.length));
  } else if (options.hierarchy === 'sections') {
    parts = planSections(eng, tokenizer, outline, options);
    const splitter = new SemanticSplitter(eng, outline);
    parts.forEach((p, i) => {
      const before = eng.spans.length;
      if (options.strategy === 'window') eng.windows(p.start, p.end, options.overlapTokens);
      else splitter.runRange(p.start, p.end);
      for (let k = before; k < eng.spans.length; k++) partOf[k] = i;
    });
  } else if (options.strategy === 'window') eng.windows(0, text.length, options.overlapTokens);
  else new SemanticSplitter(eng, outline).run();

  const sectionIds = parts.map((_, i) => hashParts(['section', doc.docId, version, fingerprint, i]));
  const metadata = doc.metadata ?? {};
  const cursor = new PositionCursor(text);
  const sections: SectionRecord[] = parts.map((p, i) => {
    const from = cursor.seek(p.start);
    const to = cursor.seek(p.end);
    const tokenStart = eng.firstTokenAtOrAfter(p.start);
    return {
      section_id: sectionIds[i] ?? '',
      doc_id: doc.docId,
      doc_version: version,
      section_index: i,
      section_count: parts.length,
      parent_id: p.parent >= 0 ? (sectionIds[p.parent] ?? null) : null,
      level: p.level,
      part: p.part,
      heading_path: p.path,
      text: text.slice(p.start, p.end),
      char_start: from.codePoints,
      char_end: to.codePoints,
      byte_start: from.bytes,
      byte_end: to.bytes,
      token_start: tokenStart,
      token_end: tokenStart + eng.tokensIn(p.start, p.end),
      num_tokens: p.numTokens,
      tokenizer: tokenizer.id,
      chunker_fingerprint: fingerprint,
      source: doc.source ?? null,
      content_type: contentType,
      metadata: { ...metadata },
    };
  });

  const chunkCursor = new PositionCursor(text);
  const headings = outline !== null ? new HeadingTracker(outline.headings) : null;
  const count = eng.spans.length;
  const whole = count === 1 && eng.spans[0]?.start === 0 && eng.spans[0]?.end === text.length && parts.length <= 1;
  const chunks: ChunkRecord[] = [];
  for (let k = 0; k < count; k++) {
    const s = eng.spans[k];
    if (s === undefined) continue;
    const from = chunkCursor.seek(s.start);
    const to = chunkCursor.seek(s.end);
    const tokenStart = eng.firstTokenAtOrAfter(s.start);
    const tokenEnd = tokenStart + eng.tokensIn(s.start, s.end);
    let contentStart = s.start;
    while (contentStart < s.end && isBlank(text, contentStart, contentStart + 1)) contentStart++;
    const part = partOf[k];
    const headingPath =
      headings !== null ? headings.at(contentStart) : part !== undefined ? (parts[part]?.path ?? []) : [];
    chunks.push({
      chunk_id: chunkId(doc.docId, version, fingerprint, k),
      doc_id: doc.docId,
      doc_version: version,
      chunk_index: k,
      chunk_count: count,
      text: text.slice(s.start, s.end),
      char_start: from.codePoints,
      char_end: to.codePoints,
      byte_start: from.bytes,
      byte_end: to.bytes,
      token_start: tokenStart,
      token_end: tokenEnd,
      num_tokens: s.numTokens,
      overlap_tokens: s.overlapTokens,
      strategy: whole ? 'whole' : options.strategy,
      heading_path: headingPath,
      tokenizer: tokenizer.id,
      chunker_fingerprint: fingerprint,
      source: doc.source ?? null,
      content_type: contentType,
      metadata: { ...metadata },
      parent_id: part !== undefined ? (sectionIds[part] ?? null) : null,
    });
  }
  return {
    chunks,
    sections,
    overCapGraphemes: eng.overCapGraphemes,
    manifest: {
      doc_id: doc.docId,
      doc_version: version,
      chunk_ids: chunks.map((c) => c.chunk_id),
      chunk_count: count,
      total_tokens: eng.n,
      deleted: false,
      chunker_fingerprint: fingerprint,
      section_ids: sectionIds,
    },
  };
}
