/**
 * The only module that imports kafkajs (which has had no maintainer since 2023): the connection
 * settings and the client factory, so that a KafkaJS-compatible client can replace it here alone.
 */
import { readFileSync } from 'node:fs';
import { Kafka, logLevel, type KafkaConfig, type SASLOptions } from 'kafkajs';

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

/** Creates the kafkajs client. Reads TLS files once. Logs from kafkajs go to `log` (errors and warnings). */
export function createKafka(
  options: ConnectionOptions,
  log?: (level: 'error' | 'warn', message: string, extra: object) => void,
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
      log(entry.level === logLevel.ERROR ? 'error' : 'warn', `kafkajs ${entry.namespace}: ${message}`, extra);
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
  return new Kafka(config);
}

export type { Kafka };
