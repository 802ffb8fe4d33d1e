import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isContextError, ORDERING_STRATEGIES, reorder } from '@chunkline/context';

const RUNS = Number(process.env.CHUNKLINE_PROPERTY_RUNS ?? 200);

interface P {
  id: number;
  score: number;
}

/** Passages with scores from a small set, so that ties are common. */
const passages = fc
  .array(fc.oneof(fc.integer({ min: -3, max: 3 }), fc.double({ min: -10, max: 10, noNaN: true })), { maxLength: 40 })
  .map((scores) => scores.map((score, id): P => ({ id, score })));

/** True when the scores never rise from the start toward some middle point, nor from the end toward it. */
function isValley(scores: readonly number[]): boolean {
  let rising = false;
  for (let i = 1; i < scores.length; i++) {
    const a = scores[i - 1]!;
    const b = scores[i]!;
    if (b > a) rising = true;
    else if (b < a && rising) return false;
  }
  return true;
}

function errorOf(f: () => unknown): { field: string; message: string } {
  try {
    f();
  } catch (e) {
    if (isContextError(e)) return { field: e.field, message: e.message };
    throw e;
  }
  throw new Error('no error');
}

describe('reorder', () => {
  it("places the chapter's example as 0, 2, 4, 6, 8, 9, 7, 5, 3, 1", () => {
    const ps = [1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1].map((score, id) => ({ id, score }));
    expect(reorder(ps, 'important_first_last').map((p) => p.id)).toEqual([0, 2, 4, 6, 8, 9, 7, 5, 3, 1]);
    expect(reorder(ps).map((p) => p.id)).toEqual([0, 2, 4, 6, 8, 9, 7, 5, 3, 1]);
  });

  it('puts the least relevant first with reverse_rank and keeps the input with none', () => {
    const ps = [0.2, 0.9, 0.5].map((score, id) => ({ id, score }));
    expect(reorder(ps, 'reverse_rank').map((p) => p.id)).toEqual([0, 2, 1]);
    expect(reorder(ps, 'none').map((p) => p.id)).toEqual([0, 1, 2]);
  });

  it('keeps ties in input order for every strategy', () => {
    const ps = [5, 5, 5, 5, 5].map((score, id) => ({ id, score }));
    for (const s of ORDERING_STRATEGIES) expect(reorder(ps, s).map((p) => p.id)).toEqual([0, 1, 2, 3, 4]);
    const mixed = [1, 3, 1, 3, 2].map((score, id) => ({ id, score }));
    // Ranks: 1 (3), 3 (3), 4 (2), 0 (1), 2 (1); slots 0, 4, 1, 3, 2; each tie fills its slots left to right.
    expect(reorder(mixed, 'important_first_last').map((p) => p.id)).toEqual([1, 4, 0, 2, 3]);
    expect(reorder(mixed, 'reverse_rank').map((p) => p.id)).toEqual([0, 2, 4, 1, 3]);
  });

  it('handles empty and single inputs and does not change the input', () => {
    expect(reorder([], 'important_first_last')).toEqual([]);
    const one = [{ score: 1 }];
    expect(reorder(one)).toEqual(one);
    const ps = [1, 2, 3].map((score) => ({ score }));
    const copy = ps.slice();
    reorder(ps, 'reverse_rank');
    expect(ps).toEqual(copy);
  });

  it('rejects a NaN score and an unknown strategy, naming the field', () => {
    expect(errorOf(() => reorder([{ score: 1 }, { score: Number.NaN }])).field).toBe('passages[1].score');
    const e = errorOf(() => reorder([], 'middle' as never));
    expect(e.field).toBe('strategy');
    expect(e.message).toContain('important_first_last, reverse_rank, none');
  });

  it.each(ORDERING_STRATEGIES)('%s returns a permutation of the input, with ties in input order', (strategy) => {
    fc.assert(
      fc.property(passages, (ps) => {
        const out = reorder(ps, strategy);
        expect(out.map((p) => p.id).sort((a, b) => a - b)).toEqual(ps.map((p) => p.id));
        expect(new Set(out).size).toBe(ps.length);
        for (const p of out) expect(ps).toContain(p);
        // Equal scores appear in input order.
        const byScore = new Map<number, number[]>();
        for (const p of out) byScore.set(p.score, [...(byScore.get(p.score) ?? []), p.id]);
        for (const ids of byScore.values()) expect(ids).toEqual([...ids].sort((a, b) => a - b));
      }),
      { numRuns: RUNS },
    );
  });

  it('important_first_last never rises toward the middle from either end, and alternates ends by rank', () => {
    fc.assert(
      fc.property(passages, (ps) => {
        const s = reorder(ps, 'important_first_last').map((p) => p.score);
        expect(isValley(s)).toBe(true);
        const n = s.length;
        for (let i = 0; i < Math.floor(n / 2); i++) {
          // front[i] >= back[i] >= front[i + 1]
          expect(s[i]!).toBeGreaterThanOrEqual(s[n - 1 - i]!);
          if (i + 1 <= n - 2 - i) expect(s[n - 1 - i]!).toBeGreaterThanOrEqual(s[i + 1]!);
        }
        // === (not Object.is): a leading -0 ties with 0.
        if (n > 0) expect(s[0] === Math.max(...ps.map((p) => p.score))).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it('reverse_rank never falls', () => {
    fc.assert(
      fc.property(passages, (ps) => {
        const s = reorder(ps, 'reverse_rank').map((p) => p.score);
        for (let i = 1; i < s.length; i++) expect(s[i]!).toBeGreaterThanOrEqual(s[i - 1]!);
      }),
      { numRuns: RUNS },
    );
  });
});
