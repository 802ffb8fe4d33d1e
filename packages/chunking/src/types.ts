/**
 * Types shared by the chunking core and its adapters. All positions inside the core are UTF-16 code
 * unit indexes into a JavaScript string (`…16` suffix); records carry code points (`char_*`) and UTF-8
 * bytes (`byte_*`) as DESIGN.md requires.
 */

/** A document's tokens with the span of each token in UTF-16 code units of the tokenized string. */
export interface Encoding {
  /** Token ids, without special tokens. */
  readonly ids: Int32Array;
  /** `start16[i]`: UTF-16 index of the first code unit covered by token i. Non-decreasing. */
  readonly start16: Int32Array;
  /** `end16[i]`: UTF-16 index one past the last code unit covered by token i. */
  readonly end16: Int32Array;
  /** `wordStart[i]` is 1 when token i is the first token of a pre-token (word), if the tokenizer knows. */
  readonly wordStart?: Uint8Array;
}

/**
 * The one thing the core needs from a tokenizer. Implementations live outside the core
 * (`@chunkline/tokenizers`), so the core has no I/O and no model library.
 */
export interface Tokenizer {
  /** Model id recorded on every chunk, e.g. `bert-base-uncased`. */
  readonly id: string;
  /** Stable hash of the tokenizer's definition (tokenizer.json); part of the chunker fingerprint. */
  readonly fingerprint: string;
  /** Tokenizes `text` once, without special tokens, with per-token spans. */
  encode(text: string): Encoding;
  /** Number of tokens of `text` tokenized alone, without special tokens. */
  count(text: string): number;
  /**
   * Optional exact shortcut: the token count of `text[a, b)` tokenized alone when the tokenizer can
   * prove it equals `inside` (the document tokens within [a, b)) because both cuts are clean (on a
   * pre-token boundary next to whitespace, where its normalizer and pre-tokenizer are local); -1 when it
   * cannot tell, and the caller re-tokenizes.
   */
  countSpan?(text: string, enc: Encoding, a: number, b: number, inside: number): number;
}

/** A document to chunk (the RawDocument record, camelCased for code). */
export interface DocumentInput {
  readonly docId: string;
  /** `null` or absent: the chunker uses a hash of `text`. */
  readonly version?: string | null;
  readonly text: string;
  /** `text/plain` (default) or `text/markdown` (heading-aware splitting). */
  readonly contentType?: string;
  readonly source?: string | null;
  readonly metadata?: Readonly<Record<string, string>>;
}

/** The exact span of a chunk or section in its document, and its own token count. */
export interface ExactSpan {
  /** Exact substring of the document text. */
  text: string;
  /** Unicode code point index of the first character (inclusive). */
  char_start: number;
  /** Unicode code point index one past the last character. */
  char_end: number;
  /** UTF-8 byte index of the first byte (inclusive). */
  byte_start: number;
  /** UTF-8 byte index one past the last byte. */
  byte_end: number;
  /** Index of the first document token inside the span. */
  token_start: number;
  /** One past the last document token inside the span. */
  token_end: number;
  /** Tokens of `text` tokenized alone, without special tokens. */
  num_tokens: number;
}

/** Fields every output record copies from the document and the chunker. */
export interface ProvenanceFields {
  tokenizer: string;
  chunker_fingerprint: string;
  source: string | null;
  content_type: string;
  metadata: Record<string, string>;
}

/** Chunk record (schemas/chunk), field names exactly as in DESIGN.md. */
export interface ChunkRecord extends ExactSpan, ProvenanceFields {
  chunk_id: string;
  doc_id: string;
  doc_version: string;
  chunk_index: number;
  chunk_count: number;
  /** Tokens at the start of this chunk that repeat the end of the previous chunk. */
  overlap_tokens: number;
  strategy: Strategy;
  heading_path: string[];
  /** With the `sections` hierarchy: the section_id of the section holding this chunk; else null. */
  parent_id: string | null;
}

/** Section record (schemas/section): one parent of the `sections` hierarchy, with its exact span. */
export interface SectionRecord extends ExactSpan, ProvenanceFields {
  section_id: string;
  doc_id: string;
  doc_version: string;
  section_index: number;
  section_count: number;
  /** The enclosing section's id; null for a top-level section (its parent is the document). */
  parent_id: string | null;
  /** 1 = top level; 0 for a preamble before the first heading. */
  level: number;
  /** 0, or the part number when a section over the parent cap was split into consecutive parts. */
  part: number;
  /** Titles of the enclosing sections and this one, outermost first. */
  heading_path: string[];
}

/** DocumentManifest record. */
export interface DocumentManifest {
  doc_id: string;
  doc_version: string;
  chunk_ids: string[];
  chunk_count: number;
  total_tokens: number;
  deleted: boolean;
  chunker_fingerprint: string;
  /** Ids of the document's sections (the `sections` hierarchy); empty otherwise. */
  section_ids: string[];
}

/** Chunking strategies. `whole` is what either strategy reports for a document that fits in one chunk. */
export type Strategy = 'window' | 'semantic' | 'whole';

/** The result of chunking one document. */
export interface ChunkedDocument {
  readonly chunks: ChunkRecord[];
  /** Parent sections (the `sections` hierarchy); empty otherwise. */
  readonly sections: SectionRecord[];
  readonly manifest: DocumentManifest;
  /** Graphemes whose own token count is over the cap (each became its own chunk; see DESIGN G2). */
  readonly overCapGraphemes: number;
}
