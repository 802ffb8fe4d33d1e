/**
 * Avro encodings of one record kind: plain binary, single-object encoding (Avro spec: marker C3 01,
 * then the writer schema's CRC-64-AVRO fingerprint, little-endian, then the binary), and Confluent
 * Schema Registry framing (magic byte 0, a 4-byte big-endian schema id, then the binary).
 */
import type avro from 'avsc';
import { RecordError } from './errors.js';
import { fingerprintBytes } from './rabin.js';
import { latestSchema, schemaByFingerprint, type RecordKind, type SchemaVersion } from './schemas.js';

/** First two bytes of Avro single-object encoding. */
export const SINGLE_OBJECT_MARKER = Buffer.from([0xc3, 0x01]);
/** First byte of Confluent Schema Registry framing. */
export const REGISTRY_MAGIC = 0;

/** How a value's bytes are framed. */
export type Framing = 'single-object' | 'registry' | 'json';

/** The framing the first bytes announce, or undefined. JSON: optional whitespace, then `{`. */
export function detectFraming(buf: Uint8Array): Framing | undefined {
  if (buf.length >= 2 && buf[0] === 0xc3 && buf[1] === 0x01) return 'single-object';
  if (buf.length >= 1 && buf[0] === REGISTRY_MAGIC) return 'registry';
  for (const b of buf) {
    if (b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d) continue;
    return b === 0x7b ? 'json' : undefined;
  }
  return undefined;
}

const resolvers = new Map<string, avro.Resolver>();

/** Reads `buf` written with `writer` as the newest schema of `kind`, with Avro schema resolution. */
export function decodeWith<T>(kind: RecordKind, writer: avro.Type, buf: Uint8Array, what: string): T {
  const reader = latestSchema(kind).type;
  let resolver: avro.Resolver | undefined;
  if (writer !== reader) {
    const key = `${kind}\0${JSON.stringify(writer.schema())}`;
    resolver = resolvers.get(key);
    if (resolver === undefined) {
      try {
        resolver = reader.createResolver(writer);
      } catch (cause) {
        throw new RecordError(
          'WRONG_TYPE',
          `${what}: writer schema ${writer.name ?? 'unnamed'} cannot be read as ${kind}`,
          { cause },
        );
      }
      resolvers.set(key, resolver);
    }
  }
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const { value, offset } = resolver === undefined ? reader.decode(b, 0) : reader.decode(b, 0, resolver);
  if (offset < 0)
    throw new RecordError('TRUNCATED', `${what}: the bytes end before the ${kind} record does (${b.length} bytes)`);
  if (offset !== b.length) {
    throw new RecordError('TRAILING_BYTES', `${what}: ${b.length - offset} bytes left after the ${kind} record`);
  }
  checkUtf8(writer, value, b, what);
  return value as T;
}

/**
 * Avro strings are UTF-8, but avsc decodes invalid sequences to U+FFFD silently. When a decoded value
 * holds U+FFFD, re-encoding it must give the same bytes, or the input had invalid UTF-8.
 */
function checkUtf8(writer: avro.Type, value: unknown, buf: Buffer, what: string): void {
  if (!JSON.stringify(value).includes('\ufffd')) return;
  if (!writer.toBuffer(value).equals(buf)) {
    throw new RecordError('INVALID_UTF8', `${what}: a string field is not valid UTF-8`);
  }
}

/** Codec for one record kind, writing its newest schema. */
export class RecordCodec<T> {
  readonly schema: SchemaVersion;
  constructor(readonly kind: RecordKind) {
    this.schema = latestSchema(kind);
  }

  /** Plain Avro binary (no framing). Throws WRONG_TYPE naming the first bad field. */
  encode(value: T): Buffer {
    const errors: string[] = [];
    if (!this.schema.type.isValid(value, { errorHook: (path) => errors.push(path.join('.')) })) {
      throw new RecordError('WRONG_TYPE', `not a valid ${this.kind} record: bad field ${errors[0] ?? '?'}`, {
        field: errors[0],
      });
    }
    return this.schema.type.toBuffer(value);
  }

  /** Plain Avro binary written with this kind's newest schema. */
  decode(buf: Uint8Array): T {
    return decodeWith<T>(this.kind, this.schema.type, buf, `${this.kind} binary`);
  }

  /** Avro single-object encoding. */
  encodeSingleObject(value: T): Buffer {
    return Buffer.concat([SINGLE_OBJECT_MARKER, fingerprintBytes(this.schema.fingerprint), this.encode(value)]);
  }

  /** Reads single-object encoding written with any known version of this kind. */
  decodeSingleObject(buf: Uint8Array): T {
    if (buf.length < 10 || buf[0] !== 0xc3 || buf[1] !== 0x01) {
      throw new RecordError(
        buf.length < 10 && buf[0] === 0xc3 ? 'TRUNCATED' : 'UNKNOWN_FRAMING',
        'not Avro single-object encoding (C3 01 + 8-byte fingerprint)',
      );
    }
    const fp = Buffer.from(buf.buffer, buf.byteOffset + 2, 8).readBigUInt64LE();
    const writer = schemaByFingerprint(fp);
    if (writer === undefined) {
      throw new RecordError(
        'UNKNOWN_FINGERPRINT',
        `unknown schema fingerprint ${fp.toString(16).padStart(16, '0')} in single-object encoding`,
      );
    }
    if (writer.kind !== this.kind) {
      throw new RecordError(
        'WRONG_TYPE',
        `single-object encoding of a ${writer.kind} (v${writer.version}), expected ${this.kind}`,
      );
    }
    return decodeWith<T>(this.kind, writer.type, buf.subarray(10), `${this.kind} single-object`);
  }

  /** Confluent framing with the id the registry gave this kind's schema. */
  encodeRegistry(schemaId: number, value: T): Buffer {
    const head = Buffer.alloc(5);
    head.writeUInt8(REGISTRY_MAGIC, 0);
    head.writeUInt32BE(schemaId, 1);
    return Buffer.concat([head, this.encode(value)]);
  }
}

/** Reads the schema id of Confluent framing. */
export function registrySchemaId(buf: Uint8Array): number {
  if (buf.length < 5 || buf[0] !== REGISTRY_MAGIC) {
    throw new RecordError(
      buf.length < 5 && buf[0] === REGISTRY_MAGIC ? 'TRUNCATED' : 'UNKNOWN_FRAMING',
      'not Schema Registry framing (magic 0 + 4-byte id)',
    );
  }
  return Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).readUInt32BE(1);
}
