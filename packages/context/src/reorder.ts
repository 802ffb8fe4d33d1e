/**
 * Ordering retrieved passages against "lost in the middle" (Liu et al. 2023,
 * https://arxiv.org/abs/2307.03172): models use what sits at the start and the end of a long context
 * better than what sits in the middle, so the most relevant passages go to the two ends.
 */
import { oneOf, score } from './check.js';

/**
 * - `important_first_last`: by relevance, placed alternately at the start and at the end, so the least
 *   relevant end up in the middle (ranks 0, 2, 4, … from the start; 1, 3, 5, … from the end).
 * - `reverse_rank`: least relevant first, most relevant last (next to the question when the question
 *   follows the context).
 * - `none`: input order.
 */
export type OrderingStrategy = 'important_first_last' | 'reverse_rank' | 'none';

/** Every {@link OrderingStrategy}, in the order the CLI lists them. */
export const ORDERING_STRATEGIES: readonly OrderingStrategy[] = Object.freeze([
  'important_first_last',
  'reverse_rank',
  'none',
]);

/** Anything with a relevance score; higher is more relevant. */
export interface Scored {
  readonly score: number;
}

/**
 * Returns a new array with `passages` in the order of `strategy` (the input is not changed).
 *
 * Ties are stable: passages with equal scores appear in the output in the same relative order as in
 * the input, whatever the strategy. Scores may be any number but NaN (a {@link ContextError}).
 *
 * The chapter's example: scores 1.0, 0.9, …, 0.1 at indexes 0..9 give, with `important_first_last`,
 * the indexes 0, 2, 4, 6, 8, 9, 7, 5, 3, 1.
 */
export function reorder<T extends Scored>(
  passages: readonly T[],
  strategy: OrderingStrategy = 'important_first_last',
): T[] {
  const s = oneOf('BAD_OPTION', 'strategy', strategy, ORDERING_STRATEGIES);
  const scores = passages.map((p, i) => score(`passages[${i}].score`, p.score));
  if (s === 'none') return passages.slice();
  const n = passages.length;
  // Input indexes by relevance, most relevant first; equal scores keep input order.
  const ranked = Array.from({ length: n }, (_, i) => i).sort((a, b) => at(scores, b) - at(scores, a) || a - b);
  if (s === 'reverse_rank') {
    // Least relevant first; within a tie, input order (so not simply `ranked` reversed).
    return Array.from({ length: n }, (_, i) => i)
      .sort((a, b) => at(scores, a) - at(scores, b) || a - b)
      .map((i) => at(passages, i));
  }
  // Slot of rank r: 0, n-1, 1, n-2, 2, … (front, back, front, back, …).
  const slotOfRank = (r: number): number => (r % 2 === 0 ? r / 2 : n - 1 - (r - 1) / 2);
  const out = new Array<T>(n);
  // A run of equal scores owns a set of slots; fill them left to right in input order, so that ties
  // keep their input order and the sequence still never rises toward the middle.
  for (let r = 0; r < n;) {
    let end = r + 1;
    while (end < n && at(scores, at(ranked, end)) === at(scores, at(ranked, r))) end++;
    const slots: number[] = [];
    for (let k = r; k < end; k++) slots.push(slotOfRank(k));
    slots.sort((a, b) => a - b);
    // `ranked` already holds a tie in input order.
    for (let k = r; k < end; k++) out[at(slots, k - r)] = at(passages, at(ranked, k));
    r = end;
  }
  return out;
}

/** `xs[i]` for an index known to be in range (noUncheckedIndexedAccess). */
function at<T>(xs: readonly T[], i: number): T {
  return xs[i] as T;
}
