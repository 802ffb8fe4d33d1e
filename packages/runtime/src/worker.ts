/**
 * One member of the chunkline consumer group: consume raw documents in batches, chunk them, and
 * publish chunks, manifests and dead letters.
 *
 * Exactly-once (the default): every sub-batch of a partition is one Kafka transaction holding the
 * output of its records and the consumed offsets (`sendOffsets`), so read_committed consumers see each
 * input's output once. Each partition has its own transactional producer, id
 * `<prefix>-<topic>-<partition>`: when a partition moves to another worker (or a killed worker
 * restarts), the new producer's initialization fences the old one and aborts its open transaction.
 * (kafkajs does not implement KIP-447's group-metadata fencing, so per-partition ids are the way.)
 *
 * At-least-once: one idempotent producer; offsets are committed after the output is acknowledged.
 * Replays give byte-identical records with the same ids (deterministic chunk ids), safe for upserts.
 *
 * Connecting: `start()` probes the brokers once per attempt (TLS handshake and SASL authentication,
 * without kafkajs's own retries) before the consumer and producers connect. A failure worth waiting
 * out (see `connectFailureKind`: wrong credentials, an untrusted certificate, no broker) is reported
 * once per attempt as a `connect-failed` event and tried again with exponential backoff
 * (`connectRetryInitialDelayMs` doubling to `connectRetryMaxDelayMs`) until it succeeds or `stop()` is
 * called; meanwhile the worker is RUNNING (alive) but not ready. Anything else fails the start.
 *
 * Lifecycle (STYLE 8, 9): INITIALIZED → RUNNING → STOPPING (no new fetches, the batch in flight
 * finishes its current transaction) → DRAINING (producers and consumer disconnect) → STOPPED, or
 * FAILED. `stop()` twice returns the same promise; it fails with ShutdownTimeoutError past the deadline.
 */
import type { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage, Producer, Transaction } from 'kafkajs';
import { classify, connectFailureKind, IllegalStateError, rootMessage, ShutdownTimeoutError } from './errors.js';
import type { EventHub, WorkerState } from './events.js';
import { singleAttemptAdmin } from './kafka.js';
import type { CompiledWorkerOptions } from './options.js';
import type { InputMessage, OutputMessage, ProcessedRecord, RecordHandler } from './process.js';

/** One processed record of a slice. */
interface Processed {
  readonly msg: InputMessage;
  readonly out: ProcessedRecord;
  readonly ms: number;
}

const LEGAL: Record<WorkerState, readonly WorkerState[]> = {
  INITIALIZED: ['RUNNING', 'STOPPED', 'FAILED'],
  RUNNING: ['STOPPING', 'FAILED'],
  STOPPING: ['DRAINING', 'FAILED'],
  DRAINING: ['STOPPED', 'FAILED'],
  STOPPED: [],
  FAILED: [],
};

/** Transient-failure attempts on one sub-batch before the batch is handed back to kafkajs. */
const MAX_ATTEMPTS = 8;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class ChunkWorker {
  private stateValue: WorkerState = 'INITIALIZED';
  private readonly consumer: Consumer;
  private readonly producers = new Map<string, Promise<Producer>>();
  private admin: Admin | undefined;
  private stopping: Promise<void> | undefined;
  /** Set by `stop()`: the connection loop of `start()` gives up and its backoff sleep ends at once. */
  private stopRequested = false;
  private wakeConnectLoop: (() => void) | undefined;
  /** The connection attempt in flight, which `stop()` lets finish before disconnecting. */
  private attempt: Promise<void> | undefined;
  /** Exactly-once: producer keys of the partitions of the last group join, and whether they were announced ready. */
  private ownedProducerKeys: readonly string[] = [];
  private producersAnnounced = true;
  private readonly connectedProducers = new Set<string>();

  constructor(
    private readonly kafka: Kafka,
    private readonly options: CompiledWorkerOptions,
    private readonly processor: RecordHandler,
    private readonly events: EventHub,
  ) {
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      readUncommitted: false,
      allowAutoTopicCreation: false,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
      // Large fetches: kafkajs fetches again only when a fetch's batches are done, and the chunking
      // threads wait meanwhile. 4 MB / 10 MB (the default) left them idle often enough to cost ~15%
      // of end-to-end throughput in npm run bench. (A record larger than this still comes alone.)
      maxBytesPerPartition: 8 * 1024 * 1024,
      maxBytes: 32 * 1024 * 1024,
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => {
      const assignment = e.payload.memberAssignment as Record<string, number[]>;
      this.events.emit({ type: 'group-joined', memberId: e.payload.memberId, assignment });
      void this.releaseProducers(assignment);
      this.prepareProducers(assignment);
    });
    this.consumer.on(this.consumer.events.CRASH, (e) => {
      const error = e.payload.error;
      if (!e.payload.restart && this.stateValue === 'RUNNING') this.fail(error);
    });
  }

  /** Current lifecycle state. */
  get state(): WorkerState {
    return this.stateValue;
  }

  /** RUNNING and not asked to stop (a method: TypeScript would keep `stateValue` narrowed across awaits). */
  private isRunning(): boolean {
    return this.stateValue === 'RUNNING' && !this.stopRequested;
  }

  private transition(to: WorkerState): void {
    const from = this.stateValue;
    if (!LEGAL[from].includes(to)) throw new IllegalStateError(`cannot go from ${from} to ${to}`);
    this.stateValue = to;
    this.events.emit({ type: 'state', from, to });
  }

  private fail(error: Error): void {
    if (this.stateValue === 'FAILED' || this.stateValue === 'STOPPED') return;
    this.events.emit({ type: 'fatal', error });
    this.transition('FAILED');
  }

  /**
   * Connects, joins the group and starts consuming. Only from INITIALIZED. Retries a connection
   * failure worth waiting out (see the class comment) until it connects; resolves without consuming
   * when `stop()` is called meanwhile. Rejects (and the worker is FAILED) on any other failure.
   */
  async start(): Promise<void> {
    if (this.stateValue !== 'INITIALIZED') throw new IllegalStateError(`start() in state ${this.stateValue}`);
    this.transition('RUNNING');
    let delayMs = this.options.connectRetryInitialDelayMs;
    for (let attempt = 1; ; attempt++) {
      try {
        this.attempt = this.connect();
        await this.attempt;
        if (this.isRunning()) this.events.emit({ type: 'connected', attempts: attempt });
        return;
      } catch (err) {
        if (this.stopRequested) return;
        const kind = connectFailureKind(err);
        if (kind === undefined || !this.isRunning()) {
          this.fail(err instanceof Error ? err : new Error(String(err)));
          throw err;
        }
        this.events.emit({ type: 'connect-failed', kind, attempt, delayMs, error: rootMessage(err) });
        // Leave nothing half-connected behind: the next attempt starts from scratch.
        await this.consumer.disconnect().catch(() => undefined);
        await this.disconnectProducers();
        await this.sleepUnlessStopping(delayMs);
        if (this.stopRequested) return;
        delayMs = Math.min(delayMs * 2, this.options.connectRetryMaxDelayMs);
      }
    }
  }

  /** One connection attempt: probe, then (at-least-once) the producer, then the consumer. */
  private async connect(): Promise<void> {
    // The probe makes one TLS handshake and one SASL authentication, with no retries: kafkajs would
    // otherwise retry a connection error (an untrusted certificate too) 8 times, logging each, and
    // then give up for good. The consumer keeps kafkajs's retries for the failures of a running worker.
    const probe = singleAttemptAdmin(this.kafka);
    try {
      await probe.connect();
    } finally {
      await probe.disconnect().catch(() => undefined);
    }
    if (this.stopRequested) return;
    if (this.options.delivery === 'at-least-once') {
      await this.producerFor('shared');
      this.events.emit({ type: 'producer-ready', ready: true, producers: 1 });
    }
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [this.options.inputTopic], fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConcurrently,
      eachBatch: (payload) => this.eachBatch(payload),
    });
  }

  /** Sleeps `ms`, or less when `stop()` is called meanwhile. */
  private async sleepUnlessStopping(ms: number): Promise<void> {
    if (this.stopRequested) return;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.wakeConnectLoop = resolve;
      timer = setTimeout(resolve, ms);
    });
    clearTimeout(timer);
    this.wakeConnectLoop = undefined;
  }

  /** Disconnects and forgets every producer (errors reported, not thrown). */
  private async disconnectProducers(): Promise<void> {
    for (const [key, p] of this.producers) {
      this.producers.delete(key);
      this.connectedProducers.delete(key);
      try {
        await (await p).disconnect();
      } catch (e) {
        this.events.emit({ type: 'listener-error', error: e as Error });
      }
    }
  }

  /** Graceful stop within the shutdown deadline; the same promise on every call. */
  stop(): Promise<void> {
    this.stopRequested = true;
    this.wakeConnectLoop?.();
    this.stopping ??= this.runStop();
    return this.stopping;
  }

  private async runStop(): Promise<void> {
    if (this.stateValue === 'INITIALIZED') {
      this.transition('STOPPED');
      return;
    }
    if (this.stateValue !== 'RUNNING') return;
    let step = 'stop fetching';
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new ShutdownTimeoutError(this.options.shutdownTimeoutMs, step)),
        this.options.shutdownTimeoutMs,
      );
    });
    const steps = async (): Promise<void> => {
      this.transition('STOPPING');
      step = 'finish the connection attempt in flight';
      await this.attempt?.catch(() => undefined);
      step = 'stop fetching';
      // Stop fetching; kafkajs lets the batch in flight finish (it checks isRunning between transactions).
      await this.consumer.stop().catch((e: unknown) => this.events.emit({ type: 'listener-error', error: e as Error }));
      this.transition('DRAINING');
      step = 'disconnect producers';
      await this.disconnectProducers();
      this.events.emit({ type: 'producer-ready', ready: false, producers: 0 });
      if (this.admin !== undefined) await this.admin.disconnect().catch(() => undefined);
      step = 'disconnect consumer';
      await this.consumer
        .disconnect()
        .catch((e: unknown) => this.events.emit({ type: 'listener-error', error: e as Error }));
      this.transition('STOPPED');
    };
    try {
      await Promise.race([steps(), deadline]);
    } catch (err) {
      this.fail(err as Error);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The producer of a partition (exactly-once) or the shared one; created and connected once. */
  private producerFor(key: string): Promise<Producer> {
    let p = this.producers.get(key);
    if (p === undefined) {
      const transactional = this.options.delivery === 'exactly-once';
      const producer = this.kafka.producer({
        allowAutoTopicCreation: false,
        idempotent: true,
        maxInFlightRequests: transactional ? 1 : 5,
        ...(transactional
          ? {
              transactionalId: `${this.options.transactionalIdPrefix}-${key}`,
              transactionTimeout: 60_000,
              // Right after a commit the broker answers CONCURRENT_TRANSACTIONS until the commit
              // markers are written (milliseconds). kafkajs's default first retry waits 300 ms, which
              // made every transaction after the first cost 150-250 ms here. A 20 ms first retry,
              // doubling up to kafkajs's 30 s cap (the Java client also retries this at 20 ms); the
              // number of retries stays kafkajs's default for idempotent producers (unlimited).
              retry: { initialRetryTime: 20, retries: Number.MAX_SAFE_INTEGER },
            }
          : {}),
      });
      p = producer.connect().then(() => {
        this.connectedProducers.add(key);
        this.announceProducers();
        return producer;
      });
      p.catch(() => {
        this.producers.delete(key);
        this.connectedProducers.delete(key);
      });
      this.producers.set(key, p);
    }
    return p;
  }

  /**
   * After a commit whose outcome is unknown (a timeout or a lost connection while EndTxn was in
   * flight), re-running the transaction would publish its output twice if the broker did commit it.
   * So: replace the producer (initializing a producer with the same transactional id completes or
   * aborts the open transaction), then ask the group coordinator whether the transaction's offsets
   * landed. True means it committed and must not be redone.
   */
  private async commitLanded(key: string, topic: string, partition: number, next: bigint): Promise<boolean> {
    try {
      const old = this.producers.get(key);
      this.producers.delete(key);
      await old?.then((p) => p.disconnect()).catch(() => undefined);
      await this.producerFor(key);
      this.admin ??= this.kafka.admin();
      await this.admin.connect();
      const offsets = await this.admin.fetchOffsets({ groupId: this.options.groupId, topics: [topic] });
      const committed = offsets[0]?.partitions.find((p) => p.partition === partition)?.offset ?? '-1';
      return BigInt(committed) >= next;
    } catch {
      return false; // cannot tell: the caller retries the transaction
    }
  }

  /**
   * Exactly-once: connects (and so initializes, fencing any previous owner) the producers of the
   * partitions just assigned, so that readiness means output can be written. A producer that fails
   * here is connected again by the first batch of its partition.
   */
  private prepareProducers(assignment: Record<string, number[]>): void {
    if (this.options.delivery !== 'exactly-once') return;
    this.ownedProducerKeys = (assignment[this.options.inputTopic] ?? []).map((p) => `${this.options.inputTopic}-${p}`);
    this.producersAnnounced = false;
    for (const key of this.ownedProducerKeys) this.producerFor(key).catch(() => undefined);
    this.announceProducers();
  }

  /** Emits `producer-ready` once per group join, when the producers of every owned partition are connected. */
  private announceProducers(): void {
    if (this.producersAnnounced || this.stateValue !== 'RUNNING') return;
    if (!this.ownedProducerKeys.every((k) => this.connectedProducers.has(k) && this.producers.has(k))) return;
    this.producersAnnounced = true;
    this.events.emit({ type: 'producer-ready', ready: true, producers: this.ownedProducerKeys.length });
  }

  /** Disconnects the producers of partitions this member no longer owns. */
  private async releaseProducers(assignment: Record<string, number[]>): Promise<void> {
    if (this.options.delivery !== 'exactly-once') return;
    const owned = new Set((assignment[this.options.inputTopic] ?? []).map((p) => `${this.options.inputTopic}-${p}`));
    for (const [key, p] of this.producers) {
      if (owned.has(key)) continue;
      this.producers.delete(key);
      await p.then((x) => x.disconnect()).catch(() => undefined);
    }
  }

  private async eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const all = batch.messages;
    const size = this.options.recordsPerTransaction;
    // While one slice's transaction goes to the broker, the next slice is already being chunked:
    // chunking is a pure function of the records, and the transactions still go one after another in
    // offset order. So the chunking threads do not sit idle during broker round trips.
    let ahead: Promise<Processed[]> | undefined;
    for (let i = 0; i < all.length; i += size) {
      if (!payload.isRunning() || payload.isStale()) return;
      const slice = all.slice(i, i + size);
      const following = all.slice(i + size, i + 2 * size);
      let processed = ahead;
      ahead = undefined;
      const ok = await this.withRetries(async () => {
        const started = performance.now();
        let results: Processed[];
        try {
          results = await (processed ?? this.processRecords(batch, slice));
        } catch (err) {
          processed = undefined; // a transient failure: process the slice again on the retry
          throw err;
        }
        processed = Promise.resolve(results); // a retry of the publish reuses the (deterministic) output
        if (ahead === undefined && following.length > 0 && payload.isRunning()) {
          ahead = this.processRecords(batch, following);
          ahead.catch(() => undefined); // awaited, and retried if it failed, in the next round
        }
        await this.publishSlice(payload, slice, results, started);
      });
      if (!ok) return;
      const last = slice[slice.length - 1];
      if (last !== undefined) {
        payload.resolveOffset(last.offset);
        const lag = Number(BigInt(batch.highWatermark) - BigInt(last.offset) - 1n);
        this.events.emit({ type: 'lag', topic: batch.topic, partition: batch.partition, lag: Math.max(0, lag) });
      }
      await payload.heartbeat();
    }
  }

  /** Runs `fn` again on transient failures with exponential backoff; false when fenced or stopping. */
  private async withRetries(fn: () => Promise<void>): Promise<boolean> {
    let delay = this.options.retryInitialDelayMs;
    for (let attempt = 1; ; attempt++) {
      try {
        await fn();
        return true;
      } catch (err) {
        const cls = classify(err);
        if (cls === 'fenced') return false;
        if (cls !== 'transient' || attempt >= MAX_ATTEMPTS || this.stateValue !== 'RUNNING') throw err;
        this.events.emit({ type: 'retry', attempt, delayMs: delay, error: (err as Error).message });
        await sleep(delay);
        delay = Math.min(delay * 2, this.options.retryMaxDelayMs);
      }
    }
  }

  /** Processes the records of a slice, all in one call (a thread pool takes them as one task). */
  private async processRecords(batch: EachBatchPayload['batch'], slice: KafkaMessage[]): Promise<Processed[]> {
    const msgs = slice.map((m): InputMessage => ({
      topic: batch.topic,
      partition: batch.partition,
      offset: m.offset,
      key: m.key,
      value: m.value,
      headers: m.headers,
    }));
    const outs = await this.processor.processAll(msgs);
    return msgs.map((msg, i) => {
      const out = outs[i];
      if (out === undefined)
        throw new IllegalStateError(`the record handler answered ${outs.length} of ${msgs.length}`);
      return { msg, out, ms: out.processingMs };
    });
  }

  /** Publishes a slice's output (and, exactly-once, its offsets) atomically. */
  private async publishSlice(
    payload: EachBatchPayload,
    slice: KafkaMessage[],
    results: Processed[],
    started: number,
  ): Promise<void> {
    const { batch } = payload;
    const messages = results.flatMap((r) => r.out.messages);
    const last = slice[slice.length - 1];
    const next = last === undefined ? undefined : (BigInt(last.offset) + 1n).toString();
    if (this.options.delivery === 'exactly-once') {
      const producer = await this.producerFor(`${batch.topic}-${batch.partition}`);
      let tx: Transaction | undefined;
      let committing = false;
      try {
        tx = await producer.transaction();
        for (const part of splitBySize(messages, this.options.maxMessageBytes)) {
          await tx.sendBatch({ topicMessages: groupByTopic(part) });
        }
        if (next !== undefined) {
          await tx.sendOffsets({
            consumerGroupId: this.options.groupId,
            topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: next }] }],
          });
        }
        committing = true;
        await tx.commit();
      } catch (err) {
        const committedAfterAll =
          committing && next !== undefined && classify(err) === 'transient'
            ? await this.commitLanded(`${batch.topic}-${batch.partition}`, batch.topic, batch.partition, BigInt(next))
            : false;
        if (!committedAfterAll) {
          if (!committing && tx?.isActive() === true) await tx.abort().catch(() => undefined);
          this.emitBatch(batch.topic, batch.partition, slice.length, started, 'aborted');
          throw err;
        }
      }
    } else {
      const producer = await this.producerFor('shared');
      for (const part of splitBySize(messages, this.options.maxMessageBytes)) {
        await producer.sendBatch({ topicMessages: groupByTopic(part), acks: -1 });
      }
      if (next !== undefined) {
        await this.consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }]);
      }
    }
    this.emitBatch(batch.topic, batch.partition, slice.length, started, 'committed');
    for (const { msg, out, ms } of results) {
      if (out.outcome === 'dead-lettered') {
        this.events.emit({
          type: 'dead-letter',
          topic: msg.topic,
          partition: msg.partition,
          offset: msg.offset,
          reason: out.reason ?? 'UNKNOWN',
        });
      }
      this.events.emit({
        type: 'document',
        topic: msg.topic,
        partition: msg.partition,
        offset: msg.offset,
        docId: out.docId,
        outcome: out.outcome,
        chunks: out.chunkTokens.length,
        tokens: out.tokens,
        bytes: out.bytes,
        chunkTokens: out.chunkTokens,
        overCapGraphemes: out.overCapGraphemes,
        processingMs: ms,
      });
    }
  }

  private emitBatch(
    topic: string,
    partition: number,
    records: number,
    started: number,
    outcome: 'committed' | 'aborted',
  ): void {
    this.events.emit({ type: 'batch', topic, partition, records, durationMs: performance.now() - started, outcome });
  }
}

/** Bytes of a record in a record batch, roughly: key, value, headers and a per-record overhead. */
function recordBytes(m: OutputMessage): number {
  let n = 64 + (m.key?.length ?? 0) + (m.value?.length ?? 0);
  for (const [k, v] of Object.entries(m.headers ?? {})) {
    for (const x of Array.isArray(v) ? v : v === undefined ? [] : [v])
      n += 16 + Buffer.byteLength(k) + Buffer.byteLength(x);
  }
  return n;
}

/**
 * Splits the output of a sub-batch into sends of at most `budget` bytes (one record alone when it is
 * bigger). kafkajs puts all records of one send for a partition into one record batch, and the broker
 * refuses a batch over its max.message.bytes (MESSAGE_TOO_LARGE): without this split, a large dead
 * letter (a 1 MB input) next to a few other records made every retry fail and stopped the worker.
 */
export function splitBySize(messages: readonly OutputMessage[], budget: number): OutputMessage[][] {
  const parts: OutputMessage[][] = [];
  let current: OutputMessage[] = [];
  let size = 0;
  for (const m of messages) {
    const n = recordBytes(m);
    if (current.length > 0 && size + n > budget) {
      parts.push(current);
      current = [];
      size = 0;
    }
    current.push(m);
    size += n;
  }
  if (current.length > 0) parts.push(current);
  return parts;
}

function groupByTopic(
  messages: readonly OutputMessage[],
): { topic: string; messages: { key: Buffer | null; value: Buffer | null; headers?: OutputMessage['headers'] }[] }[] {
  const by = new Map<string, { key: Buffer | null; value: Buffer | null; headers?: OutputMessage['headers'] }[]>();
  for (const m of messages) {
    let list = by.get(m.topic);
    if (list === undefined) by.set(m.topic, (list = []));
    list.push(
      m.headers === undefined ? { key: m.key, value: m.value } : { key: m.key, value: m.value, headers: m.headers },
    );
  }
  return [...by].map(([topic, msgs]) => ({ topic, messages: msgs }));
}
