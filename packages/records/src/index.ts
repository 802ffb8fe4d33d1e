/**
 * @chunkline/records: the Avro record contract (schemas in `schemas/`): plain binary, single-object
 * encoding, Schema Registry framing, container files, RawDocument JSON, and schema evolution checks.
 */
export {
  FIELDS,
  chunkCodec,
  manifestCodec,
  sectionCodec,
  rawDocumentCodec,
  decodeRawDocument,
  toDocumentInput,
  type RawDocumentRecord,
} from './contract.js';
export { RecordCodec, detectFraming, registrySchemaId, SINGLE_OBJECT_MARKER, type Framing } from './codec.js';
export { decodeRawDocumentJson } from './json.js';
export { ContainerWriter, encodeContainerBlocks, readContainer } from './container.js';
export { SchemaRegistryClient, topicSubject, type SchemaRegistryOptions } from './registry.js';
export {
  RECORD_KINDS,
  SCHEMAS_DIR,
  latestSchema,
  schemaVersions,
  schemaByFingerprint,
  describeSchema,
  type RecordKind,
  type SchemaVersion,
} from './schemas.js';
export { checkEvolution, type EvolutionProblem } from './evolution.js';
export { crc64Avro, fingerprintBytes } from './rabin.js';
export { RecordError, isRecordError, type RecordErrorCode } from './errors.js';
