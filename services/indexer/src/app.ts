/**
 * Composition root of the indexer: configuration → logger, Kafka client, schema registry, SQLite index →
 * {@link Indexer}, with the optional probe server. Nothing else lives here.
 */
import { createLogger } from '@chunkline/observability';
import { SchemaRegistryClient } from '@chunkline/records';
import { createKafka } from '@chunkline/runtime';
import { connectionOf, indexerOptionsOf, type IndexerConfig } from './config.js';
import { createValueDecoder } from './decode.js';
import { startProbeServer, type ProbeServer } from './http.js';
import { Indexer } from './indexer.js';
import { IndexStore } from './store.js';

/** A running indexer and what stops it. */
export interface RunningIndexer {
  readonly indexer: Indexer;
  readonly logger: ReturnType<typeof createLogger>;
  /** The probe server's port, or null when CHUNKLINE_INDEXER_HTTP_PORT is not set. */
  readonly httpPort: number | null;
  /** Graceful stop: the indexer (which closes the index), then the probe server. Same promise each call. */
  stop(): Promise<void>;
}

/** Builds and starts an indexer from a parsed configuration. */
export async function startIndexer(config: IndexerConfig): Promise<RunningIndexer> {
  const logger = createLogger({ level: config.CHUNKLINE_LOG_LEVEL, name: 'chunkline-indexer' });
  const registry =
    config.CHUNKLINE_SCHEMA_REGISTRY_URL === undefined
      ? undefined
      : new SchemaRegistryClient({
          url: config.CHUNKLINE_SCHEMA_REGISTRY_URL,
          username: config.CHUNKLINE_SCHEMA_REGISTRY_USERNAME,
          password: config.CHUNKLINE_SCHEMA_REGISTRY_PASSWORD,
        });
  const kafka = createKafka(connectionOf(config), (level, message, extra) => logger[level](extra, message));
  const options = indexerOptionsOf(config);
  const store = IndexStore.open(config.CHUNKLINE_INDEX_DB);
  const indexer = new Indexer(kafka, options, store, createValueDecoder(registry), logger);
  let http: ProbeServer | undefined;
  try {
    if (config.CHUNKLINE_INDEXER_HTTP_PORT !== undefined) {
      http = await startProbeServer(indexer, config.CHUNKLINE_INDEXER_HTTP_PORT, config.CHUNKLINE_HTTP_HOST);
    }
    await indexer.start();
  } catch (err) {
    await http?.close();
    store.close();
    throw err;
  }
  logger.info(
    {
      brokers: config.KAFKA_BROKERS,
      groupId: indexer.options.groupId,
      chunkTopic: indexer.options.chunkTopic,
      manifestTopic: indexer.options.manifestTopic,
      db: config.CHUNKLINE_INDEX_DB,
      httpPort: http?.port ?? null,
    },
    'indexer started',
  );
  let stopping: Promise<void> | undefined;
  return {
    indexer,
    logger,
    httpPort: http?.port ?? null,
    stop() {
      stopping ??= (async () => {
        try {
          await indexer.stop();
        } finally {
          await http?.close();
        }
      })();
      return stopping;
    },
  };
}
