/**
 * The bad-input matrix (issue 5): one record per class, each with its expected outcome. The
 * integration test test/integration/bad-inputs.test.ts produces them (each followed by a good record)
 * to a real worker and checks every row; RELIABILITY.md has the table it prints.
 *
 * Cases run in three phases, one worker configuration each (on their own topics):
 * - `base`: bert-base-uncased, 128 tokens, default limits.
 * - `limits`: bert-base-uncased, 1024 tokens, CHUNKLINE_MAX_DOC_BYTES=100000,
 *   CHUNKLINE_MAX_CHUNKS_PER_DOC=20, CHUNKLINE_MAX_MESSAGE_BYTES=2000.
 * - `bpe`: qwen3 (byte-level BPE), 512 tokens: a 1 MB line with no whitespace.
 */
import { chunkCodec, rawDocumentCodec } from '@chunkline/records';
import type { IHeaders } from 'kafkajs';
import { mulberry32 } from '../support/shared.mjs';

export type Phase = 'base' | 'limits' | 'bpe';

export const PHASE_ENV: Record<Phase, Record<string, string>> = {
  base: { CHUNKLINE_MAX_TOKENS: '128' },
  limits: {
    CHUNKLINE_MAX_TOKENS: '1024',
    CHUNKLINE_MAX_DOC_BYTES: '100000',
    CHUNKLINE_MAX_CHUNKS_PER_DOC: '20',
    CHUNKLINE_MAX_MESSAGE_BYTES: '2000',
  },
  bpe: { CHUNKLINE_TOKENIZER: 'qwen3', CHUNKLINE_MAX_TOKENS: '512' },
};

/** What a case must end as. */
export type Expected =
  | { kind: 'dead-letter'; errorClass: string; messageIncludes?: string }
  | { kind: 'chunks'; docId: string; text: string; contentType?: string; minChunks: number; maxChunks?: number }
  | { kind: 'deleted'; docId: string };

export interface BadInputCase {
  /** The class, as shown in the table. */
  readonly name: string;
  readonly phase: Phase;
  readonly key: string | Buffer | null;
  readonly value: string | Buffer | null;
  readonly expected: Expected;
  /** Why this outcome is right. */
  readonly reason: string;
}

/** Headers put on every bad record: odd bytes that a dead letter must keep byte for byte. */
export const ODD_HEADERS: IHeaders = {
  'x-odd-bytes': Buffer.from([0xff, 0x00, 0xc3, 0x28, 0x0a]),
  'x-empty': Buffer.alloc(0),
  'x-ünïcode-key': Buffer.from('värde ✓', 'utf8'),
};

/** The deterministic PRNG of the test data (mulberry32), so the "random" bytes are the same on every run. */
export const prng = mulberry32;

function rawAvro(docId: string, text: string): Buffer {
  return rawDocumentCodec.encodeSingleObject({
    doc_id: docId,
    version: null,
    text,
    content_type: 'text/plain',
    source: null,
    metadata: {},
    event_time: null,
  });
}

const json = (o: unknown): string => JSON.stringify(o);

/** Every case of the matrix. */
export function badInputCases(): BadInputCase[] {
  const rnd = prng(5);
  const randomBytes = Buffer.from(Array.from({ length: 64 }, () => Math.floor(rnd() * 256)));
  randomBytes[0] = 0x9f; // not a framing byte (00, C3 01, whitespace or '{'): stays "random"
  const avro = rawAvro('trunc', 'A perfectly fine document that will be cut short.');
  const truncated = avro.subarray(0, Math.floor(avro.length / 2));
  const chunkValue = chunkCodec.encodeSingleObject({
    chunk_id: 'c',
    doc_id: 'chunk-as-input',
    doc_version: 'v',
    chunk_index: 0,
    chunk_count: 1,
    text: 't',
    char_start: 0,
    char_end: 1,
    byte_start: 0,
    byte_end: 1,
    token_start: 0,
    token_end: 1,
    num_tokens: 1,
    overlap_tokens: 0,
    strategy: 'whole',
    heading_path: [],
    tokenizer: 'bert-base-uncased',
    chunker_fingerprint: 'f',
    source: null,
    content_type: 'text/plain',
    metadata: {},
    parent_id: null,
  });
  // Avro string with an invalid UTF-8 byte: encode "abcX..." then replace the X byte by 0xFF.
  const marker = 'Z\u0001Z';
  const badUtf8Avro = rawAvro('bad-utf8-avro', `valid text then ${marker} then more`);
  const at = badUtf8Avro.indexOf(Buffer.from(marker, 'utf8'));
  badUtf8Avro[at + 1] = 0xff;
  const badUtf8Json = Buffer.concat([
    Buffer.from('{"doc_id":"bad-utf8-json","text":"caf'),
    Buffer.from([0xc3, 0x28]), // a 2-byte lead followed by an ASCII byte
    Buffer.from('"}'),
  ]);
  const nulText = 'Before\u0000after. Two NULs\u0000\u0000 in a row, and one at the end\u0000';
  const oneMbLine = Array.from({ length: 1_000_000 }, (_, i) => String.fromCharCode(97 + ((i * 7919) % 26))).join('');
  const nestedQuotes = Array.from({ length: 1000 }, (_, i) => `${'>'.repeat(i + 1)} quoted level ${i}`).join('\n');
  const nestedLists = Array.from({ length: 1000 }, (_, i) => `${'  '.repeat(i)}- item at depth ${i}`).join('\n');
  const longParagraph = 'The broker writes every record to the log before it answers the producer. '.repeat(40);
  // 40000 one-token digits in 80 KB (under the 100000-byte limit): about 40 chunks of 1022 tokens.
  const manyChunks = Array.from({ length: 40_000 }, (_, i) => String(i % 10)).join(' ');
  const dl = (errorClass: string): Expected => ({ kind: 'dead-letter', errorClass });
  const ok = (docId: string, text: string, minChunks: number, maxChunks?: number, contentType?: string): Expected => ({
    kind: 'chunks',
    docId,
    text,
    minChunks,
    ...(maxChunks === undefined ? {} : { maxChunks }),
    ...(contentType === undefined ? {} : { contentType }),
  });
  const c = (
    name: string,
    phase: Phase,
    key: string | Buffer | null,
    value: string | Buffer | null,
    expected: Expected,
    reason: string,
  ): BadInputCase => ({ name, phase, key, value, expected, reason });

  return [
    c('empty value', 'base', 'e1', Buffer.alloc(0), dl('UNKNOWN_FRAMING'), 'an empty value is not a tombstone'),
    c('random bytes', 'base', 'e2', randomBytes, dl('UNKNOWN_FRAMING'), 'no known framing in the first bytes'),
    c('truncated Avro (single-object)', 'base', 'trunc', truncated, dl('TRUNCATED'), 'bytes end inside the record'),
    c(
      'Avro of another schema (a Chunk)',
      'base',
      'chunk-as-input',
      chunkValue,
      dl('WRONG_TYPE'),
      'known fingerprint of the chunk schema',
    ),
    c(
      'unknown registry id, no registry',
      'base',
      'e5',
      Buffer.from([0x00, 0x00, 0x00, 0x30, 0x39, 0x02, 0x61]),
      dl('UNKNOWN_SCHEMA_ID'),
      'registry framing but no registry configured',
    ),
    c(
      'unknown single-object fingerprint',
      'base',
      'e6',
      Buffer.from('c301deadbeefdeadbeef0261', 'hex'),
      dl('UNKNOWN_FINGERPRINT'),
      'fingerprint of no known schema',
    ),
    c('JSON missing doc_id', 'base', 'e7', json({ text: 'no id' }), dl('INVALID_FIELD'), 'doc_id is required'),
    c('JSON non-string doc_id', 'base', 'e8', json({ doc_id: 8, text: 't' }), dl('INVALID_FIELD'), 'doc_id: string'),
    c('JSON text a number', 'base', 'e9', json({ doc_id: 'e9', text: 9 }), dl('INVALID_FIELD'), 'text: string'),
    c('JSON array', 'base', 'e10', json([{ doc_id: 'e10', text: 't' }]), dl('UNKNOWN_FRAMING'), "starts with '['"),
    c('JSON truncated', 'base', 'e11', '{"doc_id": "e11", "te', dl('INVALID_JSON'), 'does not parse'),
    c('JSON unknown field', 'base', 'e12', json({ doc_id: 'e12', text: 't', txt: 'x' }), dl('INVALID_FIELD'), 'strict'),
    c(
      'key and doc_id disagree',
      'base',
      'other-key',
      json({ doc_id: 'e13', text: 't' }),
      dl('KEY_MISMATCH'),
      'the key must be the doc_id',
    ),
    c('record without a key', 'base', null, json({ doc_id: 'e14', text: 't' }), dl('MISSING_KEY'), 'key = doc_id'),
    c(
      'key not UTF-8',
      'base',
      Buffer.from([0x65, 0xff]),
      json({ doc_id: 'e15', text: 't' }),
      dl('INVALID_UTF8'),
      'keys are UTF-8 doc ids',
    ),
    c('invalid UTF-8 in JSON bytes', 'base', 'bad-utf8-json', badUtf8Json, dl('INVALID_UTF8'), 'fatal decoder'),
    c('invalid UTF-8 in an Avro string', 'base', 'bad-utf8-avro', badUtf8Avro, dl('INVALID_UTF8'), 're-encode check'),
    c(
      'lone surrogate in JSON text',
      'base',
      'e18',
      '{"doc_id":"e18","text":"a \\ud800 b"}',
      dl('INVALID_UTF8'),
      'no UTF-8 form',
    ),
    c(
      'NUL characters in text',
      'base',
      'nul',
      json({ doc_id: 'nul', text: nulText }),
      ok('nul', nulText, 1, 1),
      'U+0000 is a valid code point: chunked, kept exactly',
    ),
    c('0-byte text', 'base', 'empty', json({ doc_id: 'empty', text: '' }), ok('empty', '', 0, 0), 'zero chunks'),
    c(
      'whitespace-only text',
      'base',
      'blank',
      json({ doc_id: 'blank', text: ' \n\t\n  \u3000 ' }),
      ok('blank', ' \n\t\n  \u3000 ', 0, 0),
      'nothing to cover: zero chunks',
    ),
    c(
      '1000 levels of > quotes (Markdown)',
      'base',
      'quotes',
      json({ doc_id: 'quotes', text: nestedQuotes, content_type: 'text/markdown' }),
      ok('quotes', nestedQuotes, 100, undefined, 'text/markdown'),
      'no recursion on nesting',
    ),
    c(
      '1000 levels of nested lists (Markdown)',
      'base',
      'lists',
      json({ doc_id: 'lists', text: nestedLists, content_type: 'text/markdown' }),
      ok('lists', nestedLists, 1, undefined, 'text/markdown'),
      'no recursion on nesting',
    ),
    c(
      '1 MB line, no whitespace (bert)',
      'base',
      'mb-bert',
      json({ doc_id: 'mb-bert', text: oneMbLine }),
      dl('OUTPUT_TOO_LARGE'),
      'WordPiece makes the 1 MB word one [UNK] token: one 1 MB chunk, over 1000000 bytes',
    ),
    c('tombstone with a null key', 'base', null, null, dl('MISSING_KEY'), 'nothing says which document'),
    c('tombstone with a key', 'base', 'gone', null, { kind: 'deleted', docId: 'gone' }, 'a deleted manifest'),
    c(
      'text over CHUNKLINE_MAX_DOC_BYTES',
      'limits',
      'big',
      json({ doc_id: 'big', text: 'word '.repeat(30_000) }),
      dl('TEXT_TOO_LARGE'),
      '150000 bytes > 100000',
    ),
    c(
      'value over the decode bound (500 KB)',
      'limits',
      'huge',
      `{"doc_id":"huge","text":"${'a'.repeat(500_000)}"}`,
      { kind: 'dead-letter', errorClass: 'TEXT_TOO_LARGE', messageIncludes: 'not decoded' },
      'refused by size before decoding: > 4 x 100000 + 64 KiB',
    ),
    c(
      'chunks over CHUNKLINE_MAX_CHUNKS_PER_DOC',
      'limits',
      'many',
      json({ doc_id: 'many', text: manyChunks }),
      dl('TOO_MANY_CHUNKS'),
      '40000 tokens at 1024 a chunk: ~40 > 20',
    ),
    c(
      'output over CHUNKLINE_MAX_MESSAGE_BYTES',
      'limits',
      'wide',
      json({ doc_id: 'wide', text: longParagraph }),
      dl('OUTPUT_TOO_LARGE'),
      'one 3000-byte chunk > 2000',
    ),
    c(
      '1 MB line, no whitespace (qwen3)',
      'bpe',
      'mb-bpe',
      json({ doc_id: 'mb-bpe', text: oneMbLine }),
      ok('mb-bpe', oneMbLine, 500),
      'byte-level BPE cuts it into ~1000 chunks',
    ),
  ];
}
