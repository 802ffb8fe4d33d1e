/**
 * Record contract v1 in TypeScript. The field lists below are checked two ways so code and schemas
 * cannot drift: the compiler fails if a record type gains a field not listed here, and
 * test/contract.test.ts fails if a list differs from its schema in `schemas/`.
 */
import type { ChunkRecord, DocumentInput, DocumentManifest, SectionRecord } from '@chunkline/chunking';
import { decodeWith, detectFraming, RecordCodec, registrySchemaId } from './codec.js';
import { RecordError } from './errors.js';
import { decodeRawDocumentJson } from './json.js';
import type { SchemaRegistryClient } from './registry.js';

/** RawDocument record v1, field names as in schemas/raw-document. */
export interface RawDocumentRecord {
  doc_id: string;
  version: string | null;
  text: string;
  content_type: string;
  source: string | null;
  metadata: Record<string, string>;
  /** Milliseconds since the Unix epoch (timestamp-millis), or null. */
  event_time: number | null;
}

/** Fails to compile unless `L` lists every key of `T`. */
type Exhaustive<T, L extends readonly (keyof T)[]> = Exclude<keyof T, L[number]> extends never ? L : never;

function fields<T>() {
  return <const L extends readonly (keyof T)[]>(list: Exhaustive<T, L>): readonly string[] => list as readonly string[];
}

/** Field names of each record type, in schema order. */
export const FIELDS = {
  'raw-document': fields<RawDocumentRecord>()([
    'doc_id',
    'version',
    'text',
    'content_type',
    'source',
    'metadata',
    'event_time',
  ]),
  chunk: fields<ChunkRecord>()([
    'chunk_id',
    'doc_id',
    'doc_version',
    'chunk_index',
    'chunk_count',
    'text',
    'char_start',
    'char_end',
    'byte_start',
    'byte_end',
    'token_start',
    'token_end',
    'num_tokens',
    'overlap_tokens',
    'strategy',
    'heading_path',
    'tokenizer',
    'chunker_fingerprint',
    'source',
    'content_type',
    'metadata',
    'parent_id',
  ]),
  section: fields<SectionRecord>()([
    'section_id',
    'doc_id',
    'doc_version',
    'section_index',
    'section_count',
    'parent_id',
    'level',
    'part',
    'heading_path',
    'text',
    'char_start',
    'char_end',
    'byte_start',
    'byte_end',
    'token_start',
    'token_end',
    'num_tokens',
    'tokenizer',
    'chunker_fingerprint',
    'source',
    'content_type',
    'metadata',
  ]),
  manifest: fields<DocumentManifest>()([
    'doc_id',
    'doc_version',
    'chunk_ids',
    'chunk_count',
    'total_tokens',
    'deleted',
    'chunker_fingerprint',
    'section_ids',
  ]),
} as const;

/** Codecs writing the newest schema of each kind. */
export const rawDocumentCodec = new RecordCodec<RawDocumentRecord>('raw-document');
export const chunkCodec = new RecordCodec<ChunkRecord>('chunk');
export const manifestCodec = new RecordCodec<DocumentManifest>('manifest');
export const sectionCodec = new RecordCodec<SectionRecord>('section');

/**
 * Decodes a RawDocument value from Kafka, detecting the framing from its first bytes: Schema Registry
 * (needs `registry`), Avro single-object encoding, or a JSON object.
 */
export async function decodeRawDocument(
  value: Uint8Array,
  options: { registry?: SchemaRegistryClient } = {},
): Promise<RawDocumentRecord> {
  switch (detectFraming(value)) {
    case 'json':
      return decodeRawDocumentJson(value);
    case 'single-object':
      return rawDocumentCodec.decodeSingleObject(value);
    case 'registry': {
      const id = registrySchemaId(value);
      if (options.registry === undefined) {
        throw new RecordError(
          'UNKNOWN_SCHEMA_ID',
          `Schema Registry framing (schema id ${id}) but no registry is configured`,
        );
      }
      const writer = await options.registry.typeById(id);
      return decodeWith<RawDocumentRecord>(
        'raw-document',
        writer,
        value.subarray(5),
        `raw-document (registry id ${id})`,
      );
    }
    default:
      throw new RecordError(
        'UNKNOWN_FRAMING',
        value.length === 0
          ? 'empty value (a tombstone has a null value, not an empty one)'
          : `value starts with 0x${Buffer.from(value.subarray(0, 2)).toString('hex')}: not registry framing (00), single-object (C3 01) or JSON ({)`,
      );
  }
}

/** The chunker's input for a RawDocument. */
export function toDocumentInput(doc: RawDocumentRecord): DocumentInput {
  return {
    docId: doc.doc_id,
    version: doc.version,
    text: doc.text,
    contentType: doc.content_type,
    source: doc.source,
    metadata: doc.metadata,
  };
}
