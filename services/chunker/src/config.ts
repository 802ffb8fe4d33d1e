/**
 * The worker's configuration: environment variables parsed once with zod into a frozen object. Every
 * error names the variable and what it accepts. The environment comes in as a record (STYLE 4).
 */
import { z } from 'zod';
import {
  ConfigError,
  defaultThreadCount,
  envInt as int,
  kafkaEnvProblems,
  kafkaEnvShape,
  parseEnv,
  SECRET_VARIABLES,
} from '@chunkline/runtime';

export { ConfigError, SECRET_VARIABLES };

const Env = z.object({
  ...kafkaEnvShape,
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
  CHUNKLINE_PARTITIONS_CONCURRENTLY: int(1).default(4),
  CHUNKLINE_WORKER_THREADS: int(0).default(defaultThreadCount()),
  CHUNKLINE_RECORDS_PER_TRANSACTION: int(1).default(500),
  CHUNKLINE_HTTP_PORT: int(0).default(8080),
  CHUNKLINE_HTTP_HOST: z.string().min(1).default('0.0.0.0'),
  CHUNKLINE_SHUTDOWN_TIMEOUT_MS: int(1000).default(25_000),
  CHUNKLINE_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
  CHUNKLINE_OUTPUT_ENCODING: z.enum(['single-object', 'registry']).default('single-object'),
  CHUNKLINE_SCHEMA_REGISTRY_URL: z.url().optional(),
  CHUNKLINE_SCHEMA_REGISTRY_USERNAME: z.string().optional(),
  CHUNKLINE_SCHEMA_REGISTRY_PASSWORD: z.string().optional(),
});

/** The compiled configuration. */
export type WorkerConfig = Readonly<z.output<typeof Env>>;

/** Every variable the worker reads (the deploy checks compare the manifests against it). */
export const WORKER_ENV_VARIABLES: readonly string[] = Object.freeze(Object.keys(Env.shape));

/** Parses the environment; throws {@link ConfigError} listing each bad variable and what it accepts. */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): WorkerConfig {
  return parseEnv(Env, env, (c) => {
    const problems = kafkaEnvProblems(c);
    if (c.CHUNKLINE_OUTPUT_ENCODING === 'registry' && c.CHUNKLINE_SCHEMA_REGISTRY_URL === undefined) {
      problems.push('CHUNKLINE_SCHEMA_REGISTRY_URL: is required when CHUNKLINE_OUTPUT_ENCODING=registry');
    }
    if (c.CHUNKLINE_OVERLAP >= c.CHUNKLINE_MAX_TOKENS - c.CHUNKLINE_RESERVED) {
      problems.push(
        `CHUNKLINE_OVERLAP: must be less than CHUNKLINE_MAX_TOKENS - CHUNKLINE_RESERVED (${c.CHUNKLINE_MAX_TOKENS - c.CHUNKLINE_RESERVED})`,
      );
    }
    return problems;
  });
}
