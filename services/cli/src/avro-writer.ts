/**
 * An Avro Object Container File written like {@link JsonlFileWriter}: to a hidden temporary file
 * beside the target, renamed over it on commit, so a failed run never leaves a file that looks finished.
 */
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { ContainerWriter, type RecordKind } from '@chunkline/records';
import { JsonlFileWriter } from './jsonl-writer.js';

/** What the chunk command writes records through. */
export interface RecordFileWriter {
  write(record: unknown): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

export class AvroFileWriter implements RecordFileWriter {
  private done = false;
  private constructor(
    readonly finalPath: string,
    private readonly tempPath: string,
    private readonly writer: ContainerWriter<unknown>,
  ) {}

  static open(finalPath: string, kind: RecordKind): Promise<AvroFileWriter> {
    const tempPath = path.join(path.dirname(finalPath), `.${path.basename(finalPath)}.${process.pid}.partial`);
    return Promise.resolve(new AvroFileWriter(finalPath, tempPath, new ContainerWriter(tempPath, kind)));
  }

  write(record: unknown): Promise<void> {
    return this.writer.write(record);
  }

  async commit(): Promise<void> {
    this.done = true;
    await this.writer.close();
    await rename(this.tempPath, this.finalPath);
  }

  async abort(): Promise<void> {
    if (!this.done) {
      this.done = true;
      await this.writer.close().catch(() => undefined); // the file is removed below either way
    }
    await rm(this.tempPath, { force: true });
  }
}

/** Opens a writer for `file`, Avro or JSON Lines by its extension (checked by the argument parser). */
export function openRecordWriter(file: string, kind: RecordKind): Promise<RecordFileWriter> {
  return path.extname(file).toLowerCase() === '.avro' ? AvroFileWriter.open(file, kind) : JsonlFileWriter.open(file);
}
