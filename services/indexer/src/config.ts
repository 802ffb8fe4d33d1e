/**
 * The indexer's configuration: environment variables parsed once with zod into a frozen object, then
 * compiled into {@link IndexerOptions}. Every error names the variable and what it accepts. The
 * environment comes in as a record (STYLE 4).
 */
import { z } from 'zod';
import type { ConnectionOptions } from '@chunkline/runtime';
import type { IndexerOptions } from './indexer.js';

const int = (min: number) =>
  z
    .string()
    .regex(/^[0-9]+$/, 'must be a whole number')
    .transform(Number)
    .refine((n) => Number.isSafeInteger(n) && n >= min, `must be an integer >= ${min}`);

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const Env = z.object({
  KAFKA_BROKERS: z
    .string()
    .min(1)
    .transform((s) =>
      s
        .split(',')
        .map((b) => b.trim())
        .filter((b) => b !== ''),
    )
    .refine((l) => l.length > 0 && l.every((b) => /^[^:\s]+:[0-9]+$/.test(b)), 'must be host:port[,host:port...]'),
  CHUNKLINE_CLIENT_ID: z.string().min(1).default('chunkline-indexer'),
  CHUNKLINE_INDEXER_GROUP_ID: z.string().min(1).default('chunkline-indexer'),
  CHUNKLINE_CHUNK_TOPIC: z.string().min(1).default('documents.chunks'),
  CHUNKLINE_MANIFEST_TOPIC: z.string().min(1).default('documents.manifests'),
  CHUNKLINE_INDEX_DB: z.string().min(1).default('chunkline-index.db'),
  CHUNKLINE_INDEXER_FROM_BEGINNING: bool.default(true),
  CHUNKLINE_INDEXER_HTTP_PORT: int(0).optional(),
  CHUNKLINE_HTTP_HOST: z.string().min(1).default('0.0.0.0'),
  CHUNKLINE_SHUTDOWN_TIMEOUT_MS: int(1000).default(25_000),
  CHUNKLINE_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  CHUNKLINE_SCHEMA_REGISTRY_URL: z.url().optional(),
  CHUNKLINE_SCHEMA_REGISTRY_USERNAME: z.string().optional(),
  CHUNKLINE_SCHEMA_REGISTRY_PASSWORD: z.string().optional(),
  KAFKA_SASL_MECHANISM: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(),
  KAFKA_SASL_USERNAME: z.string().optional(),
  KAFKA_SASL_PASSWORD: z.string().optional(),
  KAFKA_TLS: bool.default(false),
  KAFKA_TLS_CA_FILE: z.string().optional(),
  KAFKA_TLS_CERT_FILE: z.string().optional(),
  KAFKA_TLS_KEY_FILE: z.string().optional(),
  KAFKA_TLS_REJECT_UNAUTHORIZED: bool.default(true),
});

/** The parsed environment. */
export type IndexerConfig = Readonly<z.output<typeof Env>>;

/** A configuration that cannot start an indexer; the message names every bad variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Variables whose values are never printed. */
const SECRET_VARIABLES: ReadonlySet<string> = new Set(['KAFKA_SASL_PASSWORD', 'CHUNKLINE_SCHEMA_REGISTRY_PASSWORD']);

/** Parses the environment; throws {@link ConfigError} listing each bad variable and what it accepts. */
export function loadIndexerConfig(env: Readonly<Record<string, string | undefined>>): IndexerConfig {
  const picked: Record<string, string> = {};
  for (const key of Object.keys(Env.shape)) {
    const v = env[key];
    if (v !== undefined && v !== '') picked[key] = v;
  }
  const parsed = Env.safeParse(picked);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const name = String(i.path[0] ?? '?');
      const shown = name in picked && !SECRET_VARIABLES.has(name) ? ` (got ${JSON.stringify(picked[name])})` : '';
      return `${name}: ${name in picked ? i.message : 'is required'}${shown}`;
    });
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const c = parsed.data;
  const problems: string[] = [];
  if (
    c.KAFKA_SASL_MECHANISM !== undefined &&
    (c.KAFKA_SASL_USERNAME === undefined || c.KAFKA_SASL_PASSWORD === undefined)
  ) {
    problems.push('KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD: are required with KAFKA_SASL_MECHANISM');
  }
  if ((c.KAFKA_TLS_CERT_FILE === undefined) !== (c.KAFKA_TLS_KEY_FILE === undefined)) {
    problems.push('KAFKA_TLS_CERT_FILE and KAFKA_TLS_KEY_FILE: give both for a client certificate, or neither');
  }
  if (c.CHUNKLINE_CHUNK_TOPIC === c.CHUNKLINE_MANIFEST_TOPIC) {
    problems.push('CHUNKLINE_CHUNK_TOPIC and CHUNKLINE_MANIFEST_TOPIC: must name different topics');
  }
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  return Object.freeze(c);
}

/** The Kafka connection of a configuration. */
export function connectionOf(c: IndexerConfig): ConnectionOptions {
  return {
    brokers: c.KAFKA_BROKERS,
    clientId: c.CHUNKLINE_CLIENT_ID,
    tls: c.KAFKA_TLS
      ? {
          caFile: c.KAFKA_TLS_CA_FILE,
          certFile: c.KAFKA_TLS_CERT_FILE,
          keyFile: c.KAFKA_TLS_KEY_FILE,
          rejectUnauthorized: c.KAFKA_TLS_REJECT_UNAUTHORIZED,
        }
      : false,
    sasl:
      c.KAFKA_SASL_MECHANISM === undefined
        ? undefined
        : {
            mechanism: c.KAFKA_SASL_MECHANISM,
            username: c.KAFKA_SASL_USERNAME ?? '',
            password: c.KAFKA_SASL_PASSWORD ?? '',
          },
  };
}

/** The indexer options of a configuration (without the registry client and the logger). */
export function indexerOptionsOf(c: IndexerConfig): IndexerOptions {
  return {
    groupId: c.CHUNKLINE_INDEXER_GROUP_ID,
    chunkTopic: c.CHUNKLINE_CHUNK_TOPIC,
    manifestTopic: c.CHUNKLINE_MANIFEST_TOPIC,
    dbPath: c.CHUNKLINE_INDEX_DB,
    fromBeginning: c.CHUNKLINE_INDEXER_FROM_BEGINNING,
    shutdownTimeoutMs: c.CHUNKLINE_SHUTDOWN_TIMEOUT_MS,
  };
}
