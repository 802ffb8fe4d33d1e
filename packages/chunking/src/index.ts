/**
 * @chunkline/chunking: the pure chunking core. No I/O, no Kafka, no model library: a tokenizer comes
 * in through the one-method-family {@link Tokenizer} interface.
 */
export type * from './types.js';
export { createChunker, MARKDOWN, type Chunker } from './chunker.js';
export {
  compileChunkerOptions,
  type ChunkerOptions,
  type CompiledChunkerOptions,
  type StrategyName,
  type Hierarchy,
} from './options.js';
export { ChunkingError, isChunkingError, type ChunkingErrorCode } from './errors.js';
export { verifyChunks, verifySections, type VerifyLimits } from './verify.js';
export { textVersion, chunkId } from './ids.js';
