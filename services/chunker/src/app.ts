/**
 * Composition root of the streaming worker: configuration → tokenizer, chunker, codecs, Kafka client
 * → runtime worker, with metrics, health and logs subscribed to its events. Nothing else lives here.
 */
import { createLogger, createMetrics, HealthTracker, logEvents, startHttpServer } from '@chunkline/observability';
import { latestSchema, topicSubject } from '@chunkline/records';
import { createSharedPieceCache } from '@chunkline/tokenizers';
import {
  ChunkWorker,
  connectionFromEnv,
  createKafka,
  EventHub,
  PooledRecordHandler,
  ThreadPool,
  threadModuleUrl,
  type RecordHandler,
  type RecordReply,
  type RecordTask,
} from '@chunkline/runtime';
import type { WorkerConfig } from './config.js';
import { buildProcessor, registryOf, workerOptionsOf, type ProcessorSpec, type RegistryIds } from './processor.js';

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

  const registry = registryOf(config);
  let registryIds: RegistryIds | null = null;
  if (config.CHUNKLINE_OUTPUT_ENCODING === 'registry' && registry !== undefined) {
    registryIds = {
      chunk: await registry.register(topicSubject(config.CHUNKLINE_CHUNK_TOPIC), latestSchema('chunk').schema),
      manifest: await registry.register(topicSubject(config.CHUNKLINE_MANIFEST_TOPIC), latestSchema('manifest').schema),
      section: await registry.register(topicSubject(config.CHUNKLINE_SECTION_TOPIC), latestSchema('section').schema),
    };
  }
  const options = workerOptionsOf(config);
  const spec: ProcessorSpec = { config, registryIds };
  // Chunking runs on CHUNKLINE_WORKER_THREADS threads (0: in this thread); each loads its own tokenizer.
  let pool: ThreadPool<RecordTask, RecordReply> | undefined;
  let handler: RecordHandler;
  let info: Readonly<Record<string, string>>;
  if (config.CHUNKLINE_WORKER_THREADS === 0) {
    const built = await buildProcessor(spec);
    handler = built.processor;
    info = built.info;
  } else {
    pool = new ThreadPool<RecordTask, RecordReply>({
      filename: threadModuleUrl(import.meta.url, 'processor-thread'),
      threads: config.CHUNKLINE_WORKER_THREADS,
      // One piece cache for all the threads: a word one of them has tokenized is not tokenized again by
      // another.
      workerData: { ...spec, pieceCache: createSharedPieceCache() } satisfies ProcessorSpec,
      onError: (err) => logger.error({ err }, 'a chunking thread failed outside a record'),
    });
    try {
      const replies = await pool.ready({ kind: 'probe' });
      info = replies[0]?.kind === 'probe' ? replies[0].info : {};
    } catch (err) {
      await pool.close();
      throw err;
    }
    handler = new PooledRecordHandler(pool, options.dlqTopic);
  }
  const kafka = createKafka(connectionFromEnv(config, config.CHUNKLINE_CLIENT_ID), (level, message, extra) =>
    logger[level](extra, message),
  );
  const worker = new ChunkWorker(kafka, options, handler, events);
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
      ...info,
      threads: config.CHUNKLINE_WORKER_THREADS,
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
        await pool?.close();
        await http.close();
      }
    },
  };
}
