import type { RuntimeEvent, RuntimeListener } from '@chunkline/runtime';
import { pino, type DestinationStream, type Logger } from 'pino';
import { ObservabilityError } from './errors.js';

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Lowest level written: `fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`. @default 'info' */
  level?: string;
  /** Written as `name` on every line. @default none */
  name?: string;
  /** Where the JSON lines go. @default stdout */
  destination?: DestinationStream;
}

/** Keys whose values are secrets (or objects of secrets, like KafkaJS `sasl`) wherever they appear. */
const SECRET_KEYS = [
  'password',
  'passwd',
  'secret',
  'token',
  'accessToken',
  'refreshToken',
  'sessionToken',
  'apiKey',
  'secretAccessKey',
  'authorization',
  'cookie',
  'sasl',
];

/**
 * fast-redact paths (pino's `redact`). A `*` matches one level, so each key is listed at the top level and
 * one and two levels down, which covers `{ kafka: { sasl: … } }` and `{ config: { kafka: { ssl: { key } } } }`.
 * `key` is redacted only when nested (`ssl.key`, `*.key`): a top-level `key` is left alone.
 */
const REDACT_PATHS = [
  ...SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]),
  '*.key',
  '*.*.key',
  'ssl.key',
  '*.ssl.key',
  '*.*.ssl.key',
];

const LEVELS = new Set([...Object.keys(pino.levels.values), 'silent']);

/**
 * A pino logger writing one JSON object per line, with `level` as a label (`"info"`), an ISO `time`, and
 * secret-looking fields (passwords, tokens, `sasl`, `ssl.key`, authorization headers…) replaced by
 * `'[redacted]'`. Redaction goes by key, so a secret under an unlisted key or deeper than three levels is
 * written as is: log the fields you need, not whole config objects.
 * @throws ObservabilityError `BAD_OPTION` for an unknown level.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  if (!LEVELS.has(level)) {
    throw new ObservabilityError(
      'BAD_OPTION',
      'level',
      `level must be one of ${[...LEVELS].join(', ')}, got ${JSON.stringify(level)}`,
    );
  }
  const pinoOptions = {
    level,
    ...(options.name === undefined ? {} : { name: options.name }),
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return options.destination === undefined ? pino(pinoOptions) : pino(pinoOptions, options.destination);
}

/** What each kind of connection failure means, for the log line. */
const CONNECT_FAILURE = {
  authentication: ['authentication failed', 'check the SASL username and password'],
  tls: ['TLS handshake failed', 'check the CA file and the broker certificate'],
  connection: ['no broker reachable', 'check KAFKA_BROKERS and the network'],
} as const;

/**
 * A listener that logs runtime events, each line with `event` set to the event type:
 * `state`, `group-joined` (with the assignment), `producer-ready` and `connected` at info; `batch` and
 * `document` at debug; `lag` at trace; `dead-letter` and `retry` at warn; `connect-failed` at error (at
 * warn for an unreachable broker), one line per attempt with no stack; `fatal` and `listener-error` at
 * error, with `err`.
 */
export function logEvents(logger: Logger): RuntimeListener {
  return (e: RuntimeEvent): void => {
    switch (e.type) {
      case 'state':
        logger.info({ event: e.type, from: e.from, to: e.to }, `worker state ${e.from} -> ${e.to}`);
        break;
      case 'group-joined': {
        const partitions = Object.values(e.assignment).reduce((n, ps) => n + ps.length, 0);
        logger.info(
          { event: e.type, memberId: e.memberId, assignment: e.assignment, partitions },
          `joined the consumer group with ${partitions} partition(s)`,
        );
        break;
      }
      case 'producer-ready':
        logger.info(
          { event: e.type, ready: e.ready, producers: e.producers },
          !e.ready
            ? 'producers disconnected'
            : e.producers === 0
              ? 'producer ready: no partition assigned, none needed'
              : `producer ready (${e.producers} connected)`,
        );
        break;
      case 'connect-failed':
        logger[e.kind === 'connection' ? 'warn' : 'error'](
          { event: e.type, kind: e.kind, attempt: e.attempt, delayMs: e.delayMs, error: e.error },
          `cannot connect to Kafka: ${CONNECT_FAILURE[e.kind][0]} (attempt ${e.attempt}, retrying in ${e.delayMs} ms; ${CONNECT_FAILURE[e.kind][1]}): ${e.error}`,
        );
        break;
      case 'connected':
        logger.info({ event: e.type, attempts: e.attempts }, `connected to Kafka (attempt ${e.attempts})`);
        break;
      case 'batch':
        logger.debug(
          {
            event: e.type,
            topic: e.topic,
            partition: e.partition,
            records: e.records,
            durationMs: e.durationMs,
            outcome: e.outcome,
          },
          `batch ${e.outcome}`,
        );
        break;
      case 'document':
        logger.debug(
          {
            event: e.type,
            docId: e.docId,
            topic: e.topic,
            partition: e.partition,
            offset: e.offset,
            chunks: e.chunks,
            tokens: e.tokens,
            outcome: e.outcome,
            processingMs: e.processingMs,
          },
          `document ${e.outcome}`,
        );
        break;
      case 'dead-letter':
        logger.warn(
          { event: e.type, reason: e.reason, topic: e.topic, partition: e.partition, offset: e.offset },
          `record dead-lettered: ${e.reason}`,
        );
        break;
      case 'retry':
        logger.warn(
          { event: e.type, attempt: e.attempt, delayMs: e.delayMs, error: e.error },
          `retrying in ${e.delayMs} ms (attempt ${e.attempt})`,
        );
        break;
      case 'lag':
        logger.trace({ event: e.type, topic: e.topic, partition: e.partition, lag: e.lag }, 'consumer lag');
        break;
      case 'fatal':
        logger.error({ event: e.type, err: e.error }, 'fatal error, worker failing');
        break;
      case 'listener-error':
        logger.error({ event: e.type, err: e.error }, 'a runtime event listener threw');
        break;
      default:
        break;
    }
  };
}
