/**
 * The only module that imports kafkajs (which has had no maintainer since 2023): the connection
 * settings and the client factory, so that a KafkaJS-compatible client can replace it here alone.
 */
import { readFileSync } from 'node:fs';
import { Kafka, logLevel, type Admin, type KafkaConfig, type SASLOptions } from 'kafkajs';

/** SASL mechanisms supported. */
export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

/** How to reach the brokers. */
export interface ConnectionOptions {
  /** Bootstrap brokers, `host:port`. */
  brokers: readonly string[];
  /** @default 'chunkline' */
  clientId?: string;
  /** TLS: true for the system CAs, or files. */
  tls?: boolean | { caFile?: string; certFile?: string; keyFile?: string; rejectUnauthorized?: boolean };
  sasl?: { mechanism: SaslMechanism; username: string; password: string };
  /** Connection timeout. @default 10000 */
  connectionTimeoutMs?: number;
}

/** Level of a kafkajs log entry as passed to the `log` callback of {@link createKafka}. */
export type KafkaLogLevel = 'error' | 'warn' | 'debug';

/**
 * kafkajs logs one failed connection or authentication up to three times before it throws it: the
 * `Connection` (the socket or TLS error, or the failed SaslAuthenticate response), the
 * `SaslAuthenticator-<mechanism>` and the `BrokerPool` (once more per internal retry). The error then
 * reaches the runtime, which reports it once (`connect-failed`, `retry` or `fatal`), so these
 * namespaces are passed on at debug: visible when asked for, never a flood of duplicates.
 */
export function kafkaLogLevel(namespace: string | undefined, level: 'error' | 'warn'): KafkaLogLevel {
  if (namespace === undefined) return level; // kafkajs's root logger (its types say string; it is not)
  if (namespace === 'Connection' || namespace === 'BrokerPool' || namespace.startsWith('SaslAuthenticator'))
    return 'debug';
  return level;
}

/**
 * Creates the kafkajs client. Reads TLS files once. Errors and warnings of kafkajs go to `log`, at the
 * level {@link kafkaLogLevel} gives them.
 */
export function createKafka(
  options: ConnectionOptions,
  log?: (level: KafkaLogLevel, message: string, extra: object) => void,
): Kafka {
  const config: KafkaConfig = {
    clientId: options.clientId ?? 'chunkline',
    brokers: [...options.brokers],
    connectionTimeout: options.connectionTimeoutMs ?? 10_000,
    retry: { initialRetryTime: 200, retries: 8, maxRetryTime: 10_000 },
    logLevel: logLevel.WARN,
    logCreator: () => (entry) => {
      if (log === undefined) return;
      const { message, ...extra } = entry.log;
      const namespace = entry.namespace as string | undefined;
      const level = kafkaLogLevel(namespace, entry.level === logLevel.ERROR ? 'error' : 'warn');
      log(level, namespace === undefined ? `kafkajs: ${message}` : `kafkajs ${namespace}: ${message}`, extra);
    },
  };
  if (options.tls !== undefined && options.tls !== false) {
    const t = options.tls === true ? {} : options.tls;
    config.ssl = {
      rejectUnauthorized: t.rejectUnauthorized ?? true,
      ...(t.caFile ? { ca: [readFileSync(t.caFile, 'utf8')] } : {}),
      ...(t.certFile ? { cert: readFileSync(t.certFile, 'utf8') } : {}),
      ...(t.keyFile ? { key: readFileSync(t.keyFile, 'utf8') } : {}),
    };
  }
  if (options.sasl !== undefined) {
    config.sasl = {
      mechanism: options.sasl.mechanism,
      username: options.sasl.username,
      password: options.sasl.password,
    } as SASLOptions;
  }
  const kafka = new Kafka(config);
  configs.set(kafka, config);
  return kafka;
}

/** The configuration of each client {@link createKafka} made, for {@link singleAttemptAdmin}. */
const configs = new WeakMap<Kafka, KafkaConfig>();

/**
 * An admin client of the same brokers, credentials and TLS settings that makes each connection once:
 * kafkajs retries the seed broker connection with the client's `retry` settings (an admin's own
 * `retry` does not reach it), so the probe gets a client of its own with `retries: 0`. For a client
 * not made by {@link createKafka}, an ordinary admin client.
 */
export function singleAttemptAdmin(kafka: Kafka): Admin {
  const config = configs.get(kafka);
  if (config === undefined) return kafka.admin({ retry: { retries: 0 } });
  return new Kafka({ ...config, retry: { ...config.retry, retries: 0 } }).admin();
}

export type { Kafka };
