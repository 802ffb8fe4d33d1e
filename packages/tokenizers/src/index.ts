/**
 * @chunkline/tokenizers: Hugging Face tokenizers loaded offline through @huggingface/transformers,
 * with per-token character spans (transformers.js has no offset mapping).
 */
export {
  loadTokenizer,
  HfTokenizer,
  DEFAULT_TOKENIZER,
  BUNDLED_TOKENIZERS,
  bundledTokenizerDir,
  type LoadTokenizerOptions,
} from './load.js';
export type { EncoderKind } from './fast-encoder.js';
export { createSharedPieceCache, SHARED_CACHE_LIMIT, type SharedPieceCacheHandle } from './piece-cache.js';
export { TokenizerLoadError, isTokenizerLoadError, type TokenizerErrorCode } from './errors.js';
