import type { RuntimeEvent, RuntimeListener, WorkerState } from '@chunkline/runtime';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ObservabilityError } from './errors.js';
import { HealthTracker } from './health.js';

/** Options of {@link createMetrics}. */
export interface MetricsOptions {
  /** Where the metrics are registered. @default a new `Registry` (not prom-client's global one) */
  registry?: Registry;
  /** Prepended to every metric name, default process metrics included. @default 'chunkline_' */
  prefix?: string;
  /** Also collect prom-client's default process metrics (CPU, memory, event loop lag, GC). @default true */
  collectDefault?: boolean;
}

/** What {@link createMetrics} hands out: the registry to serve and the listener to subscribe. */
export interface Metrics {
  readonly registry: Registry;
  /** Subscribe this to the runtime's events. */
  readonly listener: RuntimeListener;
}

const WORKER_STATES: readonly WorkerState[] = ['INITIALIZED', 'RUNNING', 'STOPPING', 'DRAINING', 'STOPPED', 'FAILED'];
const DOCUMENT_OUTCOMES = ['chunked', 'deleted', 'dead-lettered'] as const;
const BATCH_OUTCOMES = ['committed', 'aborted'] as const;
// Prometheus metric names are [a-zA-Z_:][a-zA-Z0-9_:]*; the prefix is their start, so it may also be empty.
const PREFIX_PATTERN = /^(?:[a-zA-Z_:][a-zA-Z0-9_:]*)?$/;

/** Token counts; 512 is the common embedding-model cap, 8192 the largest we expect. */
const TOKENS_PER_CHUNK_BUCKETS = [16, 32, 64, 128, 256, 384, 512, 768, 1024, 2048, 4096, 8192];
const CHUNKS_PER_DOCUMENT_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];
const DOCUMENT_SECONDS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const BATCH_RECORDS_BUCKETS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];
const BATCH_SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * Registers the chunkline metrics and returns a listener that updates them from runtime events.
 * Every name starts with `prefix` (`chunkline_` by default):
 *
 * - `documents_total{outcome}` (chunked, deleted, dead-lettered), `chunks_total`, `tokens_total`,
 *   `bytes_total` (input text, in bytes), `over_cap_graphemes_total`: counters from `document` events;
 * - `tokens_per_chunk` (one observation per chunk), `chunks_per_document` (chunked documents only: deletes and
 *   dead letters have no chunks and would skew it), `document_processing_seconds` (every document): histograms;
 * - `batch_records` and `batch_duration_seconds{outcome}` (committed, aborted): histograms from `batch` events;
 * - `dead_letters_total{reason}`, `retries_total`, `connect_failures_total{kind}` (authentication, tls,
 *   connection: failed attempts to connect, retried with backoff), `listener_errors_total`: counters;
 * - `consumer_lag{topic,partition}`: gauge, in records; series of partitions a rebalance took away are removed;
 * - `state{state}`: 1 for the current worker state, 0 for the others; `ready`: 1 when {@link HealthTracker}
 *   says ready (the same rule as `/readyz`).
 *
 * Calling it twice on one registry throws, because prom-client refuses duplicate names.
 * @throws ObservabilityError `BAD_OPTION` for a prefix that is not a valid metric name start.
 */
export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = options.registry ?? new Registry();
  const prefix = options.prefix ?? 'chunkline_';
  if (!PREFIX_PATTERN.test(prefix)) {
    throw new ObservabilityError(
      'BAD_OPTION',
      'prefix',
      `prefix must match [a-zA-Z_:][a-zA-Z0-9_:]* (a metric name start), got ${JSON.stringify(prefix)}; e.g. 'chunkline_'`,
    );
  }
  if (options.collectDefault ?? true) collectDefaultMetrics({ register: registry, prefix });
  const registers = [registry];
  const name = (suffix: string): string => prefix + suffix;

  const documents = new Counter({
    name: name('documents_total'),
    help: 'Input records processed, by outcome (chunked, deleted by a tombstone, dead-lettered).',
    labelNames: ['outcome'] as const,
    registers,
  });
  const chunks = new Counter({ name: name('chunks_total'), help: 'Chunks produced.', registers });
  const tokens = new Counter({
    name: name('tokens_total'),
    help: 'Tokens in the produced chunks, under the embedding model tokenizer.',
    registers,
  });
  const bytes = new Counter({ name: name('bytes_total'), help: 'Input document text, in bytes.', registers });
  const overCap = new Counter({
    name: name('over_cap_graphemes_total'),
    help: 'Grapheme clusters whose own token count exceeds the chunk cap (each became its own over-cap chunk).',
    registers,
  });
  const tokensPerChunk = new Histogram({
    name: name('tokens_per_chunk'),
    help: 'Tokens per produced chunk.',
    buckets: TOKENS_PER_CHUNK_BUCKETS,
    registers,
  });
  const chunksPerDocument = new Histogram({
    name: name('chunks_per_document'),
    help: 'Chunks per chunked document (deleted and dead-lettered documents are not observed).',
    buckets: CHUNKS_PER_DOCUMENT_BUCKETS,
    registers,
  });
  const documentSeconds = new Histogram({
    name: name('document_processing_seconds'),
    help: 'Time to process one input record (decode, chunk, encode), in seconds.',
    buckets: DOCUMENT_SECONDS_BUCKETS,
    registers,
  });
  const batchRecords = new Histogram({
    name: name('batch_records'),
    help: 'Records per consumed batch (one partition).',
    buckets: BATCH_RECORDS_BUCKETS,
    registers,
  });
  const batchSeconds = new Histogram({
    name: name('batch_duration_seconds'),
    help: 'Time from fetching a batch to committing or aborting it, in seconds, by outcome.',
    labelNames: ['outcome'] as const,
    buckets: BATCH_SECONDS_BUCKETS,
    registers,
  });
  const deadLetters = new Counter({
    name: name('dead_letters_total'),
    help: 'Records sent to the dead-letter topic, by reason (error code).',
    labelNames: ['reason'] as const,
    registers,
  });
  const retries = new Counter({
    name: name('retries_total'),
    help: 'Transient failures that were retried.',
    registers,
  });
  const connectFailures = new Counter({
    name: name('connect_failures_total'),
    help: 'Failed attempts to connect to the brokers (retried with backoff), by kind: authentication, tls, connection.',
    labelNames: ['kind'] as const,
    registers,
  });
  const listenerErrors = new Counter({
    name: name('listener_errors_total'),
    help: 'Runtime event listeners that threw (the runtime carried on).',
    registers,
  });
  const lag = new Gauge({
    name: name('consumer_lag'),
    help: 'Consumer lag in records: high watermark minus committed offset, by topic and partition.',
    labelNames: ['topic', 'partition'] as const,
    registers,
  });
  const state = new Gauge({
    name: name('state'),
    help: 'Worker lifecycle state: 1 for the current state, 0 for the others.',
    labelNames: ['state'] as const,
    registers,
  });
  const ready = new Gauge({
    name: name('ready'),
    help: 'Whether the worker is ready (RUNNING, joined to the group, producer ready): 1 or 0.',
    registers,
  });

  // Export every known label value from the start, so rates and alerts see 0 rather than a missing series.
  for (const outcome of DOCUMENT_OUTCOMES) documents.inc({ outcome }, 0);
  for (const outcome of BATCH_OUTCOMES) batchSeconds.zero({ outcome });
  const setState = (current: WorkerState): void => {
    for (const s of WORKER_STATES) state.set({ state: s }, s === current ? 1 : 0);
  };
  setState('INITIALIZED'); // The runtime starts there and emits `state` only on transitions.
  ready.set(0);

  const health = new HealthTracker();
  /** `topic\u0000partition` of every lag series, to drop those a rebalance took away. */
  const lagSeries = new Map<string, { topic: string; partition: string }>();

  const listener = (event: RuntimeEvent): void => {
    health.listener(event);
    switch (event.type) {
      case 'state':
        setState(event.to);
        break;
      case 'group-joined': {
        for (const [key, labels] of lagSeries) {
          if (!event.assignment[labels.topic]?.includes(Number(labels.partition))) {
            lag.remove(labels);
            lagSeries.delete(key);
          }
        }
        break;
      }
      case 'batch':
        batchRecords.observe(event.records);
        batchSeconds.observe({ outcome: event.outcome }, event.durationMs / 1000);
        break;
      case 'document':
        documents.inc({ outcome: event.outcome });
        chunks.inc(event.chunks);
        tokens.inc(event.tokens);
        bytes.inc(event.bytes);
        overCap.inc(event.overCapGraphemes);
        for (const t of event.chunkTokens) tokensPerChunk.observe(t);
        if (event.outcome === 'chunked') chunksPerDocument.observe(event.chunks);
        documentSeconds.observe(event.processingMs / 1000);
        break;
      case 'dead-letter':
        deadLetters.inc({ reason: event.reason });
        break;
      case 'retry':
        retries.inc();
        break;
      case 'connect-failed':
        connectFailures.inc({ kind: event.kind });
        break;
      case 'lag': {
        const labels = { topic: event.topic, partition: String(event.partition) };
        lag.set(labels, event.lag);
        lagSeries.set(`${labels.topic}\u0000${labels.partition}`, labels);
        break;
      }
      case 'listener-error':
        listenerErrors.inc();
        break;
      default:
        break;
    }
    ready.set(health.ready() ? 1 : 0);
  };
  return { registry, listener };
}
