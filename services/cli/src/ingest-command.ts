/**
 * `chunkline ingest`: files and folders → one RawDocument record per file on a Kafka topic, keyed by
 * `doc_id`. The ids are those `chunkline chunk` gives (the path as given, joined with the path inside a
 * given folder), `version` is `sha256:` + the SHA-256 of the file's bytes, and a state file remembers
 * the version last published for each id, so a re-run sends only new and changed files, and a
 * tombstone for each file that is gone. `--watch` repeats that every `--poll-ms` until SIGINT/SIGTERM.
 *
 * Memory holds one folder listing, one file, one batch of records and the state (one id and version per
 * document), never the corpus.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { rawDocumentCodec, type RawDocumentRecord } from '@chunkline/records';
import { contentTypeOf, decodeTextBytes, isDocIdUnder, walkInputFiles, type WalkRoot } from './files.js';
import { IngestState } from './ingest-state.js';
import type { CliIo } from './io.js';
import { openKafkaSink, SinkError, type RecordSink, type SinkOpener, type SinkRecord } from './kafka-sink.js';
import { createProgress, formatMbPerSecond, type Progress } from './progress.js';
import { parseBrokers, type CompiledIngestOptions, type IngestFormat } from './ingest-args.js';
import { FileError, UsageError } from './usage.js';

/** Bytes a record adds to a batch beyond its key and value (Kafka record header, varints). */
const RECORD_OVERHEAD_BYTES = 64;
/** Bytes of a record batch's own header (61), rounded up. */
const BATCH_OVERHEAD_BYTES = 128;
/** A file modified this close to when it was last read is read again even if its stat is unchanged. */
const RACY_MTIME_MS = 2000;
/** Longest time between two writes of the state file while records are being acknowledged. */
const STATE_SAVE_INTERVAL_MS = 2000;

/** The version `chunkline ingest` publishes for a file: `sha256:` and the hex SHA-256 of its bytes. */
export function fileVersion(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** The RawDocument value of a file in the chosen format. */
export function encodeRawDocument(doc: RawDocumentRecord, format: IngestFormat): Buffer {
  return format === 'avro' ? rawDocumentCodec.encodeSingleObject(doc) : Buffer.from(JSON.stringify(doc), 'utf8');
}

/** Totals of one scan (or of the whole run). */
export interface IngestStats {
  /** Files looked at. */
  files: number;
  /** Documents published (new or changed). */
  sent: number;
  /** UTF-8 bytes of the published documents' text. */
  sentBytes: number;
  /** Files whose version was already published. */
  unchanged: number;
  /** Tombstones published for files that are gone. */
  deleted: number;
  /** Paths that could not be published (each one reported). */
  failed: number;
}

function emptyStats(): IngestStats {
  return { files: 0, sent: 0, sentBytes: 0, unchanged: 0, deleted: 0, failed: 0 };
}

/** The summary line of a scan. */
export function formatIngestSummary(stats: IngestStats, seconds: number, prefix = 'chunkline ingest'): string {
  const rate = seconds > 0 ? (stats.sent / seconds).toFixed(1) : '0.0';
  return (
    `${prefix}: sent ${stats.sent} documents (${(stats.sentBytes / 1e6).toFixed(2)} MB) | unchanged ${stats.unchanged} | ` +
    `deleted ${stats.deleted} | failed ${stats.failed} | ${seconds.toFixed(2)} s | ${rate} docs/s | ` +
    `${formatMbPerSecond(stats.sentBytes, seconds)} MB/s`
  );
}

/** Records waiting to be sent, flushed by count or size; acknowledgements update the state. */
class Batcher {
  private records: SinkRecord[] = [];
  private acks: (() => void)[] = [];
  private bytes = 0;
  private lastSaveMs = performance.now();
  readonly limitBytes: number;

  constructor(
    private readonly sink: RecordSink,
    private readonly state: IngestState,
    private readonly maxRecords: number,
    batchBytes: number,
  ) {
    this.limitBytes = Math.max(1, Math.min(batchBytes, sink.maxBatchBytes - BATCH_OVERHEAD_BYTES));
  }

  /** Bytes `record` takes in a batch. */
  static sizeOf(record: SinkRecord): number {
    return Buffer.byteLength(record.key, 'utf8') + (record.value?.length ?? 0) + RECORD_OVERHEAD_BYTES;
  }

  /** Queues `record`; sends the queue first when it would go over a limit. `onAck` runs once acknowledged. */
  async add(record: SinkRecord, onAck: () => void): Promise<void> {
    const size = Batcher.sizeOf(record);
    if (this.records.length > 0 && (this.records.length >= this.maxRecords || this.bytes + size > this.limitBytes)) {
      await this.flush();
    }
    this.records.push(record);
    this.acks.push(onAck);
    this.bytes += size;
  }

  /** Sends what is queued and waits for the acknowledgement. */
  async flush(): Promise<void> {
    if (this.records.length === 0) return;
    const records = this.records;
    const acks = this.acks;
    this.records = [];
    this.acks = [];
    this.bytes = 0;
    await this.sink.send(records);
    for (const ack of acks) ack();
    if (performance.now() - this.lastSaveMs >= STATE_SAVE_INTERVAL_MS) {
      await this.state.save();
      this.lastSaveMs = performance.now();
    }
  }
}

/** What a scan remembers of a file between polls, to skip reading files that did not change. */
interface StatSignature {
  readonly size: number;
  readonly mtimeMs: number;
  readonly ino: number;
  readonly readAtMs: number;
}

/** One scan's outcome. */
interface ScanResult {
  readonly stats: IngestStats;
  /** False when a stop request cut the scan short (then no tombstones were sent). */
  readonly complete: boolean;
}

/** Scans the roots and publishes what changed; shared by the first pass and every poll of `--watch`. */
class Ingester {
  private readonly statCache = new Map<string, StatSignature>();
  /** Problems reported by the previous scan: a poll does not repeat them every second. */
  private lastProblems = new Set<string>();

  constructor(
    private readonly options: CompiledIngestOptions,
    private readonly state: IngestState,
    private readonly batcher: Batcher,
    private readonly stop: AbortSignal,
  ) {}

  /**
   * One scan. `report` gets one line per problem, and per change when `verbose`. With `useStatCache`, a
   * file whose size, mtime and inode are those of its last read is not read again.
   */
  async scan(progress: Progress, options: { verbose: boolean; useStatCache: boolean }): Promise<ScanResult> {
    const stats = emptyStats();
    const problems = new Set<string>();
    const problem = (line: string): void => {
      problems.add(line);
      if (!options.verbose || !this.lastProblems.has(line)) progress.log(line);
    };
    const seen = new Set<string>();
    const roots: WalkRoot[] = [];
    const failedPrefixes: string[] = [];
    const exclude = new Set([path.resolve(this.options.statePath)]);
    const walk = walkInputFiles(this.options.paths, {
      exclude,
      onRoot: (root) => roots.push(root),
      onNote: (note, kind) => {
        if (kind === 'failure') {
          stats.failed += 1;
          failedPrefixes.push(note.path);
        }
        problem(`${note.path}: ${note.reason}`);
      },
    });
    for await (const file of walk) {
      if (this.stop.aborted) break;
      if (seen.has(file.docId)) continue;
      seen.add(file.docId);
      stats.files += 1;
      const fail = (reason: string, bytes = 0): void => {
        stats.failed += 1;
        problem(`${file.docId}: ${reason}`);
        progress.advance(bytes);
      };
      let info;
      try {
        info = await stat(file.fsPath);
      } catch (err) {
        fail(`cannot read: ${(err as Error).message}`);
        continue;
      }
      if (info.size > this.options.maxBytes) {
        fail(`${info.size} bytes, over --max-bytes ${this.options.maxBytes}; skipped`, info.size);
        continue;
      }
      const cached = this.statCache.get(file.docId);
      if (
        options.useStatCache &&
        cached !== undefined &&
        cached.size === info.size &&
        cached.mtimeMs === info.mtimeMs &&
        cached.ino === info.ino &&
        info.mtimeMs < cached.readAtMs - RACY_MTIME_MS &&
        this.state.get(file.docId) !== undefined
      ) {
        stats.unchanged += 1;
        progress.advance(0);
        continue;
      }
      const readAtMs = Date.now();
      let bytes: Buffer;
      try {
        bytes = await readFile(file.fsPath);
      } catch (err) {
        fail(`cannot read: ${(err as Error).message}`);
        continue;
      }
      if (bytes.length > this.options.maxBytes) {
        fail(`${bytes.length} bytes, over --max-bytes ${this.options.maxBytes}; skipped`, bytes.length);
        continue;
      }
      const read = decodeTextBytes(bytes);
      if (!read.ok) {
        fail(read.reason, bytes.length);
        continue;
      }
      const version = fileVersion(bytes);
      this.statCache.set(file.docId, { size: info.size, mtimeMs: info.mtimeMs, ino: info.ino, readAtMs });
      if (this.state.decide(file.docId, version, this.options.force && !options.useStatCache) === 'unchanged') {
        stats.unchanged += 1;
        progress.advance(bytes.length);
        continue;
      }
      const doc: RawDocumentRecord = {
        doc_id: file.docId,
        version,
        text: read.text,
        content_type: contentTypeOf(file.docId),
        source: file.docId,
        metadata: {},
        event_time: Math.trunc(info.mtimeMs),
      };
      const record: SinkRecord = { key: file.docId, value: encodeRawDocument(doc, this.options.format) };
      if (Batcher.sizeOf(record) > this.batcher.limitBytes) {
        fail(
          `the record is ${Batcher.sizeOf(record)} bytes, over what the topic accepts (max.message.bytes); ` +
            'raise it on the topic or lower --max-bytes; skipped',
          bytes.length,
        );
        continue;
      }
      const textBytes = read.byteLength;
      const verbose = options.verbose;
      await this.batcher.add(record, () => {
        this.state.set(file.docId, version);
        if (verbose) progress.log(`published ${file.docId} (${version.slice(0, 19)}…)`);
      });
      stats.sent += 1;
      stats.sentBytes += textBytes;
      progress.advance(bytes.length);
    }
    this.lastProblems = problems;
    if (this.stop.aborted) return { stats, complete: false };
    // Tombstones for the ids this run's roots would give that are gone, except under a root or folder
    // that could not be read (a missing mount must not delete its documents).
    const gone = [...this.state.docIds()].filter(
      (id) =>
        !seen.has(id) &&
        roots.some((r) => isDocIdUnder(id, r)) &&
        !failedPrefixes.some((p) => id === p || id.startsWith(`${p}/`)),
    );
    for (const id of gone) {
      await this.batcher.add({ key: id, value: null }, () => {
        this.state.delete(id);
        this.statCache.delete(id);
        progress.log(`deleted ${id} (tombstone)`);
      });
      stats.deleted += 1;
    }
    await this.batcher.flush();
    await this.state.save();
    return { stats, complete: true };
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Counts the files a scan will look at, for the progress bar's total. */
async function countFiles(paths: readonly string[]): Promise<number> {
  const seen = new Set<string>();
  for await (const file of walkInputFiles(paths)) seen.add(file.docId);
  return seen.size;
}

/**
 * Runs `chunkline ingest` and returns the exit code: 0 when every file was published or unchanged, 1
 * when some failed (each is named on stderr) or the run was interrupted before it finished, 2 for a
 * usage error. With `--watch`, a stop request (SIGINT, SIGTERM) after the first scan flushes, saves the
 * state and returns 0. `openSink` is the Kafka producer unless a test gives another.
 * @throws UsageError without brokers; FileError for an unusable state file or unreachable brokers.
 */
export async function runIngestCommand(
  options: CompiledIngestOptions,
  io: CliIo,
  openSink: SinkOpener = openKafkaSink,
): Promise<number> {
  const startMs = performance.now();
  const fromEnv = io.env?.KAFKA_BROKERS;
  const brokers =
    options.brokers ??
    (fromEnv === undefined || fromEnv === '' ? null : parseBrokers(fromEnv, 'the KAFKA_BROKERS environment variable'));
  if (brokers === null) throw new UsageError('give --brokers host:port[,host:port...] or set KAFKA_BROKERS');
  let state: IngestState;
  try {
    state = await IngestState.load(options.statePath, brokers, options.topic);
  } catch (err) {
    throw new FileError(`--state: ${(err as Error).message}`);
  }
  let sink: RecordSink;
  try {
    sink = await openSink({ brokers, topic: options.topic });
  } catch (err) {
    if (err instanceof SinkError) throw new FileError(err.message);
    throw err;
  }
  const stop = io.stopSignal?.() ?? new AbortController().signal;
  const batcher = new Batcher(sink, state, options.batchRecords, options.batchBytes);
  const ingester = new Ingester(options, state, batcher, stop);
  try {
    const total = io.progressTerminal !== undefined && !options.quiet ? await countFiles(options.paths) : 0;
    const progress = createProgress(io, total, !options.quiet, {
      label: 'ingesting',
      filesPerSecondUnit: 'docs',
    });
    let first: ScanResult;
    try {
      first = await ingester.scan(progress, { verbose: false, useStatCache: false });
    } finally {
      progress.stop();
    }
    io.stderr.write(`${formatIngestSummary(first.stats, (performance.now() - startMs) / 1000)}\n`);
    if (!first.complete) {
      await batcher.flush();
      await state.save();
      io.stderr.write('chunkline ingest: interrupted; what was acknowledged is saved, run again to finish\n');
      return 1;
    }
    if (!options.watch) return first.stats.failed > 0 ? 1 : 0;

    io.stderr.write(
      `chunkline ingest: watching ${options.paths.join(' ')} every ${options.pollMs} ms (SIGINT or SIGTERM stops)\n`,
    );
    const quietProgress = createProgress(io, 0, false);
    while (!stop.aborted) {
      await sleep(options.pollMs, stop);
      if (stop.aborted) break;
      const scanStartMs = performance.now();
      const r = await ingester.scan(quietProgress, { verbose: true, useStatCache: true });
      if (r.stats.sent > 0 || r.stats.deleted > 0) {
        io.stderr.write(
          `${formatIngestSummary(r.stats, (performance.now() - scanStartMs) / 1000, 'chunkline watch')}\n`,
        );
      }
    }
    await batcher.flush();
    await state.save();
    io.stderr.write('chunkline ingest: stopped\n');
    return 0;
  } finally {
    await sink.close();
  }
}
