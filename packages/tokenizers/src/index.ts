/**
 * @chunkline/tokenizers: Hugging Face tokenizers loaded offline through @huggingface/transformers,
 * with per-token character spans (transformers.js has no offset mapping).
 */
export { loadTokenizer, HfTokenizer, DEFAULT_TOKENIZER, BUNDLED_TOKENIZERS, bundledTokenizerDir } from './load.js';
export { TokenizerLoadError, isTokenizerLoadError, type TokenizerErrorCode } from './errors.js';
