import { ChunkingError } from './errors.js';

/** Chunking strategies a user can choose. */
export type StrategyName = 'semantic' | 'window';

/** Options of {@link createChunker}. Every field is optional; units are tokens of the configured tokenizer. */
export interface ChunkerOptions {
  /**
   * `semantic` cuts at the highest structural boundary that fits (section, paragraph, line, sentence,
   * word, grapheme); `window` cuts fixed token windows on grapheme boundaries.
   * @default 'semantic'
   */
  strategy?: StrategyName;
  /** Hard cap per chunk, special tokens included (see `reservedTokens`). @default 512 */
  maxTokens?: number;
  /** Tokens each chunk repeats from the end of the previous one, at most. @default 0 */
  overlapTokens?: number;
  /** Tokens kept free inside `maxTokens` for the model's special tokens ([CLS] and [SEP]). @default 2 */
  reservedTokens?: number;
  /**
   * A model context window, in tokens (see @chunkline/context `planContextWindow`): a document whose
   * tokens plus `reservedTokens` fit it is emitted whole, as one chunk with strategy `whole`, instead of
   * being cut at `maxTokens`. Off when absent.
   */
  wholeIfFitsTokens?: number;
  /**
   * `sections`: also emit parent Section records (Markdown headings, numbered clauses, titles) and
   * cut chunks inside sections only, each carrying its section as `parent_id`. @default 'none'
   */
  hierarchy?: Hierarchy;
  /** Cap of a parent section, special tokens included; longer sections are split into parts. @default 2048 */
  parentMaxTokens?: number;
}

/** Parent-child modes. */
export type Hierarchy = 'none' | 'sections';

/** Options with defaults applied and cross-field rules checked. Frozen. */
export interface CompiledChunkerOptions {
  readonly strategy: StrategyName;
  readonly maxTokens: number;
  readonly overlapTokens: number;
  readonly reservedTokens: number;
  /** `maxTokens - reservedTokens`: the most tokens a chunk's own text may have. */
  readonly budgetTokens: number;
  /** Window within which a document is kept whole; null when off. */
  readonly wholeIfFitsTokens: number | null;
  readonly hierarchy: Hierarchy;
  readonly parentMaxTokens: number;
}

const STRATEGIES: readonly StrategyName[] = ['semantic', 'window'];

function int(field: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new ChunkingError('BAD_OPTION', field, `${field} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Fills in defaults and rejects bad combinations with a message that says what to change. */
export function compileChunkerOptions(options: ChunkerOptions = {}): CompiledChunkerOptions {
  const strategy = options.strategy ?? 'semantic';
  if (!STRATEGIES.includes(strategy)) {
    throw new ChunkingError(
      'BAD_OPTION',
      'strategy',
      `strategy must be one of ${STRATEGIES.join(', ')}, got ${JSON.stringify(strategy)}`,
    );
  }
  const maxTokens = int('maxTokens', options.maxTokens ?? 512, 1);
  const reservedTokens = int('reservedTokens', options.reservedTokens ?? 2, 0);
  const overlapTokens = int('overlapTokens', options.overlapTokens ?? 0, 0);
  if (maxTokens <= reservedTokens) {
    throw new ChunkingError(
      'BAD_OPTION',
      'maxTokens',
      `maxTokens (${maxTokens}) must be greater than reservedTokens (${reservedTokens}); raise maxTokens or lower reservedTokens`,
    );
  }
  const budgetTokens = maxTokens - reservedTokens;
  if (overlapTokens >= budgetTokens) {
    throw new ChunkingError(
      'BAD_OPTION',
      'overlapTokens',
      `overlapTokens (${overlapTokens}) must be less than maxTokens - reservedTokens (${budgetTokens}); ` +
        `try about a tenth of it, e.g. ${Math.floor(budgetTokens / 10)}`,
    );
  }
  const wholeIfFitsTokens =
    options.wholeIfFitsTokens === undefined ? null : int('wholeIfFitsTokens', options.wholeIfFitsTokens, 1);
  if (wholeIfFitsTokens !== null && wholeIfFitsTokens <= reservedTokens) {
    throw new ChunkingError(
      'BAD_OPTION',
      'wholeIfFitsTokens',
      `wholeIfFitsTokens (${wholeIfFitsTokens}) must be greater than reservedTokens (${reservedTokens})`,
    );
  }
  const hierarchy = options.hierarchy ?? 'none';
  if (hierarchy !== 'none' && hierarchy !== 'sections') {
    throw new ChunkingError(
      'BAD_OPTION',
      'hierarchy',
      `hierarchy must be none or sections, got ${JSON.stringify(hierarchy)}`,
    );
  }
  const parentMaxTokens = int('parentMaxTokens', options.parentMaxTokens ?? Math.max(2048, maxTokens), 1);
  if (parentMaxTokens < maxTokens) {
    throw new ChunkingError(
      'BAD_OPTION',
      'parentMaxTokens',
      `parentMaxTokens (${parentMaxTokens}) must be at least maxTokens (${maxTokens}): a section holds whole chunks`,
    );
  }
  return Object.freeze({
    strategy,
    maxTokens,
    overlapTokens,
    reservedTokens,
    budgetTokens,
    wholeIfFitsTokens,
    hierarchy,
    parentMaxTokens,
  });
}
