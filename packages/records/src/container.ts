/**
 * Avro Object Container Files (the Avro spec's file format) of chunkline records, deflate-compressed.
 * The 16-byte sync marker is derived from the schema, not random, so that the same records give a
 * byte-identical file (determinism, DESIGN G7).
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import avro from 'avsc';
import type { RecordKind } from './schemas.js';
import { latestSchema } from './schemas.js';

/** An encoder of one kind's container files; every encoder of a kind uses the same schema, codec and sync marker. */
function blockEncoder(kind: RecordKind, header: boolean): avro.streams.BlockEncoder {
  const schema = latestSchema(kind);
  const syncMarker = createHash('sha256').update(`chunkline\0${schema.canonical}`).digest().subarray(0, 16);
  return new avro.streams.BlockEncoder(schema.schema, {
    codec: 'deflate',
    syncMarker,
    wrapUnions: 'auto',
    writeHeader: header ? 'always' : 'never',
  } as never);
}

/**
 * Everything a `kind` encoder outputs for `records`, as one Uint8Array with an ArrayBuffer of its own.
 * A record that does not fit the schema rejects (avsc's 'typeError', which it turns into 'error').
 */
async function encodeAll(
  kind: RecordKind,
  header: boolean,
  records: readonly unknown[],
): Promise<Uint8Array<ArrayBuffer>> {
  const encoder = blockEncoder(kind, header);
  const parts: Buffer[] = [];
  encoder.on('data', (b: Buffer) => parts.push(b));
  const ended = new Promise<void>((resolve, reject) => {
    encoder.on('end', resolve);
    encoder.on('error', (err: Error) =>
      reject(new TypeError(`a ${kind} record does not fit its schema: ${err.message}`)),
    );
  });
  for (const record of records) encoder.write(record);
  encoder.end();
  await ended;
  const out = new Uint8Array(parts.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of parts) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

/**
 * Encodes records of one kind as the data blocks of a container file, without its header: bytes that a
 * {@link ContainerWriter} of the same kind appends. Blocks are independent, so they can be made apart
 * (e.g. on other threads) and appended in order. Rejects if a record does not fit the schema.
 */
export function encodeContainerBlocks(kind: RecordKind, records: readonly unknown[]): Promise<Uint8Array<ArrayBuffer>> {
  return encodeAll(kind, false, records);
}

/**
 * Writes an Avro container file of one kind: the header when opened, then blocks from
 * {@link encodeContainerBlocks}. `writeBlocks` honours backpressure.
 */
export class ContainerWriter {
  private readonly file: WriteStream;
  private readonly done: Promise<unknown>;
  private readonly header: Promise<void>;
  private failure: Error | undefined;

  constructor(path: string, kind: RecordKind) {
    this.file = createWriteStream(path);
    this.file.on('error', (e: Error) => {
      this.failure ??= e;
    });
    this.done = finished(this.file).catch((e: unknown) => {
      this.failure ??= e instanceof Error ? e : new Error(String(e));
    });
    this.header = encodeAll(kind, true, []).then((bytes) => this.append(bytes));
    this.header.catch(() => undefined); // awaited by writeBlocks and close, which throw it
  }

  /** Appends blocks of this file's kind (after the header); resolves when the file can take more. */
  async writeBlocks(blocks: Uint8Array): Promise<void> {
    await this.header;
    await this.append(blocks);
  }

  private async append(bytes: Uint8Array): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    if (!this.file.write(bytes)) await once(this.file, 'drain');
  }

  /**
   * Resolves, once every byte appended so far is in the file, with their count: where blocks written
   * into the file by other means (positional writes, e.g. from other threads) may start.
   */
  async size(): Promise<number> {
    await this.header;
    if (this.failure !== undefined) throw this.failure;
    await new Promise<void>((resolve, reject) => {
      this.file.write(new Uint8Array(0), (err) => (err ? reject(err) : resolve()));
    });
    return this.file.bytesWritten;
  }

  /** Flushes and closes the file; resolves when every byte is in it. */
  async close(): Promise<void> {
    await this.header;
    this.file.end();
    await this.done;
    if (this.failure !== undefined) throw this.failure;
  }
}

/** Reads every record of a container file with its own writer schema (like avro-tools tojson). */
export async function* readContainer(path: string): AsyncGenerator<unknown> {
  const decoder = createReadStream(path).pipe(
    new avro.streams.BlockDecoder({
      parseHook: (s: avro.Schema) => avro.Type.forSchema(s, { wrapUnions: 'auto' }),
    } as never),
  );
  for await (const record of decoder) yield record;
}
