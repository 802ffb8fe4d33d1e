import { DocEngine } from './engine.js';
import { ChunkingError } from './errors.js';
import { chunkId, hashParts, textVersion } from './ids.js';
import { HeadingTracker, outlineMarkdown } from './markdown.js';
import { compileChunkerOptions, type ChunkerOptions, type CompiledChunkerOptions } from './options.js';
import { SemanticSplitter } from './semantic.js';
import { isBlank, PositionCursor } from './text.js';
import type { ChunkedDocument, ChunkRecord, DocumentInput, Tokenizer } from './types.js';

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
  if (isBlank(text, 0, text.length)) {
    // Nothing to embed: zero chunks.
  } else if (window !== null && eng.n + options.reservedTokens <= window) {
    eng.push(0, text.length, 0, eng.count(0, text.length));
  } else if (options.strategy === 'window') eng.windows(0, text.length, options.overlapTokens);
  else new SemanticSplitter(eng, outline).run();

  const startCursor = new PositionCursor(text);
  const endCursor = new PositionCursor(text);
  const headings = outline !== null ? new HeadingTracker(outline.headings) : null;
  const count = eng.spans.length;
  const whole = count === 1 && eng.spans[0]?.start === 0 && eng.spans[0]?.end === text.length;
  const chunks: ChunkRecord[] = [];
  for (let k = 0; k < count; k++) {
    const s = eng.spans[k];
    if (s === undefined) continue;
    const from = startCursor.seek(s.start);
    const to = endCursor.seek(s.end);
    const tokenStart = eng.firstTokenAtOrAfter(s.start);
    const tokenEnd = tokenStart + eng.tokensIn(s.start, s.end);
    let contentStart = s.start;
    while (contentStart < s.end && isBlank(text, contentStart, contentStart + 1)) contentStart++;
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
      heading_path: headings !== null ? headings.at(contentStart) : [],
      tokenizer: tokenizer.id,
      chunker_fingerprint: fingerprint,
      source: doc.source ?? null,
      content_type: contentType,
      metadata: { ...(doc.metadata ?? {}) },
    });
  }
  return {
    chunks,
    overCapGraphemes: eng.overCapGraphemes,
    manifest: {
      doc_id: doc.docId,
      doc_version: version,
      chunk_ids: chunks.map((c) => c.chunk_id),
      chunk_count: count,
      total_tokens: eng.n,
      deleted: false,
      chunker_fingerprint: fingerprint,
    },
  };
}
