/**
 * How the worker turns records into output, built the same way in the main thread and in each
 * worker thread: tokenizer (loaded here, once per thread), chunker, output encoder and input decoder
 * around a {@link RecordProcessor}. Everything a thread needs crosses as plain data ({@link ProcessorSpec}).
 */
import { createChunker } from '@chunkline/chunking';
import { chunkCodec, decodeRawDocument, manifestCodec, sectionCodec, SchemaRegistryClient } from '@chunkline/records';
import {
  compileWorkerOptions,
  RecordProcessor,
  type CompiledWorkerOptions,
  type OutputEncoder,
} from '@chunkline/runtime';
import { loadTokenizer, type SharedPieceCacheHandle } from '@chunkline/tokenizers';
import type { WorkerConfig } from './config.js';

/** Schema Registry ids of the output schemas, when output is registry-framed. */
export interface RegistryIds {
  readonly chunk: number;
  readonly manifest: number;
  readonly section: number;
}

/** Plain data from which a processor is built (structured-clonable: it is a thread's workerData). */
export interface ProcessorSpec {
  readonly config: WorkerConfig;
  readonly registryIds: RegistryIds | null;
  /** The piece cache the chunking threads share (the tokenizer's own cache when absent). */
  readonly pieceCache?: SharedPieceCacheHandle;
}

/** A built processor and what the logs say about it. */
export interface BuiltProcessor {
  readonly processor: RecordProcessor;
  readonly info: { readonly tokenizer: string; readonly chunker: string; readonly encoder: string };
}

/** The worker options of a configuration. */
export function workerOptionsOf(config: WorkerConfig): CompiledWorkerOptions {
  return compileWorkerOptions({
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
}

/** The registry client of a configuration, if one is configured. */
export function registryOf(config: WorkerConfig): SchemaRegistryClient | undefined {
  return config.CHUNKLINE_SCHEMA_REGISTRY_URL === undefined
    ? undefined
    : new SchemaRegistryClient({
        url: config.CHUNKLINE_SCHEMA_REGISTRY_URL,
        username: config.CHUNKLINE_SCHEMA_REGISTRY_USERNAME,
        password: config.CHUNKLINE_SCHEMA_REGISTRY_PASSWORD,
      });
}

/** Loads the tokenizer and builds the record processor of a spec. */
export async function buildProcessor(spec: ProcessorSpec): Promise<BuiltProcessor> {
  const { config, registryIds } = spec;
  const tokenizer = await loadTokenizer(config.CHUNKLINE_TOKENIZER, { sharedCache: spec.pieceCache });
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
  const registry = registryOf(config);
  const encoder: OutputEncoder =
    registryIds === null
      ? {
          chunk: (r) => chunkCodec.encodeSingleObject(r),
          manifest: (r) => manifestCodec.encodeSingleObject(r),
          section: (r) => sectionCodec.encodeSingleObject(r),
        }
      : {
          chunk: (r) => chunkCodec.encodeRegistry(registryIds.chunk, r),
          manifest: (r) => manifestCodec.encodeRegistry(registryIds.manifest, r),
          section: (r) => sectionCodec.encodeRegistry(registryIds.section, r),
        };
  const processor = new RecordProcessor(workerOptionsOf(config), chunker, encoder, (value) =>
    decodeRawDocument(value, registry === undefined ? {} : { registry }),
  );
  return {
    processor,
    info: {
      tokenizer: tokenizer.id,
      chunker: chunker.fingerprint,
      encoder: registryIds === null ? 'single-object' : 'registry',
    },
  };
}
