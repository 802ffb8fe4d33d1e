/**
 * Packing retrieved passages into a prompt's token budget: the most relevant first, no duplicates, no
 * overlapping spans of one document, then ordered against "lost in the middle" ({@link reorder}).
 */
import type { ChunkRecord } from '@chunkline/chunking';
import { intAtLeast, oneOf, score } from './check.js';
import { ContextError } from './errors.js';
import { ORDERING_STRATEGIES, reorder, type OrderingStrategy } from './reorder.js';

/**
 * A retrieved passage: the fields of a Chunk record that packing reads, plus the retriever's relevance
 * score (higher is more relevant). A whole `ChunkRecord` with a `score` added is a `Passage`.
 */
export interface Passage extends Pick<
  ChunkRecord,
  'chunk_id' | 'doc_id' | 'char_start' | 'char_end' | 'num_tokens' | 'text'
> {
  readonly score: number;
}

/** Options of {@link pack}. Units are tokens of the prompt model's tokenizer. */
export interface PackOptions {
  /** The prompt's context budget in tokens (e.g. the model's window). Required. */
  budgetTokens: number;
  /** Tokens kept free inside `budgetTokens` for the instructions, the question and the answer. @default 0 */
  reservedTokens?: number;
  /** Order of the chosen passages (`none`: their input order). @default 'important_first_last' */
  strategy?: OrderingStrategy;
  /**
   * Tokens each chosen passage costs on top of its `num_tokens`: a separator or a header such as
   * `[doc 3]` that the prompt puts around it. @default 0
   */
  overheadTokensPerPassage?: number;
}

/** {@link PackOptions} with defaults applied and checked. Frozen. */
export interface CompiledPackOptions {
  readonly budgetTokens: number;
  readonly reservedTokens: number;
  readonly strategy: OrderingStrategy;
  readonly overheadTokensPerPassage: number;
  /** `budgetTokens - reservedTokens`: what the passages (with their overhead) may use in total. */
  readonly availableTokens: number;
}

/**
 * Why a passage was left out, checked in this order against the passages already chosen:
 * - `duplicate_id`: same `chunk_id` as a chosen passage;
 * - `duplicate_text`: same `text` as a chosen passage (the same words from another document or version);
 * - `overlap`: its `[char_start, char_end)` overlaps a chosen passage of the same `doc_id` (e.g. chunks
 *   made with overlap, or by two chunker configurations);
 * - `over_budget`: it does not fit in the tokens left.
 */
export type DropReason = 'duplicate_id' | 'duplicate_text' | 'overlap' | 'over_budget';

/** Every {@link DropReason}, in the order they are checked. */
export const DROP_REASONS: readonly DropReason[] = Object.freeze([
  'duplicate_id',
  'duplicate_text',
  'overlap',
  'over_budget',
]);

/** A passage that {@link pack} left out, and why. */
export interface DroppedPassage<T extends Passage> {
  readonly passage: T;
  readonly reason: DropReason;
}

/** What {@link pack} chose and what it left out. */
export interface PackResult<T extends Passage> {
  /** The chosen passages, in the order of the strategy. */
  readonly passages: T[];
  /** Tokens the chosen passages use: their `num_tokens` plus the per-passage overhead. Never over `availableTokens`. */
  readonly usedTokens: number;
  /** `budgetTokens - reservedTokens`. */
  readonly availableTokens: number;
  /** The passages left out, most relevant first. */
  readonly dropped: DroppedPassage<T>[];
  /** How many passages were left out for each reason (every reason present, 0 when none). */
  readonly droppedCounts: Readonly<Record<DropReason, number>>;
}

/** Fills in defaults and rejects bad combinations with a message that says what to change. */
export function compilePackOptions(options: PackOptions): CompiledPackOptions {
  if (typeof options !== 'object' || options === null) {
    throw new ContextError('BAD_OPTION', 'budgetTokens', 'pack needs options with at least budgetTokens');
  }
  const budgetTokens = intAtLeast('BAD_OPTION', 'budgetTokens', options.budgetTokens, 1);
  const reservedTokens = intAtLeast('BAD_OPTION', 'reservedTokens', options.reservedTokens ?? 0, 0);
  const overheadTokensPerPassage = intAtLeast(
    'BAD_OPTION',
    'overheadTokensPerPassage',
    options.overheadTokensPerPassage ?? 0,
    0,
  );
  const strategy = oneOf('BAD_OPTION', 'strategy', options.strategy ?? 'important_first_last', ORDERING_STRATEGIES);
  if (reservedTokens >= budgetTokens) {
    throw new ContextError(
      'BAD_OPTION',
      'reservedTokens',
      `reservedTokens (${reservedTokens}) must be less than budgetTokens (${budgetTokens}); ` +
        'lower reservedTokens or raise budgetTokens',
    );
  }
  return Object.freeze({
    budgetTokens,
    reservedTokens,
    strategy,
    overheadTokensPerPassage,
    availableTokens: budgetTokens - reservedTokens,
  });
}

function checkPassage(p: Passage, i: number): void {
  const f = `passages[${i}]`;
  if (typeof p !== 'object' || p === null) throw new ContextError('BAD_INPUT', f, `${f} must be an object`);
  if (typeof p.chunk_id !== 'string') {
    throw new ContextError('BAD_INPUT', `${f}.chunk_id`, `${f}.chunk_id must be a string`);
  }
  if (typeof p.doc_id !== 'string') throw new ContextError('BAD_INPUT', `${f}.doc_id`, `${f}.doc_id must be a string`);
  if (typeof p.text !== 'string') throw new ContextError('BAD_INPUT', `${f}.text`, `${f}.text must be a string`);
  intAtLeast('BAD_INPUT', `${f}.num_tokens`, p.num_tokens, 0);
  const start = intAtLeast('BAD_INPUT', `${f}.char_start`, p.char_start, 0);
  const end = intAtLeast('BAD_INPUT', `${f}.char_end`, p.char_end, 0);
  if (end < start) {
    throw new ContextError('BAD_INPUT', `${f}.char_end`, `${f}.char_end (${end}) is before char_start (${start})`);
  }
  score(`${f}.score`, p.score);
}

/**
 * Chooses the most relevant passages that fit `budgetTokens - reservedTokens`, then orders them.
 *
 * Greedy by score (ties in input order): each passage, from the most relevant down, is dropped if it
 * duplicates or overlaps one already chosen (see {@link DropReason}), or if its `num_tokens` plus
 * `overheadTokensPerPassage` does not fit in what is left; packing then goes on with the next passage,
 * so a smaller, less relevant passage can still fill the space a large one could not.
 *
 * Token counts are the passages' own `num_tokens` (the chunk tokenized alone), so the sum is exact for
 * the tokenizer the chunks were made with; text joined around them (separators, headers) is what
 * `overheadTokensPerPassage` and `reservedTokens` are for. Pure; the input array is not changed.
 */
export function pack<T extends Passage>(passages: readonly T[], options: PackOptions): PackResult<T> {
  const o = compilePackOptions(options);
  passages.forEach(checkPassage);
  // Input indexes, most relevant first; equal scores keep input order.
  const byRelevance = passages.map((_, i) => i).sort((a, b) => at(passages, b).score - at(passages, a).score || a - b);

  const chosen: number[] = [];
  const dropped: DroppedPassage<T>[] = [];
  const counts: Record<DropReason, number> = { duplicate_id: 0, duplicate_text: 0, overlap: 0, over_budget: 0 };
  const ids = new Set<string>();
  const texts = new Set<string>();
  const spans = new Map<string, [number, number][]>();
  let used = 0;
  for (const i of byRelevance) {
    const p = at(passages, i);
    const docSpans = spans.get(p.doc_id) ?? [];
    const cost = p.num_tokens + o.overheadTokensPerPassage;
    let reason: DropReason | null = null;
    if (ids.has(p.chunk_id)) reason = 'duplicate_id';
    else if (texts.has(p.text)) reason = 'duplicate_text';
    else if (docSpans.some(([s, e]) => p.char_start < e && s < p.char_end)) reason = 'overlap';
    else if (cost > o.availableTokens - used) reason = 'over_budget';
    if (reason !== null) {
      dropped.push({ passage: p, reason });
      counts[reason]++;
      continue;
    }
    chosen.push(i);
    used += cost;
    ids.add(p.chunk_id);
    texts.add(p.text);
    docSpans.push([p.char_start, p.char_end]);
    spans.set(p.doc_id, docSpans);
  }
  // Back to input order first, so that `none` keeps the caller's order and ties stay stable.
  chosen.sort((a, b) => a - b);
  return {
    passages: reorder(
      chosen.map((i) => at(passages, i)),
      o.strategy,
    ),
    usedTokens: used,
    availableTokens: o.availableTokens,
    dropped,
    droppedCounts: Object.freeze(counts),
  };
}

function at<T>(xs: readonly T[], i: number): T {
  return xs[i] as T;
}
