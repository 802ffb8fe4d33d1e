/** The record processor and the failure classifier, without a broker. */
import { describe, expect, it } from 'vitest';
import { createChunker } from '@chunkline/chunking';
import { chunkCodec, decodeRawDocument, manifestCodec, RecordError, sectionCodec } from '@chunkline/records';
import {
  classify,
  compileWorkerOptions,
  PoisonRecordError,
  RecordProcessor,
  type InputMessage,
} from '@chunkline/runtime';
import { loadTokenizer } from '@chunkline/tokenizers';

const options = compileWorkerOptions({ groupId: 'g', maxDocBytes: 1000, maxChunksPerDoc: 5, maxMessageBytes: 100_000 });

async function processor(): Promise<RecordProcessor> {
  const tok = await loadTokenizer();
  const chunker = createChunker(tok, { maxTokens: 16 });
  return new RecordProcessor(
    options,
    chunker,
    {
      chunk: (r) => chunkCodec.encodeSingleObject(r),
      manifest: (r) => manifestCodec.encodeSingleObject(r),
      section: (r) => sectionCodec.encodeSingleObject(r),
    },
    (v) => decodeRawDocument(v),
  );
}

const msg = (key: string | null, value: string | Buffer | null): InputMessage => ({
  topic: 'in',
  partition: 3,
  offset: '42',
  key: key === null ? null : Buffer.from(key),
  value: value === null ? null : Buffer.from(value),
  headers: { h: 'v' },
});

describe('RecordProcessor', () => {
  it('chunks a document into chunk messages followed by its manifest, keyed by doc_id', async () => {
    const p = await processor();
    const r = await p.process(msg('d', JSON.stringify({ doc_id: 'd', text: 'Short text. Another sentence here.' })));
    expect(r.outcome).toBe('chunked');
    expect(r.messages.map((m) => m.topic)).toEqual([
      ...r.chunkTokens.map(() => 'documents.chunks'),
      'documents.manifests',
    ]);
    for (const m of r.messages) expect(m.key?.toString()).toBe('d');
    const manifest = manifestCodec.decodeSingleObject(r.messages.at(-1)!.value!);
    expect(manifest.chunk_ids).toHaveLength(r.chunkTokens.length);
  });

  it('turns a tombstone into a deleted manifest', async () => {
    const r = await (await processor()).process(msg('gone', null));
    expect(r.outcome).toBe('deleted');
    expect(manifestCodec.decodeSingleObject(r.messages[0]!.value!)).toMatchObject({
      doc_id: 'gone',
      deleted: true,
      chunk_count: 0,
    });
  });

  it.each([
    ['UNKNOWN_FRAMING', msg('k', Buffer.from([1, 2, 3]))],
    ['INVALID_FIELD', msg('k', '{"text":"t"}')],
    ['KEY_MISMATCH', msg('k', '{"doc_id":"other","text":"t"}')],
    ['MISSING_KEY', msg(null, '{"doc_id":"x","text":"t"}')],
    ['MISSING_KEY', msg(null, null)],
    ['TEXT_TOO_LARGE', msg('k', JSON.stringify({ doc_id: 'k', text: 'x'.repeat(1001) }))],
    ['TOO_MANY_CHUNKS', msg('k', JSON.stringify({ doc_id: 'k', text: 'word '.repeat(150) }))],
  ])('dead-letters %s with the original bytes and error headers', async (reason, m) => {
    const r = await (await processor()).process(m);
    expect(r).toMatchObject({ outcome: 'dead-lettered', reason });
    const dl = r.messages[0]!;
    expect(dl.topic).toBe('documents.dlq');
    expect(dl.key).toEqual(m.key);
    expect(dl.value).toEqual(m.value);
    expect(dl.headers).toMatchObject({
      h: 'v',
      'chunkline.error.class': reason,
      'chunkline.error.topic': 'in',
      'chunkline.error.partition': '3',
      'chunkline.error.offset': '42',
    });
  });
});

describe('classify', () => {
  it('sorts failures into poison, transient, fenced and fatal', () => {
    expect(classify(new PoisonRecordError('X', 'decode', 'bad'))).toBe('poison');
    expect(classify(new RecordError('TRUNCATED', 'cut'))).toBe('poison');
    expect(classify(new RecordError('REGISTRY', 'down', { retriable: true }))).toBe('transient');
    expect(classify(Object.assign(new Error('leader moved'), { name: 'KafkaJSProtocolError', retriable: true }))).toBe(
      'transient',
    );
    expect(
      classify(Object.assign(new Error('retries'), { name: 'KafkaJSNumberOfRetriesExceeded', retriable: false })),
    ).toBe('transient');
    expect(
      classify(Object.assign(new Error('fenced'), { name: 'KafkaJSProtocolError', type: 'PRODUCER_FENCED' })),
    ).toBe('fenced');
    expect(classify(Object.assign(new Error('auth'), { name: 'KafkaJSSASLAuthenticationError' }))).toBe('fatal');
    expect(classify(new TypeError('bug'))).toBe('fatal');
  });

  it('rejects bad worker options with a message that says what to change', () => {
    expect(() => compileWorkerOptions({ groupId: '' })).toThrow(/groupId/);
    expect(() => compileWorkerOptions({ groupId: 'g', chunkTopic: 'documents.raw' })).toThrow(/must all differ/);
    expect(() => compileWorkerOptions({ groupId: 'g', maxDocBytes: 0 })).toThrow(/maxDocBytes/);
  });
});
