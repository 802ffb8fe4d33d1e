/**
 * Errors and the one place that decides what to do with a failure (STYLE 6):
 * - `poison`: the record itself is bad (undecodable, invalid, too large, or chunking it failed). It is
 *   dead-lettered with a reason and the partition moves on. Never retried: the same bytes fail again.
 * - `transient`: the broker or network (leader moved, rebalance, timeout, coordinator loading). The
 *   transaction is aborted and the batch retried with backoff. Never dead-lettered.
 * - `fenced`: another worker now owns the partition (a newer producer epoch); stop this batch quietly.
 * - `fatal`: anything else outside a record (configuration, authorization, a bug): the worker fails.
 *
 * Connecting is decided separately, by {@link connectFailureKind}: an authentication failure (a wrong
 * or rotated password), a TLS failure (an untrusted or expired certificate) or an unreachable broker
 * fails the same way on every immediate retry, but its remedy is outside the process (credentials
 * rotate, certificates get fixed, brokers come back), so the worker keeps trying to connect with a
 * long backoff instead of exiting. Once connected, `classify` applies: an authentication failure in
 * the middle of a batch is still `fatal`.
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

/** Why connecting to the brokers failed, when the remedy is to try again later (see the module comment). */
export type ConnectFailureKind = 'authentication' | 'tls' | 'connection';

/** Node's TLS verification and handshake error codes (`tls.TLSSocket` `error.code`). */
const TLS_CODES = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_REVOKED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'EPROTO',
]);
const AUTHENTICATION = new Set(['KafkaJSSASLAuthenticationError', 'SASL_AUTHENTICATION_FAILED', 'ILLEGAL_SASL_STATE']);
const CONNECTION = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
]);

/** The error and its `cause` chain, outermost first (bounded: a cycle cannot loop). */
function causes(err: unknown): { name?: unknown; type?: unknown; code?: unknown; message?: unknown }[] {
  const chain: { name?: unknown; type?: unknown; code?: unknown; message?: unknown }[] = [];
  let e: unknown = err;
  while (e !== null && typeof e === 'object' && chain.length < 8 && !chain.includes(e)) {
    chain.push(e);
    e = (e as { cause?: unknown }).cause;
  }
  return chain;
}

/**
 * The kind of a failure to connect to the brokers that is worth retrying until it is fixed, or
 * `undefined` for anything else (a bad configuration, an unsupported SASL mechanism, a bug), which
 * stays fatal. Looks through kafkajs's wrappers (`KafkaJSNonRetriableError`,
 * `KafkaJSNumberOfRetriesExceeded`) along `cause`.
 */
export function connectFailureKind(err: unknown): ConnectFailureKind | undefined {
  const chain = causes(err);
  const has = (set: ReadonlySet<string>, key: 'name' | 'type' | 'code'): boolean =>
    chain.some((e) => typeof e[key] === 'string' && set.has(e[key]));
  if (has(AUTHENTICATION, 'name') || has(AUTHENTICATION, 'type')) return 'authentication';
  if (has(TLS_CODES, 'code') || chain.some((e) => typeof e.code === 'string' && e.code.startsWith('ERR_SSL_')))
    return 'tls';
  if (has(CONNECTION, 'name')) return 'connection';
  return undefined;
}

/** The message of the innermost error of a `cause` chain: kafkajs wrappers repeat it with prefixes. */
export function rootMessage(err: unknown): string {
  const chain = causes(err);
  for (let i = chain.length - 1; i >= 0; i--) {
    const m = chain[i]?.message;
    if (typeof m === 'string' && m !== '') return m;
  }
  return String(err);
}
