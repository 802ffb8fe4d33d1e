/**
 * Reading the record files the context and needle commands take: Chunk records as JSON Lines or an
 * Avro container file (by extension, as `chunk --out` writes them), and plain JSON Lines files (scores,
 * needle manifests). Records are streamed; a bad one is a {@link FileError} naming the flag, the
 * file and the line (or record number, for Avro).
 */
import { createReadStream } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import type { ChunkRecord } from '@chunkline/chunking';
import { readContainer } from '@chunkline/records';
import { FileError, UsageError } from './usage.js';

/** One record read from a file, with where it was, for messages. */
export interface LocatedRecord {
  readonly record: unknown;
  /** `line 3` (JSON Lines, 1-based, blank lines counted) or `record 3` (Avro, 1-based). */
  readonly where: string;
}

/** Throws a {@link UsageError} unless `file` ends in one of `extensions` (lower case, with the dot). */
export function checkExtension(flag: string, file: string, extensions: readonly string[]): void {
  const ext = path.extname(file).toLowerCase();
  if (!extensions.includes(ext)) {
    throw new UsageError(`${flag} ${JSON.stringify(file)}: the file name must end in ${extensions.join(' or ')}`);
  }
}

function reason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : err instanceof Error ? err.message : String(err);
}

/** The non-blank lines of a JSON Lines file, each parsed. */
export async function* readJsonlRecords(file: string, flag: string): AsyncGenerator<LocatedRecord> {
  const lines = readline.createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  let n = 0;
  try {
    for await (const line of lines) {
      n++;
      if (line.trim() === '') continue;
      let record: unknown;
      try {
        record = JSON.parse(line);
      } catch (err) {
        throw new FileError(`${flag} ${file} line ${n}: not JSON (${(err as Error).message})`);
      }
      yield { record, where: `line ${n}` };
    }
  } catch (err) {
    if (err instanceof FileError) throw err;
    throw new FileError(`${flag} ${file}: cannot read (${reason(err)})`);
  } finally {
    lines.close();
  }
}

/** The records of a `.jsonl` or `.avro` file (by extension). */
export async function* readRecordFile(file: string, flag: string): AsyncGenerator<LocatedRecord> {
  if (path.extname(file).toLowerCase() !== '.avro') {
    yield* readJsonlRecords(file, flag);
    return;
  }
  let n = 0;
  try {
    for await (const record of readContainer(file)) {
      n++;
      yield { record, where: `record ${n}` };
    }
  } catch (err) {
    throw new FileError(`${flag} ${file}: not a readable Avro container file (${reason(err)})`);
  }
}

/** The fields of a Chunk record the context and needle commands read; the others are passed through. */
export type ChunkFields = Pick<
  ChunkRecord,
  'chunk_id' | 'doc_id' | 'chunk_index' | 'char_start' | 'char_end' | 'num_tokens' | 'text'
>;

const STRING_FIELDS = ['chunk_id', 'doc_id', 'text'] as const;
const INTEGER_FIELDS = ['chunk_index', 'char_start', 'char_end', 'num_tokens'] as const;

/** Checks that `record` has the {@link ChunkFields} with the right types; throws a {@link FileError}. */
export function asChunk(record: unknown, at: string): ChunkFields & Record<string, unknown> {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) {
    throw new FileError(`${at}: not a Chunk record (expected a JSON object)`);
  }
  const r = record as Record<string, unknown>;
  for (const f of STRING_FIELDS) {
    if (typeof r[f] !== 'string') throw new FileError(`${at}: not a Chunk record (${f} must be a string)`);
  }
  for (const f of INTEGER_FIELDS) {
    const v = r[f];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
      throw new FileError(`${at}: not a Chunk record (${f} must be an integer >= 0)`);
    }
  }
  return r as ChunkFields & Record<string, unknown>;
}

/** Every Chunk record of `file` (`.jsonl` or `.avro`), checked with {@link asChunk}. */
export async function* readChunks(file: string, flag: string): AsyncGenerator<ChunkFields & Record<string, unknown>> {
  for await (const { record, where } of readRecordFile(file, flag)) {
    yield asChunk(record, `${flag} ${file} ${where}`);
  }
}
