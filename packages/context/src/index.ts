/**
 * @chunkline/context: the long-context toolkit. Lost-in-the-middle ordering, packing passages into a
 * token budget, context-window planning from a model's `config.json`, and needle-in-a-haystack tests.
 * Pure: no I/O; token counts come from a `Tokenizer` of @chunkline/chunking handed in.
 */
export { reorder, ORDERING_STRATEGIES, type OrderingStrategy, type Scored } from './reorder.js';
export {
  pack,
  compilePackOptions,
  DROP_REASONS,
  type Passage,
  type PackOptions,
  type CompiledPackOptions,
  type PackResult,
  type DroppedPassage,
  type DropReason,
} from './pack.js';
export {
  planContextWindow,
  fitsWholeDocument,
  formatContextWindowPlan,
  type ContextWindowPlan,
  type HfModelConfig,
  type RopeScalingConfig,
  type RopeScalingMethod,
} from './window.js';
export {
  generateNiah,
  checkNiah,
  buildNiahPrompts,
  DEFAULT_NIAH_TEMPLATE,
  type NiahOptions,
  type NiahManifestEntry,
  type NiahDocument,
  type NiahChunk,
  type NiahStatus,
  type NiahDocCheck,
  type NiahCell,
  type NiahCheckResult,
  type NiahMatchOptions,
  type NiahScoring,
  type NiahPromptOptions,
  type NiahPrompt,
} from './niah.js';
export { ContextError, isContextError, type ContextErrorCode } from './errors.js';
