/** Options of the streaming worker, compiled once with defaults and cross-field checks (STYLE 4, 5). */
import { RuntimeError } from './errors.js';

/** How output reaches the topics. */
export type Delivery = 'exactly-once' | 'at-least-once';

export interface WorkerOptions {
  /** Consumer group id. Required. */
  groupId: string;
  /** @default 'documents.raw' */
  inputTopic?: string;
  /** @default 'documents.chunks' */
  chunkTopic?: string;
  /** @default 'documents.manifests' */
  manifestTopic?: string;
  /** @default 'documents.dlq' */
  dlqTopic?: string;
  /** Topic of Section records (the `sections` hierarchy). @default 'documents.sections' */
  sectionTopic?: string;
  /** @default 'exactly-once' */
  delivery?: Delivery;
  /** Largest document text accepted, in UTF-8 bytes; larger ones are dead-lettered. @default 10485760 (10 MiB) */
  maxDocBytes?: number;
  /** Most chunks one document may produce; more is dead-lettered. @default 10000 */
  maxChunksPerDoc?: number;
  /** Largest output record value (the broker's max.message.bytes, minus headroom). @default 1000000 */
  maxMessageBytes?: number;
  /** Partitions processed at the same time by this worker. @default 4 */
  partitionsConcurrently?: number;
  /** Records per transaction (a batch is split into transactions of at most this many). @default 500 */
  recordsPerTransaction?: number;
  /** Deadline of a graceful stop. @default 25000 */
  shutdownTimeoutMs?: number;
  /** First retry delay after a transient failure; doubles up to `retryMaxDelayMs`. @default 200 */
  retryInitialDelayMs?: number;
  /** @default 10000 */
  retryMaxDelayMs?: number;
  /**
   * First delay before connecting again after the brokers could not be reached or refused the
   * credentials or the TLS handshake; doubles up to `connectRetryMaxDelayMs`. The worker keeps trying
   * (not ready, still alive) until it connects or is stopped. @default 1000
   */
  connectRetryInitialDelayMs?: number;
  /** Longest delay between two connection attempts. @default 30000 */
  connectRetryMaxDelayMs?: number;
  /** Prefix of transactional ids (`<prefix>-<topic>-<partition>`). @default the group id */
  transactionalIdPrefix?: string;
}

export type CompiledWorkerOptions = Readonly<Required<WorkerOptions>>;

function positive(name: string, v: number): number {
  if (!Number.isInteger(v) || v <= 0) throw new RuntimeError(`${name} must be a positive integer, got ${v}`);
  return v;
}

export function compileWorkerOptions(o: WorkerOptions): CompiledWorkerOptions {
  if (typeof o.groupId !== 'string' || o.groupId === '') throw new RuntimeError('groupId must be a non-empty string');
  const c = {
    groupId: o.groupId,
    inputTopic: o.inputTopic ?? 'documents.raw',
    chunkTopic: o.chunkTopic ?? 'documents.chunks',
    manifestTopic: o.manifestTopic ?? 'documents.manifests',
    dlqTopic: o.dlqTopic ?? 'documents.dlq',
    sectionTopic: o.sectionTopic ?? 'documents.sections',
    delivery: o.delivery ?? 'exactly-once',
    maxDocBytes: positive('maxDocBytes', o.maxDocBytes ?? 10 * 1024 * 1024),
    maxChunksPerDoc: positive('maxChunksPerDoc', o.maxChunksPerDoc ?? 10_000),
    maxMessageBytes: positive('maxMessageBytes', o.maxMessageBytes ?? 1_000_000),
    partitionsConcurrently: positive('partitionsConcurrently', o.partitionsConcurrently ?? 4),
    recordsPerTransaction: positive('recordsPerTransaction', o.recordsPerTransaction ?? 500),
    shutdownTimeoutMs: positive('shutdownTimeoutMs', o.shutdownTimeoutMs ?? 25_000),
    retryInitialDelayMs: positive('retryInitialDelayMs', o.retryInitialDelayMs ?? 200),
    retryMaxDelayMs: positive('retryMaxDelayMs', o.retryMaxDelayMs ?? 10_000),
    connectRetryInitialDelayMs: positive('connectRetryInitialDelayMs', o.connectRetryInitialDelayMs ?? 1_000),
    connectRetryMaxDelayMs: positive('connectRetryMaxDelayMs', o.connectRetryMaxDelayMs ?? 30_000),
    transactionalIdPrefix: o.transactionalIdPrefix ?? o.groupId,
  };
  if (c.delivery !== 'exactly-once' && c.delivery !== 'at-least-once') {
    throw new RuntimeError(`delivery must be exactly-once or at-least-once, got ${String(c.delivery)}`);
  }
  const topics = [c.inputTopic, c.chunkTopic, c.manifestTopic, c.dlqTopic, c.sectionTopic];
  if (new Set(topics).size !== topics.length) {
    throw new RuntimeError(
      `input, chunk, manifest, dead-letter and section topics must all differ, got ${topics.join(', ')}`,
    );
  }
  if (c.retryMaxDelayMs < c.retryInitialDelayMs)
    throw new RuntimeError('retryMaxDelayMs must be >= retryInitialDelayMs');
  if (c.connectRetryMaxDelayMs < c.connectRetryInitialDelayMs)
    throw new RuntimeError('connectRetryMaxDelayMs must be >= connectRetryInitialDelayMs');
  return Object.freeze(c);
}
