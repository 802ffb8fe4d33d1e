/**
 * The indexer's configuration: environment variables parsed once with zod into a frozen object, then
 * compiled into {@link IndexerOptions}. Every error names the variable and what it accepts. The
 * environment comes in as a record (STYLE 4).
 */
import { z } from 'zod';
import {
  ConfigError,
  connectionFromEnv,
  envBool as bool,
  envInt as int,
  kafkaEnvProblems,
  kafkaEnvShape,
  parseEnv,
  type ConnectionOptions,
} from '@chunkline/runtime';
import type { IndexerOptions } from './indexer.js';

export { ConfigError };

const Env = z.object({
  ...kafkaEnvShape,
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
});

/** The parsed environment. */
export type IndexerConfig = Readonly<z.output<typeof Env>>;

/** Parses the environment; throws {@link ConfigError} listing each bad variable and what it accepts. */
export function loadIndexerConfig(env: Readonly<Record<string, string | undefined>>): IndexerConfig {
  return parseEnv(Env, env, (c) => {
    const problems = kafkaEnvProblems(c);
    if (c.CHUNKLINE_CHUNK_TOPIC === c.CHUNKLINE_MANIFEST_TOPIC) {
      problems.push('CHUNKLINE_CHUNK_TOPIC and CHUNKLINE_MANIFEST_TOPIC: must name different topics');
    }
    return problems;
  });
}

/** The Kafka connection of a configuration. */
export function connectionOf(c: IndexerConfig): ConnectionOptions {
  return connectionFromEnv(c, c.CHUNKLINE_CLIENT_ID);
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
