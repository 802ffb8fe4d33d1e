/** fast-check generators of valid records of each kind. */
import fc from 'fast-check';
import type { ChunkRecord, DocumentManifest, SectionRecord } from '@chunkline/chunking';
import type { RawDocumentRecord } from '@chunkline/records';

const hex = (n: number): fc.Arbitrary<string> =>
  fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: n, maxLength: n });
const text = fc.string({ unit: 'grapheme', maxLength: 60 });
const meta = fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ unit: 'grapheme', maxLength: 12 }), { maxKeys: 4 });
const count = fc.integer({ min: 0, max: 2 ** 31 - 1 });
const offset = fc.nat({ max: 2 ** 52 });

export const rawDocument: fc.Arbitrary<RawDocumentRecord> = fc.record({
  doc_id: fc.string({ minLength: 1, maxLength: 20 }),
  version: fc.option(fc.string({ maxLength: 20 }), { nil: null }),
  text,
  content_type: fc.constantFrom('text/plain', 'text/markdown'),
  source: fc.option(fc.string({ maxLength: 30 }), { nil: null }),
  metadata: meta,
  event_time: fc.option(fc.integer({ min: 0, max: 4_102_444_800_000 }), { nil: null }),
});

export const chunk: fc.Arbitrary<ChunkRecord> = fc.record({
  chunk_id: hex(32),
  doc_id: fc.string({ minLength: 1, maxLength: 20 }),
  doc_version: fc.string({ maxLength: 20 }),
  chunk_index: count,
  chunk_count: count,
  text,
  char_start: offset,
  char_end: offset,
  byte_start: offset,
  byte_end: offset,
  token_start: offset,
  token_end: offset,
  num_tokens: count,
  overlap_tokens: count,
  strategy: fc.constantFrom('window' as const, 'semantic' as const, 'whole' as const),
  heading_path: fc.array(fc.string({ unit: 'grapheme', maxLength: 10 }), { maxLength: 4 }),
  tokenizer: fc.constantFrom('bert-base-uncased', 'qwen3'),
  chunker_fingerprint: hex(16),
  source: fc.option(fc.string({ maxLength: 30 }), { nil: null }),
  content_type: fc.constantFrom('text/plain', 'text/markdown'),
  metadata: meta,
  parent_id: fc.option(hex(32), { nil: null }),
});

export const section: fc.Arbitrary<SectionRecord> = fc.record({
  section_id: hex(32),
  doc_id: fc.string({ minLength: 1, maxLength: 20 }),
  doc_version: fc.string({ maxLength: 20 }),
  section_index: count,
  section_count: count,
  parent_id: fc.option(hex(32), { nil: null }),
  level: fc.integer({ min: 0, max: 6 }),
  part: fc.integer({ min: 0, max: 100 }),
  heading_path: fc.array(fc.string({ unit: 'grapheme', maxLength: 10 }), { maxLength: 4 }),
  text,
  char_start: offset,
  char_end: offset,
  byte_start: offset,
  byte_end: offset,
  token_start: offset,
  token_end: offset,
  num_tokens: count,
  tokenizer: fc.constantFrom('bert-base-uncased', 'qwen3'),
  chunker_fingerprint: hex(16),
  source: fc.option(fc.string({ maxLength: 30 }), { nil: null }),
  content_type: fc.constantFrom('text/plain', 'text/markdown'),
  metadata: meta,
});

export const manifest: fc.Arbitrary<DocumentManifest> = fc.record({
  doc_id: fc.string({ minLength: 1, maxLength: 20 }),
  doc_version: fc.string({ maxLength: 20 }),
  chunk_ids: fc.array(hex(32), { maxLength: 10 }),
  chunk_count: count,
  total_tokens: offset,
  deleted: fc.boolean(),
  chunker_fingerprint: hex(16),
  section_ids: fc.array(hex(32), { maxLength: 5 }),
});
