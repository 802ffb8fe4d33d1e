/**
 * Environment-variable configuration shared by chunkline's services (the worker and the indexer):
 * zod helpers, the Kafka connection variables, and one parser whose errors name each variable and what
 * it accepts, never printing a secret. Services pass `process.env` in as a record (STYLE 4).
 */
import { z } from 'zod';
import type { ConnectionOptions } from './kafka.js';

/** A whole number given as a string, at least `min`. */
export const envInt = (min: number): z.ZodType<number, string> =>
  z
    .string()
    .regex(/^[0-9]+$/, 'must be a whole number')
    .transform(Number)
    .refine((n) => Number.isSafeInteger(n) && n >= min, `must be an integer >= ${min}`);

/** true/false, 1/0 or yes/no. */
export const envBool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** The Kafka connection variables every service reads. */
export const kafkaEnvShape = {
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
  KAFKA_SASL_MECHANISM: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(),
  KAFKA_SASL_USERNAME: z.string().optional(),
  KAFKA_SASL_PASSWORD: z.string().optional(),
  KAFKA_TLS: envBool.default(false),
  KAFKA_TLS_CA_FILE: z.string().optional(),
  KAFKA_TLS_CERT_FILE: z.string().optional(),
  KAFKA_TLS_KEY_FILE: z.string().optional(),
  KAFKA_TLS_REJECT_UNAUTHORIZED: envBool.default(true),
};

type KafkaEnv = z.output<z.ZodObject<typeof kafkaEnvShape>>;

/** Variables whose values are never printed. */
export const SECRET_VARIABLES: ReadonlySet<string> = new Set([
  'KAFKA_SASL_PASSWORD',
  'CHUNKLINE_SCHEMA_REGISTRY_PASSWORD',
]);

/** A configuration that cannot start a service; the message names every bad variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Parses the variables of `schema` from `env` (empty values count as unset), then checks `rules`
 * across variables (each returns problem lines). Throws {@link ConfigError}; returns a frozen object.
 */
export function parseEnv<T extends z.ZodRawShape>(
  schema: z.ZodObject<T>,
  env: Readonly<Record<string, string | undefined>>,
  rules: (c: z.output<z.ZodObject<T>>) => string[] = () => [],
): Readonly<z.output<z.ZodObject<T>>> {
  const picked: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const v = env[key];
    if (v !== undefined && v !== '') picked[key] = v;
  }
  const parsed = schema.safeParse(picked);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const name = String(i.path[0] ?? '?');
      const shown = name in picked && !SECRET_VARIABLES.has(name) ? ` (got ${JSON.stringify(picked[name])})` : '';
      return `${name}: ${name in picked ? i.message : 'is required'}${shown}`;
    });
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const problems = rules(parsed.data);
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  return Object.freeze(parsed.data);
}

/** Rules across the Kafka variables. */
export function kafkaEnvProblems(c: KafkaEnv): string[] {
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
  return problems;
}

/** The Kafka connection of parsed variables. */
export function connectionFromEnv(c: KafkaEnv, clientId: string): ConnectionOptions {
  return {
    brokers: c.KAFKA_BROKERS,
    clientId,
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
