/**
 * One input record to its output messages: decode, validate, chunk, encode and size-check. A bad
 * record becomes one dead-letter message (original key, value and headers, plus error headers in the
 * Kafka Connect style). Pure apart from the registry look-up inside `decode`.
 */
import type { Chunker, ChunkRecord, DocumentManifest, SectionRecord } from '@chunkline/chunking';
import { toDocumentInput, type RawDocumentRecord, isRecordError } from '@chunkline/records';
import { classify, PoisonRecordError, type FailureStage } from './errors.js';
import type { CompiledWorkerOptions } from './options.js';

/** Header values as kafkajs gives and takes them. */
export type Headers = Record<string, Buffer | string | (Buffer | string)[] | undefined>;

/** A consumed record. */
export interface InputMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers?: Headers;
}

/** A record to produce. */
export interface OutputMessage {
  readonly topic: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers?: Headers;
}

/** Encodes output values (Avro single-object encoding, or Schema Registry framing). */
export interface OutputEncoder {
  chunk(record: ChunkRecord): Buffer;
  manifest(record: DocumentManifest): Buffer;
  section(record: SectionRecord): Buffer;
}

/** The result of processing one record. */
export interface ProcessedRecord {
  readonly messages: OutputMessage[];
  readonly outcome: 'chunked' | 'deleted' | 'dead-lettered';
  readonly docId: string | null;
  readonly chunkTokens: number[];
  readonly tokens: number;
  readonly bytes: number;
  readonly overCapGraphemes: number;
  /** Dead-letter reason (error code), when dead-lettered. */
  readonly reason?: string;
  /** Time spent on this record (decode, chunk, encode), in milliseconds. */
  readonly processingMs: number;
}

/** Turns input records into their output: a {@link RecordProcessor}, or a thread pool of them. */
export interface RecordHandler {
  /**
   * Processes records of one partition, in order; one result per record, in the same order. Throws
   * only transient or fatal errors (a bad record is a dead-letter result, never an error).
   */
  processAll(msgs: readonly InputMessage[]): Promise<ProcessedRecord[]>;
}

/** Prefix of the error headers on dead letters. */
export const ERROR_HEADER = 'chunkline.error';

export class RecordProcessor implements RecordHandler {
  constructor(
    private readonly options: CompiledWorkerOptions,
    private readonly chunker: Chunker,
    private readonly encoder: OutputEncoder,
    private readonly decode: (value: Buffer) => Promise<RawDocumentRecord>,
  ) {}

  async processAll(msgs: readonly InputMessage[]): Promise<ProcessedRecord[]> {
    const out: ProcessedRecord[] = [];
    for (const msg of msgs) out.push(await this.process(msg));
    return out;
  }

  /** Processes one record. Throws only transient or fatal errors (never for bad input). */
  async process(msg: InputMessage): Promise<ProcessedRecord> {
    const t0 = performance.now();
    const out = await this.processCatching(msg);
    return { ...out, processingMs: performance.now() - t0 };
  }

  private async processCatching(msg: InputMessage): Promise<Omit<ProcessedRecord, 'processingMs'>> {
    try {
      return await this.processOrThrow(msg);
    } catch (err) {
      const cls = classify(err);
      if (cls !== 'poison') {
        // A bug while chunking one document must not stall the partition: dead-letter it too.
        if (cls === 'fatal' && !(isRecordError(err) || err instanceof PoisonRecordError)) {
          return deadLetterRecord(
            msg,
            this.options.dlqTopic,
            new PoisonRecordError('CHUNKING_FAILED', 'chunk', errorMessage(err), err),
          );
        }
        throw err;
      }
      const poison =
        err instanceof PoisonRecordError
          ? err
          : new PoisonRecordError(codeOf(err), isRecordError(err) ? 'decode' : 'chunk', errorMessage(err), err);
      return deadLetterRecord(msg, this.options.dlqTopic, poison);
    }
  }

  private async processOrThrow(msg: InputMessage): Promise<Omit<ProcessedRecord, 'processingMs'>> {
    const key = msg.key === null ? null : decodeKey(msg.key);
    if (msg.key !== null && key === null)
      throw new PoisonRecordError('INVALID_UTF8', 'validate', 'the key is not valid UTF-8');
    if (msg.value === null) {
      if (key === null || key === '')
        throw new PoisonRecordError('MISSING_KEY', 'validate', 'a tombstone needs the doc_id as its key');
      const manifest: DocumentManifest = {
        doc_id: key,
        doc_version: '',
        chunk_ids: [],
        chunk_count: 0,
        total_tokens: 0,
        deleted: true,
        chunker_fingerprint: this.chunker.fingerprint,
        section_ids: [],
      };
      const value = this.encoder.manifest(manifest);
      return {
        messages: [{ topic: this.options.manifestTopic, key: msg.key, value }],
        outcome: 'deleted',
        docId: key,
        chunkTokens: [],
        tokens: 0,
        bytes: 0,
        overCapGraphemes: 0,
      };
    }
    // Refuse by size before decoding: no document within maxDocBytes encodes this large (JSON escapes
    // grow text up to 6x in the worst case, \u-escaped CJK 2x, astral 3x; 4x plus 64 KiB for the other
    // fields is the bound). A 50 MB value is never parsed or copied into a string.
    const bound = valueBound(this.options.maxDocBytes);
    if (msg.value.length > bound) {
      throw new PoisonRecordError(
        'TEXT_TOO_LARGE',
        'validate',
        `value is ${msg.value.length} bytes, over ${bound} (4 x CHUNKLINE_MAX_DOC_BYTES + 64 KiB): not decoded`,
      );
    }
    let doc: RawDocumentRecord;
    try {
      doc = await this.decode(msg.value);
    } catch (err) {
      if (isRecordError(err) && !err.retriable) throw new PoisonRecordError(err.code, 'decode', err.message, err);
      throw err;
    }
    if (key === null || key === '') {
      throw new PoisonRecordError(
        'MISSING_KEY',
        'validate',
        `record has no key; the key must be the doc_id (${JSON.stringify(doc.doc_id)})`,
      );
    }
    if (key !== doc.doc_id) {
      throw new PoisonRecordError(
        'KEY_MISMATCH',
        'validate',
        `key ${JSON.stringify(key.slice(0, 200))} differs from doc_id ${JSON.stringify(doc.doc_id.slice(0, 200))}`,
      );
    }
    const bytes = Buffer.byteLength(doc.text, 'utf8');
    if (bytes > this.options.maxDocBytes) {
      throw new PoisonRecordError(
        'TEXT_TOO_LARGE',
        'validate',
        `text is ${bytes} UTF-8 bytes, over the limit of ${this.options.maxDocBytes} (CHUNKLINE_MAX_DOC_BYTES)`,
      );
    }
    const result = this.chunker.chunk(toDocumentInput(doc));
    if (result.chunks.length > this.options.maxChunksPerDoc) {
      throw new PoisonRecordError(
        'TOO_MANY_CHUNKS',
        'chunk',
        `${result.chunks.length} chunks, over the limit of ${this.options.maxChunksPerDoc} (CHUNKLINE_MAX_CHUNKS_PER_DOC)`,
      );
    }
    const messages: OutputMessage[] = [];
    for (const section of result.sections) {
      const value = this.encoder.section(section);
      if (value.length > this.options.maxMessageBytes) {
        throw new PoisonRecordError(
          'OUTPUT_TOO_LARGE',
          'encode',
          `section ${section.section_index} encodes to ${value.length} bytes, over max message bytes ${this.options.maxMessageBytes}`,
        );
      }
      messages.push({ topic: this.options.sectionTopic, key: msg.key, value });
    }
    for (const chunk of result.chunks) {
      const value = this.encoder.chunk(chunk);
      if (value.length > this.options.maxMessageBytes) {
        throw new PoisonRecordError(
          'OUTPUT_TOO_LARGE',
          'encode',
          `chunk ${chunk.chunk_index} encodes to ${value.length} bytes, over max message bytes ${this.options.maxMessageBytes}`,
        );
      }
      messages.push({ topic: this.options.chunkTopic, key: msg.key, value });
    }
    const manifest = this.encoder.manifest(result.manifest);
    if (manifest.length > this.options.maxMessageBytes) {
      throw new PoisonRecordError(
        'OUTPUT_TOO_LARGE',
        'encode',
        `manifest encodes to ${manifest.length} bytes, over max message bytes ${this.options.maxMessageBytes}`,
      );
    }
    messages.push({ topic: this.options.manifestTopic, key: msg.key, value: manifest });
    return {
      messages,
      outcome: 'chunked',
      docId: doc.doc_id,
      chunkTokens: result.chunks.map((c) => c.num_tokens),
      tokens: result.manifest.total_tokens,
      bytes,
      overCapGraphemes: result.overCapGraphemes,
    };
  }
}

/**
 * The dead letter of a bad record: its original key, value and headers on the dead-letter topic, plus
 * error headers in the Kafka Connect style (`chunkline.error.stage|class|message|topic|partition|offset`).
 */
export function deadLetterRecord(
  msg: InputMessage,
  dlqTopic: string,
  err: PoisonRecordError,
): Omit<ProcessedRecord, 'processingMs'> {
  const headers: Headers = { ...(msg.headers ?? {}) };
  const set = (name: string, v: string): void => {
    headers[`${ERROR_HEADER}.${name}`] = v;
  };
  set('stage', err.stage);
  set('class', err.reason);
  set('message', err.message.slice(0, 2000));
  set('topic', msg.topic);
  set('partition', String(msg.partition));
  set('offset', msg.offset);
  return {
    messages: [{ topic: dlqTopic, key: msg.key, value: msg.value, headers }],
    outcome: 'dead-lettered',
    docId: null,
    chunkTokens: [],
    tokens: 0,
    bytes: msg.value?.length ?? 0,
    overCapGraphemes: 0,
    reason: err.reason,
  };
}

/** The largest input value decoded at all, for a given CHUNKLINE_MAX_DOC_BYTES. */
export function valueBound(maxDocBytes: number): number {
  return 4 * maxDocBytes + 64 * 1024;
}

function decodeKey(key: Buffer): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(key);
  } catch {
    return null;
  }
}

function codeOf(err: unknown): string {
  const e = err as { code?: unknown; reason?: unknown };
  if (typeof e.reason === 'string') return e.reason;
  if (typeof e.code === 'string') return e.code === 'BAD_INPUT' ? 'INVALID_DOCUMENT' : e.code;
  return 'CHUNKING_FAILED';
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export type { FailureStage };
