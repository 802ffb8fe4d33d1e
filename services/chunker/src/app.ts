/**
 * Composition root of the streaming worker: configuration → tokenizer, chunker, codecs, Kafka client
 * → runtime worker, with metrics, health and logs subscribed to its events. Nothing else lives here.
 */
import { createChunker } from '@chunkline/chunking';
import { createLogger, createMetrics, HealthTracker, logEvents, startHttpServer } from '@chunkline/observability';
import {
  chunkCodec,
  decodeRawDocument,
  latestSchema,
  manifestCodec,
  sectionCodec,
  SchemaRegistryClient,
  topicSubject,
} from '@chunkline/records';
import {
  ChunkWorker,
  compileWorkerOptions,
  connectionFromEnv,
  createKafka,
  EventHub,
  RecordProcessor,
  type OutputEncoder,
} from '@chunkline/runtime';
import { loadTokenizer } from '@chunkline/tokenizers';
import type { WorkerConfig } from './config.js';

/** A running worker and what stops it. */
export interface RunningWorker {
  readonly worker: ChunkWorker;
  readonly httpPort: number;
  readonly logger: ReturnType<typeof createLogger>;
  /** Graceful stop: worker, then the HTTP server. */
  stop(): Promise<void>;
}

/** Builds and starts a worker from a parsed configuration. */
export async function startWorker(config: WorkerConfig): Promise<RunningWorker> {
  const logger = createLogger({ level: config.CHUNKLINE_LOG_LEVEL, name: 'chunkline-worker' });
  const events = new EventHub();
  const metrics = createMetrics();
  const health = new HealthTracker();
  events.on(metrics.listener);
  events.on(health.listener);
  events.on(logEvents(logger));

  const tokenizer = await loadTokenizer(config.CHUNKLINE_TOKENIZER);
  const chunker = createChunker(tokenizer, {
    strategy: config.CHUNKLINE_STRATEGY,
    maxTokens: config.CHUNKLINE_MAX_TOKENS,
    overlapTokens: config.CHUNKLINE_OVERLAP,
    reservedTokens: config.CHUNKLINE_RESERVED,
    hierarchy: config.CHUNKLINE_HIERARCHY,
    ...(config.CHUNKLINE_PARENT_MAX_TOKENS === undefined
      ? {}
      : { parentMaxTokens: config.CHUNKLINE_PARENT_MAX_TOKENS }),
  });
  const registry =
    config.CHUNKLINE_SCHEMA_REGISTRY_URL === undefined
      ? undefined
      : new SchemaRegistryClient({
          url: config.CHUNKLINE_SCHEMA_REGISTRY_URL,
          username: config.CHUNKLINE_SCHEMA_REGISTRY_USERNAME,
          password: config.CHUNKLINE_SCHEMA_REGISTRY_PASSWORD,
        });
  let encoder: OutputEncoder = {
    chunk: (r) => chunkCodec.encodeSingleObject(r),
    manifest: (r) => manifestCodec.encodeSingleObject(r),
    section: (r) => sectionCodec.encodeSingleObject(r),
  };
  if (config.CHUNKLINE_OUTPUT_ENCODING === 'registry' && registry !== undefined) {
    const chunkId = await registry.register(topicSubject(config.CHUNKLINE_CHUNK_TOPIC), latestSchema('chunk').schema);
    const manifestId = await registry.register(
      topicSubject(config.CHUNKLINE_MANIFEST_TOPIC),
      latestSchema('manifest').schema,
    );
    const sectionId = await registry.register(
      topicSubject(config.CHUNKLINE_SECTION_TOPIC),
      latestSchema('section').schema,
    );
    encoder = {
      chunk: (r) => chunkCodec.encodeRegistry(chunkId, r),
      manifest: (r) => manifestCodec.encodeRegistry(manifestId, r),
      section: (r) => sectionCodec.encodeRegistry(sectionId, r),
    };
  }
  const options = compileWorkerOptions({
    groupId: config.CHUNKLINE_GROUP_ID,
    inputTopic: config.CHUNKLINE_INPUT_TOPIC,
    chunkTopic: config.CHUNKLINE_CHUNK_TOPIC,
    manifestTopic: config.CHUNKLINE_MANIFEST_TOPIC,
    dlqTopic: config.CHUNKLINE_DLQ_TOPIC,
    sectionTopic: config.CHUNKLINE_SECTION_TOPIC,
    delivery: config.CHUNKLINE_DELIVERY,
    maxDocBytes: config.CHUNKLINE_MAX_DOC_BYTES,
    maxChunksPerDoc: config.CHUNKLINE_MAX_CHUNKS_PER_DOC,
    maxMessageBytes: config.CHUNKLINE_MAX_MESSAGE_BYTES,
    partitionsConcurrently: config.CHUNKLINE_PARTITIONS_CONCURRENTLY,
    recordsPerTransaction: config.CHUNKLINE_RECORDS_PER_TRANSACTION,
    shutdownTimeoutMs: config.CHUNKLINE_SHUTDOWN_TIMEOUT_MS,
  });
  const processor = new RecordProcessor(options, chunker, encoder, (value) =>
    decodeRawDocument(value, registry === undefined ? {} : { registry }),
  );
  const kafka = createKafka(connectionFromEnv(config, config.CHUNKLINE_CLIENT_ID), (level, message, extra) =>
    logger[level](extra, message),
  );
  const worker = new ChunkWorker(kafka, options, processor, events);
  const http = await startHttpServer({
    port: config.CHUNKLINE_HTTP_PORT,
    host: config.CHUNKLINE_HTTP_HOST,
    registry: metrics.registry,
    health,
  });
  logger.info(
    {
      brokers: config.KAFKA_BROKERS,
      groupId: options.groupId,
      inputTopic: options.inputTopic,
      delivery: options.delivery,
      tokenizer: tokenizer.id,
      chunker: chunker.fingerprint,
      httpPort: http.port,
    },
    'starting chunkline worker',
  );
  await worker.start();
  return {
    worker,
    httpPort: http.port,
    logger,
    stop: async () => {
      try {
        await worker.stop();
      } finally {
        await http.close();
      }
    },
  };
}
