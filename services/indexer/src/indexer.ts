/**
 * The indexer: one member of a consumer group reading the Chunk and DocumentManifest topics with
 * `read_committed`, applying each fetched batch to the SQLite index in one transaction, and committing the
 * batch's Kafka offsets only after that transaction has committed. A crash between the two replays the
 * batch, which {@link IndexStore.apply} absorbs (upserts by `chunk_id`, manifests skipped when older).
 */
import type { Kafka } from '@chunkline/runtime';
import type { ValueDecoder } from './decode.js';
import type { ApplyResult, IndexStore, IndexUpdate } from './store.js';

type Consumer = ReturnType<Kafka['consumer']>;
type RunConfig = NonNullable<Parameters<Consumer['run']>[0]>;
type EachBatchPayload = Parameters<NonNullable<RunConfig['eachBatch']>>[0];

/** Lifecycle: `INITIALIZED → RUNNING → STOPPING → STOPPED`, or `FAILED` when the consumer gives up. */
export type IndexerState = 'INITIALIZED' | 'RUNNING' | 'STOPPING' | 'STOPPED' | 'FAILED';

/** Codes of {@link IndexerError}. */
export type IndexerErrorCode = 'BAD_OPTION' | 'ILLEGAL_STATE' | 'SHUTDOWN_TIMEOUT';

const BRAND = Symbol.for('chunkline.IndexerError');

/** The one public error of this package. */
export class IndexerError extends Error {
  override readonly name = 'IndexerError';
  readonly [BRAND] = true;
  constructor(
    readonly code: IndexerErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** True for an {@link IndexerError} from any copy of this package. */
export function isIndexerError(e: unknown): e is IndexerError {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[BRAND] === true;
}

/** Options of {@link Indexer}. */
export interface IndexerOptions {
  /** Consumer group id. Give each index its own group. */
  groupId: string;
  /** @default 'documents.chunks' */
  chunkTopic?: string;
  /** @default 'documents.manifests' */
  manifestTopic?: string;
  /** The SQLite file (see {@link IndexStore.open}). Used by {@link startIndexer}. @default 'chunkline-index.db' */
  dbPath?: string;
  /** A group with no committed offsets starts at the beginning of the topics (else at their end). @default true */
  fromBeginning?: boolean;
  /** Deadline of {@link Indexer.stop}, in milliseconds. @default 25000 */
  shutdownTimeoutMs?: number;
}

/** {@link IndexerOptions} with defaults filled in. Frozen. */
export interface CompiledIndexerOptions {
  readonly groupId: string;
  readonly chunkTopic: string;
  readonly manifestTopic: string;
  readonly dbPath: string;
  readonly fromBeginning: boolean;
  readonly shutdownTimeoutMs: number;
}

/** Fills in defaults and checks the options. @throws IndexerError `BAD_OPTION` naming the option. */
export function compileIndexerOptions(options: IndexerOptions): CompiledIndexerOptions {
  const c = {
    groupId: options.groupId,
    chunkTopic: options.chunkTopic ?? 'documents.chunks',
    manifestTopic: options.manifestTopic ?? 'documents.manifests',
    dbPath: options.dbPath ?? 'chunkline-index.db',
    fromBeginning: options.fromBeginning ?? true,
    shutdownTimeoutMs: options.shutdownTimeoutMs ?? 25_000,
  };
  for (const key of ['groupId', 'chunkTopic', 'manifestTopic', 'dbPath'] as const) {
    if (typeof c[key] !== 'string' || c[key] === '') {
      throw new IndexerError('BAD_OPTION', `${key} must be a non-empty string`);
    }
  }
  if (c.chunkTopic === c.manifestTopic) {
    throw new IndexerError('BAD_OPTION', `chunkTopic and manifestTopic must differ (both are ${c.chunkTopic})`);
  }
  if (!Number.isSafeInteger(c.shutdownTimeoutMs) || c.shutdownTimeoutMs < 1) {
    throw new IndexerError('BAD_OPTION', `shutdownTimeoutMs must be a positive integer, got ${c.shutdownTimeoutMs}`);
  }
  return Object.freeze(c);
}

/** The few pino methods the indexer logs with (a pino logger fits). */
export interface IndexerLogger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

const SILENT: IndexerLogger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

/** Running totals since start. */
export interface IndexerCounters {
  batches: number;
  records: number;
  chunksVisible: number;
  chunksPending: number;
  chunksStale: number;
  manifests: number;
  manifestsReplayed: number;
  chunksDeleted: number;
  /** Values that did not decode (logged with topic, partition and offset, then skipped). */
  undecodable: number;
  /** Null values (the worker never writes them; skipped). */
  nullValues: number;
}

/** A consumer of the chunk and manifest topics into an {@link IndexStore}. */
export class Indexer {
  readonly options: CompiledIndexerOptions;
  private stateValue: IndexerState = 'INITIALIZED';
  private readonly consumer: Consumer;
  private stopping: Promise<void> | undefined;
  private joined = false;
  private readonly countersValue: IndexerCounters = {
    batches: 0,
    records: 0,
    chunksVisible: 0,
    chunksPending: 0,
    chunksStale: 0,
    manifests: 0,
    manifestsReplayed: 0,
    chunksDeleted: 0,
    undecodable: 0,
    nullValues: 0,
  };

  /**
   * The indexer owns `store` from here on: {@link stop} closes it.
   * @throws IndexerError `BAD_OPTION`.
   */
  constructor(
    kafka: Kafka,
    options: IndexerOptions,
    readonly store: IndexStore,
    private readonly decoder: ValueDecoder,
    private readonly log: IndexerLogger = SILENT,
  ) {
    this.options = compileIndexerOptions(options);
    this.consumer = kafka.consumer({
      groupId: this.options.groupId,
      readUncommitted: false,
      allowAutoTopicCreation: false,
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, () => {
      this.joined = true;
    });
    this.consumer.on(this.consumer.events.CRASH, (e) => {
      const { error, restart } = e.payload;
      this.log.error({ err: error, restart }, restart ? 'consumer crashed; restarting' : 'consumer crashed; giving up');
      this.joined = false;
      if (!restart && this.stateValue === 'RUNNING') this.stateValue = 'FAILED';
    });
  }

  get state(): IndexerState {
    return this.stateValue;
  }

  /** Running and a member of the group. */
  get ready(): boolean {
    return this.stateValue === 'RUNNING' && this.joined;
  }

  /** A copy of the running totals. */
  get counters(): IndexerCounters {
    return { ...this.countersValue };
  }

  /**
   * Connects, subscribes to both topics and starts consuming; resolves once the consumer runs.
   * @throws IndexerError `ILLEGAL_STATE` unless the indexer is INITIALIZED.
   */
  async start(): Promise<void> {
    if (this.stateValue !== 'INITIALIZED') {
      throw new IndexerError('ILLEGAL_STATE', `start() called in state ${this.stateValue}`);
    }
    this.stateValue = 'RUNNING';
    try {
      await this.consumer.connect();
      await this.consumer.subscribe({
        topics: [this.options.chunkTopic, this.options.manifestTopic],
        fromBeginning: this.options.fromBeginning,
      });
      await this.consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: 1,
        eachBatch: (payload) => this.onBatch(payload),
      });
    } catch (err) {
      this.stateValue = 'FAILED';
      await this.consumer.disconnect().catch(() => undefined);
      this.store.close();
      throw err;
    }
  }

  private async onBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    if (!isRunning() || isStale() || batch.messages.length === 0) return;
    const isChunk = batch.topic === this.options.chunkTopic;
    const updates: IndexUpdate[] = [];
    for (const message of batch.messages) {
      this.countersValue.records += 1;
      if (message.value === null) {
        this.countersValue.nullValues += 1;
        continue;
      }
      const at = { partition: batch.partition, offset: Number(message.offset), timestampMs: Number(message.timestamp) };
      try {
        if (isChunk) updates.push({ kind: 'chunk', record: await this.decoder.chunk(message.value), at });
        else updates.push({ kind: 'manifest', record: await this.decoder.manifest(message.value), at });
      } catch (err) {
        // A sink cannot dead-letter; the record stays in the topic. Say where it is and move on.
        this.countersValue.undecodable += 1;
        this.log.error(
          { err, topic: batch.topic, partition: batch.partition, offset: message.offset },
          'undecodable value skipped',
        );
      }
    }
    const result = this.store.apply(updates);
    this.add(result);
    // Only now, with the SQLite transaction committed, move the group's offset past the batch.
    const next = (BigInt(batch.lastOffset()) + 1n).toString();
    await this.consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }]);
    resolveOffset(batch.lastOffset());
    this.countersValue.batches += 1;
    this.log.debug(
      { topic: batch.topic, partition: batch.partition, records: batch.messages.length, committed: next, ...result },
      'batch indexed',
    );
    await heartbeat();
  }

  private add(r: ApplyResult): void {
    const c = this.countersValue;
    c.chunksVisible += r.chunksVisible;
    c.chunksPending += r.chunksPending;
    c.chunksStale += r.chunksStale;
    c.manifests += r.manifests;
    c.manifestsReplayed += r.manifestsReplayed;
    c.chunksDeleted += r.chunksDeleted;
  }

  /**
   * Stops fetching, lets the batch in flight finish (its offsets are committed after its transaction),
   * leaves the group and closes the index. Calling it again returns the same promise.
   * @throws IndexerError `SHUTDOWN_TIMEOUT` when that takes over `shutdownTimeoutMs` (the index is
   * still closed; uncommitted batches are read again next time).
   */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    const failed = this.stateValue === 'FAILED';
    this.stateValue = 'STOPPING';
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.options.shutdownTimeoutMs);
    });
    try {
      const outcome = await Promise.race([
        this.consumer.disconnect().then(
          () => 'done' as const,
          (err: unknown) => {
            this.log.warn({ err }, 'consumer disconnect failed');
            return 'done' as const;
          },
        ),
        deadline,
      ]);
      if (outcome === 'timeout') {
        this.stateValue = 'FAILED';
        throw new IndexerError(
          'SHUTDOWN_TIMEOUT',
          `the consumer did not stop within ${this.options.shutdownTimeoutMs} ms`,
        );
      }
      this.stateValue = failed ? 'FAILED' : 'STOPPED';
    } finally {
      clearTimeout(timer);
      try {
        this.store.close();
      } catch (err) {
        this.log.warn({ err }, 'closing the index failed');
      }
    }
  }
}
