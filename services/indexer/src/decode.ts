/**
 * Decoding Chunk and DocumentManifest values as the worker writes them: Avro single-object encoding,
 * or Schema Registry framing when a registry is configured.
 */
import type { ChunkRecord, DocumentManifest } from '@chunkline/chunking';
import {
  chunkCodec,
  detectFraming,
  latestSchema,
  manifestCodec,
  RecordError,
  registrySchemaId,
  type RecordCodec,
  type SchemaRegistryClient,
} from '@chunkline/records';

/** Decodes the values of both output topics. */
export interface ValueDecoder {
  chunk(value: Buffer): Promise<ChunkRecord>;
  manifest(value: Buffer): Promise<DocumentManifest>;
}

async function decodeWith<T>(
  codec: RecordCodec<T>,
  value: Buffer,
  registry: SchemaRegistryClient | undefined,
): Promise<T> {
  if (detectFraming(value) !== 'registry') return codec.decodeSingleObject(value);
  const id = registrySchemaId(value);
  if (registry === undefined) {
    throw new RecordError(
      'UNKNOWN_SCHEMA_ID',
      `Schema Registry framing (schema id ${id}) but no registry is configured`,
    );
  }
  const writer = await registry.typeById(id);
  const reader = latestSchema(codec.kind).type;
  const body = value.subarray(5);
  const decoded = writer.equals(reader)
    ? reader.decode(body, 0)
    : reader.decode(body, 0, reader.createResolver(writer));
  if (decoded.offset !== body.length) {
    throw new RecordError('TRAILING_BYTES', `${codec.kind} (registry id ${id}): the record does not fill the value`);
  }
  return decoded.value as T;
}

/** A decoder for single-object encoding, and registry framing when `registry` is given. */
export function createValueDecoder(registry?: SchemaRegistryClient): ValueDecoder {
  return {
    chunk: (value) => decodeWith(chunkCodec, value, registry),
    manifest: (value) => decodeWith(manifestCodec, value, registry),
  };
}
