/**
 * Errors and the one place that decides what to do with a failure (STYLE 6):
 * - `poison`: the record itself is bad (undecodable, invalid, too large, or chunking it failed). It is
 *   dead-lettered with a reason and the partition moves on. Never retried: the same bytes fail again.
 * - `transient`: the broker or network (leader moved, rebalance, timeout, coordinator loading). The
 *   transaction is aborted and the batch retried with backoff. Never dead-lettered.
 * - `fenced`: another worker now owns the partition (a newer producer epoch); stop this batch quietly.
 * - `fatal`: anything else outside a record (configuration, authentication): the worker fails.
 */
import { isChunkingError } from '@chunkline/chunking';
import { isRecordError } from '@chunkline/records';

export type FailureClass = 'poison' | 'transient' | 'fenced' | 'fatal';

/** Reasons a record is dead-lettered beyond the record decoder's own codes. */
export type PoisonReason =
  | 'MISSING_KEY'
  | 'KEY_MISMATCH'
  | 'TEXT_TOO_LARGE'
  | 'TOO_MANY_CHUNKS'
  | 'OUTPUT_TOO_LARGE'
  | 'INVALID_DOCUMENT'
  | 'CHUNKING_FAILED';

/** Where in the pipeline a record failed (header `chunkline.error.stage`). */
export type FailureStage = 'decode' | 'validate' | 'chunk' | 'encode';

const BRAND = Symbol.for('chunkline.RuntimeError');

/** Base error of the runtime: carries `retriable` and `cause`. */
export class RuntimeError extends Error {
  readonly retriable: boolean;
  readonly [BRAND] = true;
  constructor(message: string, options: { retriable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RuntimeError';
    this.retriable = options.retriable ?? false;
  }
}

/** A bad record: goes to the dead-letter topic with `reason` and `stage`. */
export class PoisonRecordError extends RuntimeError {
  constructor(
    readonly reason: string,
    readonly stage: FailureStage,
    message: string,
    cause?: unknown,
  ) {
    super(message, { retriable: false, cause });
    this.name = 'PoisonRecordError';
  }
}

/** A call not allowed in the current lifecycle state. */
export class IllegalStateError extends RuntimeError {
  constructor(message: string) {
    super(message);
    this.name = 'IllegalStateError';
  }
}

/** Shutdown did not finish within its deadline. */
export class ShutdownTimeoutError extends RuntimeError {
  constructor(timeoutMs: number, step: string) {
    super(`shutdown did not finish within ${timeoutMs} ms (stuck at: ${step}); forcing exit`);
    this.name = 'ShutdownTimeoutError';
  }
}

const NOT_RETRIABLE = new Set([
  'SASL_AUTHENTICATION_FAILED',
  'TOPIC_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'UNKNOWN_TOPIC_OR_PARTITION',
]);
const FENCED = new Set(['ProducerFencedError', 'InvalidProducerEpoch', 'INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED']);

/** Classifies a failure. Record-level errors must already be wrapped as {@link PoisonRecordError}. */
export function classify(err: unknown): FailureClass {
  if (err instanceof PoisonRecordError || isChunkingError(err)) return 'poison';
  if (isRecordError(err)) return err.retriable ? 'transient' : 'poison';
  if (
    err instanceof TypeError ||
    err instanceof RangeError ||
    err instanceof SyntaxError ||
    err instanceof ReferenceError
  ) {
    return 'fatal';
  }
  const e = err as { name?: string; type?: string; retriable?: boolean; cause?: unknown } | null;
  if (e !== null && typeof e === 'object') {
    if (FENCED.has(e.type ?? '') || FENCED.has(e.name ?? '')) return 'fenced';
    if (e.cause !== undefined && e.cause !== err && classify(e.cause) === 'fenced') return 'fenced';
    if (NOT_RETRIABLE.has(e.type ?? '') || e.name === 'KafkaJSSASLAuthenticationError') return 'fatal';
    if (e.retriable === true) return 'transient';
    if (typeof e.name === 'string' && e.name.startsWith('KafkaJS') && e.name !== 'KafkaJSNonRetriableError')
      return 'transient';
  }
  return 'fatal';
}
