/**
 * @chunkline/indexer: a reference sink for chunkline's output. It consumes the Chunk and
 * DocumentManifest topics (read_committed) into a SQLite FTS5 index, applies manifests (shrunk and
 * deleted documents), and commits Kafka offsets only after the database. `chunkline search` queries it.
 */
export {
  IndexStore,
  toFtsQuery,
  type ApplyResult,
  type IndexStats,
  type IndexStoreOptions,
  type IndexUpdate,
  type KafkaPosition,
  type SearchHit,
  type StoredChunk,
  type StoredDocument,
} from './store.js';
export {
  Indexer,
  IndexerError,
  isIndexerError,
  compileIndexerOptions,
  type CompiledIndexerOptions,
  type IndexerCounters,
  type IndexerErrorCode,
  type IndexerLogger,
  type IndexerOptions,
  type IndexerState,
} from './indexer.js';
export { createValueDecoder, type ValueDecoder } from './decode.js';
export { ConfigError, loadIndexerConfig, connectionOf, indexerOptionsOf, type IndexerConfig } from './config.js';
export { startIndexer, type RunningIndexer } from './app.js';
