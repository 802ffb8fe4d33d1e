/**
 * An Avro Object Container File written like {@link JsonlFileWriter}: to a hidden temporary file
 * beside the target, renamed over it on commit, so a failed run never leaves a file that looks finished.
 */
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { ContainerWriter, type RecordKind } from '@chunkline/records';
import type { OutputFormat } from './chunk-task.js';
import { JsonlFileWriter } from './jsonl-writer.js';

/** What the chunk command writes records through: records already encoded for the file's format. */
export interface RecordFileWriter {
  /** Appends records encoded by `encodeRecords` for this file's format (JSON lines, or Avro blocks). */
  writeEncoded(bytes: Uint8Array): Promise<void>;
  /**
   * From now on the records are written into the temporary file `path` by positional writes (the
   * chunking threads'), from `position` on (after an Avro header): resolves when what this writer
   * wrote is in the file. `writeEncoded` fails after this; `commit` still closes and renames the file.
   */
  positional(): Promise<{ path: string; position: number }>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

export class AvroFileWriter implements RecordFileWriter {
  private done = false;
  private handedOver = false;
  private constructor(
    readonly finalPath: string,
    private readonly tempPath: string,
    private readonly writer: ContainerWriter,
  ) {}

  static open(finalPath: string, kind: RecordKind): Promise<AvroFileWriter> {
    const tempPath = path.join(path.dirname(finalPath), `.${path.basename(finalPath)}.${process.pid}.partial`);
    return Promise.resolve(new AvroFileWriter(finalPath, tempPath, new ContainerWriter(tempPath, kind)));
  }

  writeEncoded(blocks: Uint8Array): Promise<void> {
    if (this.handedOver) return Promise.reject(new Error('the file is written by positional writes now'));
    return this.writer.writeBlocks(blocks);
  }

  async positional(): Promise<{ path: string; position: number }> {
    this.handedOver = true;
    return { path: this.tempPath, position: await this.writer.size() };
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

/** The format of an output file by its extension (checked by the argument parser): .avro, else JSON Lines. */
export function outputFormatOf(file: string): OutputFormat {
  return path.extname(file).toLowerCase() === '.avro' ? 'avro' : 'jsonl';
}

/** Opens a writer for `file`, Avro or JSON Lines by its extension. */
export function openRecordWriter(file: string, kind: RecordKind): Promise<RecordFileWriter> {
  return outputFormatOf(file) === 'avro' ? AvroFileWriter.open(file, kind) : JsonlFileWriter.open(file);
}
