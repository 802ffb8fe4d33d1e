/**
 * A JSON Lines file written as a stream, with backpressure, that appears at its final path only when
 * it is complete: records go to a hidden temporary file beside it, renamed over the target on
 * {@link JsonlFileWriter.commit}. A crash or a fatal error never leaves a half-written file that looks
 * like a finished one.
 */
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { finished } from 'node:stream/promises';

/** Bytes buffered before `write` waits for the disk (the stream's high-water mark). */
const BUFFER_BYTES = 1 << 20;

/**
 * A record as one line of a JSON Lines file, key order as in `record`: what every JSON Lines output and
 * `chunkline inspect` print, so that they agree byte for byte.
 */
export function jsonLine(record: unknown): string {
  return `${JSON.stringify(record)}\n`;
}

export class JsonlFileWriter {
  /** Set by the stream's 'error' event; every later call rethrows it. */
  private failure: Error | undefined;
  private closed = false;
  private handedOver = false;

  private constructor(
    /** The file the user asked for. */
    readonly finalPath: string,
    private readonly tempPath: string,
    private readonly stream: WriteStream,
  ) {
    // A permanent listener, so an error while nobody awaits is kept rather than crashing the process.
    stream.on('error', (err) => {
      this.failure ??= err;
    });
  }

  /** Creates the temporary file next to `finalPath`; rejects if it cannot be created. */
  static async open(finalPath: string): Promise<JsonlFileWriter> {
    // A dotfile: folder walks skip it, so a rerun over the same folder never reads it as input.
    const tempPath = path.join(path.dirname(finalPath), `.${path.basename(finalPath)}.${process.pid}.partial`);
    const stream = createWriteStream(tempPath, { highWaterMark: BUFFER_BYTES });
    await once(stream, 'ready'); // rejects with the open error (ENOENT, EACCES…)
    return new JsonlFileWriter(finalPath, tempPath, stream);
  }

  /** Appends one record as a line of JSON ({@link jsonLine}); waits when the buffer is full. */
  write(record: unknown): Promise<void> {
    return this.append(jsonLine(record));
  }

  /** Appends lines already encoded (UTF-8 JSON lines, each ending in a newline). */
  writeEncoded(lines: Uint8Array): Promise<void> {
    return this.append(lines);
  }

  private async append(data: string | Uint8Array): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.handedOver) throw new Error('the file is written by positional writes now');
    if (!this.stream.write(data)) {
      // once() rejects if 'error' is emitted while waiting, so this cannot hang on a dead stream.
      await once(this.stream, 'drain');
    }
  }

  /** See RecordFileWriter.positional (avro-writer.ts). */
  async positional(): Promise<{ path: string; position: number }> {
    if (this.failure) throw this.failure;
    this.handedOver = true;
    await new Promise<void>((resolve, reject) => {
      this.stream.write(new Uint8Array(0), (err) => (err ? reject(err) : resolve()));
    });
    return { path: this.tempPath, position: this.stream.bytesWritten };
  }

  /** Flushes, closes, and moves the file to its final path. */
  async commit(): Promise<void> {
    if (this.failure) throw this.failure;
    this.closed = true;
    this.stream.end();
    await finished(this.stream);
    await rename(this.tempPath, this.finalPath);
  }

  /** Discards the temporary file. Safe to call after a failure, and more than once. */
  async abort(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.stream.destroy();
    }
    await rm(this.tempPath, { force: true });
  }
}
