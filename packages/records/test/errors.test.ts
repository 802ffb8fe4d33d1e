/** Every decode failure class gives its typed error, naming what failed. */
import { describe, expect, it } from 'vitest';
import {
  chunkCodec,
  decodeRawDocument,
  isRecordError,
  rawDocumentCodec,
  SchemaRegistryClient,
  type RawDocumentRecord,
} from '@chunkline/records';

const DOC: RawDocumentRecord = {
  doc_id: 'd1',
  version: null,
  text: 'héllo',
  content_type: 'text/plain',
  source: null,
  metadata: {},
  event_time: null,
};

async function failure(
  p: Promise<unknown> | (() => unknown),
): Promise<{ code: string; message: string; field?: string }> {
  try {
    if (typeof p === 'function') p();
    else await p;
  } catch (e) {
    if (isRecordError(e)) return { code: e.code, message: e.message, field: e.field };
    throw e;
  }
  throw new Error('no error');
}

describe('decode failures', () => {
  it('UNKNOWN_FRAMING: empty value and random bytes', async () => {
    expect((await failure(decodeRawDocument(Buffer.alloc(0)))).code).toBe('UNKNOWN_FRAMING');
    const random = await failure(decodeRawDocument(Buffer.from([0x9f, 0x42, 0x13])));
    expect(random).toMatchObject({ code: 'UNKNOWN_FRAMING' });
    expect(random.message).toContain('9f42');
  });

  it('UNKNOWN_FINGERPRINT: single-object encoding of a schema we do not know', async () => {
    const so = rawDocumentCodec.encodeSingleObject(DOC);
    so.writeBigUInt64LE(0x1234567890abcdefn, 2);
    const f = await failure(decodeRawDocument(so));
    expect(f.code).toBe('UNKNOWN_FINGERPRINT');
    expect(f.message).toContain('1234567890abcdef');
  });

  it('UNKNOWN_SCHEMA_ID: registry framing with no registry configured', async () => {
    const f = await failure(decodeRawDocument(rawDocumentCodec.encodeRegistry(42, DOC)));
    expect(f.code).toBe('UNKNOWN_SCHEMA_ID');
    expect(f.message).toContain('42');
  });

  it('TRUNCATED: a record cut short, and framing headers cut short', async () => {
    const so = rawDocumentCodec.encodeSingleObject(DOC);
    expect((await failure(decodeRawDocument(so.subarray(0, so.length - 3)))).code).toBe('TRUNCATED');
    expect((await failure(decodeRawDocument(so.subarray(0, 5)))).code).toBe('TRUNCATED');
    expect((await failure(() => chunkCodec.decode(Buffer.from([0x02])))).code).toBe('TRUNCATED');
  });

  it('TRAILING_BYTES: bytes after the record', async () => {
    const so = Buffer.concat([rawDocumentCodec.encodeSingleObject(DOC), Buffer.from([1, 2, 3])]);
    expect((await failure(decodeRawDocument(so))).code).toBe('TRAILING_BYTES');
  });

  it('WRONG_TYPE: Avro of another record type, and encoding an invalid value', async () => {
    const chunkLike = chunkCodec.encodeSingleObject({
      chunk_id: 'c',
      doc_id: 'd',
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
      tokenizer: 'x',
      chunker_fingerprint: 'f',
      source: null,
      content_type: 'text/plain',
      metadata: {},
    });
    const f = await failure(decodeRawDocument(chunkLike));
    expect(f.code).toBe('WRONG_TYPE');
    expect(f.message).toContain('chunk');
    const bad = await failure(() => rawDocumentCodec.encode({ ...DOC, text: 5 as unknown as string }));
    expect(bad).toMatchObject({ code: 'WRONG_TYPE', field: 'text' });
  });

  it('INVALID_JSON: not JSON, or not an object', async () => {
    expect((await failure(decodeRawDocument(Buffer.from('{"doc_id": ')))).code).toBe('INVALID_JSON');
    expect((await failure(decodeRawDocument(Buffer.from(' {]')))).code).toBe('INVALID_JSON');
  });

  it.each([
    ['{"text":"t"}', 'doc_id', 'is missing'],
    ['{"doc_id":7,"text":"t"}', 'doc_id', 'string'],
    ['{"doc_id":"","text":"t"}', 'doc_id', 'non-empty'],
    ['{"doc_id":"d","text":5}', 'text', 'string'],
    ['{"doc_id":"d"}', 'text', 'is missing'],
    ['{"doc_id":"d","text":"t","metadata":{"a":1}}', 'metadata.a', 'string'],
    ['{"doc_id":"d","text":"t","surprise":1}', '(record)', 'surprise'],
  ])('INVALID_FIELD names the field: %s', async (json, field, words) => {
    const f = await failure(decodeRawDocument(Buffer.from(json)));
    expect(f.code).toBe('INVALID_FIELD');
    expect(f.field).toBe(field);
    expect(f.message).toContain(words);
  });

  it('INVALID_UTF8: in JSON bytes and in an Avro string', async () => {
    const json = Buffer.concat([Buffer.from('{"doc_id":"d","text":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    expect((await failure(decodeRawDocument(json))).code).toBe('INVALID_UTF8');
    const lone = await failure(decodeRawDocument(Buffer.from('{"doc_id":"d","text":"a\\ud800b"}')));
    expect(lone).toMatchObject({ code: 'INVALID_UTF8', field: 'text' });
    const so = rawDocumentCodec.encodeSingleObject({ ...DOC, text: 'ab' });
    const at = so.indexOf(Buffer.from('ab'));
    so[at] = 0xc3; // a lead byte followed by an ASCII byte: invalid UTF-8
    expect((await failure(decodeRawDocument(so))).code).toBe('INVALID_UTF8');
  });

  it('REGISTRY: an unreachable registry is a retriable failure', async () => {
    const registry = new SchemaRegistryClient({ url: 'http://127.0.0.1:9', timeoutMs: 2000 });
    try {
      await decodeRawDocument(rawDocumentCodec.encodeRegistry(1, DOC), { registry });
      throw new Error('no error');
    } catch (e) {
      expect(isRecordError(e) && e.code === 'REGISTRY' && e.retriable).toBe(true);
    }
  });
});
