/**
 * Avro Object Container Files (the Avro spec's file format) of chunkline records, deflate-compressed.
 * The 16-byte sync marker is derived from the schema, not random, so that the same records give a
 * byte-identical file (determinism, DESIGN G7).
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import avro from 'avsc';
import type { RecordKind } from './schemas.js';
import { latestSchema } from './schemas.js';

/** Writes records of one kind to an Avro container file; `write` honours backpressure. */
export class ContainerWriter<T> {
  private readonly encoder: avro.streams.BlockEncoder;
  private readonly done: Promise<unknown>;
  private failure: Error | undefined;

  constructor(path: string, kind: RecordKind) {
    const schema = latestSchema(kind);
    const syncMarker = createHash('sha256').update(`chunkline\0${schema.canonical}`).digest().subarray(0, 16);
    this.encoder = new avro.streams.BlockEncoder(schema.schema, {
      codec: 'deflate',
      syncMarker,
      wrapUnions: 'auto',
    } as never);
    // The file stream's own end, not the encoder's 'finish': the encoder finishes when it has taken
    // the last record, before its blocks reach the file (a file renamed then could still be short).
    const file = createWriteStream(path);
    this.encoder.on('error', (e: Error) => {
      this.failure = e;
      file.destroy(e);
    });
    file.on('error', (e: Error) => {
      this.failure ??= e;
    });
    this.encoder.pipe(file);
    this.done = finished(file).catch((e: unknown) => {
      this.failure ??= e instanceof Error ? e : new Error(String(e));
    });
  }

  /** Appends one record; resolves when the stream can take more. */
  async write(record: T): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    if (!this.encoder.write(record)) await once(this.encoder, 'drain');
  }

  /** Flushes and closes the file. */
  async close(): Promise<void> {
    this.encoder.end();
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
