/** The TypeScript record types, the schemas in schemas/ and the codecs agree; round trips in every framing. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createChunker } from '@chunkline/chunking';
import {
  FIELDS,
  RECORD_KINDS,
  chunkCodec,
  decodeRawDocument,
  latestSchema,
  manifestCodec,
  rawDocumentCodec,
  sectionCodec,
  fingerprintBytes,
  schemaVersions,
  type RecordCodec,
} from '@chunkline/records';
import { loadTokenizer } from '@chunkline/tokenizers';
import * as arb from './arbitraries.js';

interface FieldSchema {
  name: string;
  doc?: string;
}

describe('schemas', () => {
  it.each(RECORD_KINDS)('%s: the TypeScript field list equals the schema fields, in order', (kind) => {
    const fields = (latestSchema(kind).schema as { fields: FieldSchema[] }).fields.map((f) => f.name);
    expect(fields).toEqual([...FIELDS[kind]]);
  });

  it.each(RECORD_KINDS)('%s: every version, record and field has a doc; namespace chunkline', (kind) => {
    for (const v of schemaVersions(kind)) {
      const s = v.schema as { namespace: string; doc?: string; fields: FieldSchema[] };
      expect(s.namespace).toBe('chunkline');
      expect(s.doc?.length).toBeGreaterThan(10);
      for (const f of s.fields) expect(f.doc?.length, `${kind} v${v.version} ${f.name}`).toBeGreaterThan(5);
    }
  });

  it('documents units: code points, UTF-8 bytes and tokens', () => {
    const docs = Object.fromEntries(
      (latestSchema('chunk').schema as { fields: FieldSchema[] }).fields.map((f) => [f.name, f.doc ?? '']),
    );
    expect(docs.char_start).toMatch(/code point/);
    expect(docs.byte_start).toMatch(/byte.*UTF-8/);
    expect(docs.token_start).toMatch(/token/);
  });

  it('real chunker output is valid for the Chunk and DocumentManifest schemas', async () => {
    const tok = await loadTokenizer();
    const r = createChunker(tok, { maxTokens: 16 }).chunk({
      docId: 'd',
      text: '# T\n\nSome text. More text here for chunks. 😀 ünïcödé.',
      contentType: 'text/markdown',
      metadata: { a: 'b' },
    });
    for (const c of r.chunks) expect(latestSchema('chunk').type.isValid(c)).toBe(true);
    expect(latestSchema('manifest').type.isValid(r.manifest)).toBe(true);
    expect(chunkCodec.decode(chunkCodec.encode(r.chunks[0]!))).toEqual(r.chunks[0]);
  });
});

function roundTrips<T>(name: string, codec: RecordCodec<T>, gen: fc.Arbitrary<T>): void {
  it(`${name}: binary, single-object and registry framing round-trip`, () => {
    fc.assert(
      fc.property(gen, fc.integer({ min: 1, max: 2 ** 31 - 1 }), (value, id) => {
        expect(codec.decode(codec.encode(value))).toEqual(value);
        expect(codec.decodeSingleObject(codec.encodeSingleObject(value))).toEqual(value);
        const framed = codec.encodeRegistry(id, value);
        expect(framed[0]).toBe(0);
        expect(framed.readUInt32BE(1)).toBe(id);
        expect(codec.decode(framed.subarray(5))).toEqual(value);
      }),
      { numRuns: 200 },
    );
  });
}

describe('round trips', () => {
  roundTrips('RawDocument', rawDocumentCodec, arb.rawDocument);
  roundTrips('Chunk', chunkCodec, arb.chunk);
  roundTrips('DocumentManifest', manifestCodec, arb.manifest);
  roundTrips('Section', sectionCodec, arb.section);

  it('reads Chunk and DocumentManifest v1 single-object data with the v2 schemas (new fields take defaults)', () => {
    for (const [kind, codec, value, added] of [
      ['chunk', chunkCodec, fc.sample(arb.chunk, { numRuns: 1, seed: 1 })[0]!, { parent_id: null }],
      ['manifest', manifestCodec, fc.sample(arb.manifest, { numRuns: 1, seed: 1 })[0]!, { section_ids: [] }],
    ] as const) {
      const v1 = schemaVersions(kind)[0]!;
      const old = Object.fromEntries(Object.entries(value).filter(([k]) => !(k in added)));
      const bytes = Buffer.concat([Buffer.from([0xc3, 0x01]), fingerprintBytes(v1.fingerprint), v1.type.toBuffer(old)]);
      expect((codec as RecordCodec<unknown>).decodeSingleObject(bytes)).toEqual({ ...old, ...added });
    }
  });

  it('RawDocument decodes from JSON and single-object framing alike', async () => {
    await fc.assert(
      fc.asyncProperty(arb.rawDocument, async (doc) => {
        expect(await decodeRawDocument(Buffer.from(JSON.stringify(doc)))).toEqual(doc);
        expect(await decodeRawDocument(rawDocumentCodec.encodeSingleObject(doc))).toEqual(doc);
      }),
      { numRuns: 200 },
    );
  });
});
