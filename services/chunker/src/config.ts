/**
 * The worker's configuration: environment variables parsed once with zod into a frozen object. Every
 * error names the variable and what it accepts. The environment comes in as a record (STYLE 4).
 */
import { z } from 'zod';

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
  CHUNKLINE_CLIENT_ID: z.string().min(1).default('chunkline'),
  CHUNKLINE_GROUP_ID: z.string().min(1).default('chunkline'),
  CHUNKLINE_INPUT_TOPIC: z.string().min(1).default('documents.raw'),
  CHUNKLINE_CHUNK_TOPIC: z.string().min(1).default('documents.chunks'),
  CHUNKLINE_MANIFEST_TOPIC: z.string().min(1).default('documents.manifests'),
  CHUNKLINE_DLQ_TOPIC: z.string().min(1).default('documents.dlq'),
  CHUNKLINE_SECTION_TOPIC: z.string().min(1).default('documents.sections'),
  CHUNKLINE_HIERARCHY: z.enum(['none', 'sections']).default('none'),
  CHUNKLINE_PARENT_MAX_TOKENS: int(1).optional(),
  CHUNKLINE_TOKENIZER: z.string().min(1).default('bert-base-uncased'),
  CHUNKLINE_STRATEGY: z.enum(['semantic', 'window']).default('semantic'),
  CHUNKLINE_MAX_TOKENS: int(1).default(512),
  CHUNKLINE_OVERLAP: int(0).default(0),
  CHUNKLINE_RESERVED: int(0).default(2),
  CHUNKLINE_DELIVERY: z.enum(['exactly-once', 'at-least-once']).default('exactly-once'),
  CHUNKLINE_MAX_DOC_BYTES: int(1).default(10 * 1024 * 1024),
  CHUNKLINE_MAX_CHUNKS_PER_DOC: int(1).default(10_000),
  CHUNKLINE_MAX_MESSAGE_BYTES: int(1024).default(1_000_000),
  CHUNKLINE_PARTITIONS_CONCURRENTLY: int(1).default(2),
  CHUNKLINE_RECORDS_PER_TRANSACTION: int(1).default(100),
  CHUNKLINE_HTTP_PORT: int(0).default(8080),
  CHUNKLINE_HTTP_HOST: z.string().min(1).default('0.0.0.0'),
  CHUNKLINE_SHUTDOWN_TIMEOUT_MS: int(1000).default(25_000),
  CHUNKLINE_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
  CHUNKLINE_OUTPUT_ENCODING: z.enum(['single-object', 'registry']).default('single-object'),
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

/** The compiled configuration. */
export type WorkerConfig = Readonly<z.output<typeof Env>>;

/** A configuration that cannot start a worker; the message names every bad variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Variables whose values are never printed. */
export const SECRET_VARIABLES: ReadonlySet<string> = new Set([
  'KAFKA_SASL_PASSWORD',
  'CHUNKLINE_SCHEMA_REGISTRY_PASSWORD',
]);

/** Parses the environment; throws {@link ConfigError} listing each bad variable and what it accepts. */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): WorkerConfig {
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
  if (c.CHUNKLINE_OUTPUT_ENCODING === 'registry' && c.CHUNKLINE_SCHEMA_REGISTRY_URL === undefined) {
    problems.push('CHUNKLINE_SCHEMA_REGISTRY_URL: is required when CHUNKLINE_OUTPUT_ENCODING=registry');
  }
  if (
    c.KAFKA_SASL_MECHANISM !== undefined &&
    (c.KAFKA_SASL_USERNAME === undefined || c.KAFKA_SASL_PASSWORD === undefined)
  ) {
    problems.push('KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD: are required with KAFKA_SASL_MECHANISM');
  }
  if ((c.KAFKA_TLS_CERT_FILE === undefined) !== (c.KAFKA_TLS_KEY_FILE === undefined)) {
    problems.push('KAFKA_TLS_CERT_FILE and KAFKA_TLS_KEY_FILE: give both for a client certificate, or neither');
  }
  if (c.CHUNKLINE_OVERLAP >= c.CHUNKLINE_MAX_TOKENS - c.CHUNKLINE_RESERVED) {
    problems.push(
      `CHUNKLINE_OVERLAP: must be less than CHUNKLINE_MAX_TOKENS - CHUNKLINE_RESERVED (${c.CHUNKLINE_MAX_TOKENS - c.CHUNKLINE_RESERVED})`,
    );
  }
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  return Object.freeze(c);
}
