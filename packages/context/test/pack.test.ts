import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePackOptions, DROP_REASONS, isContextError, pack, type Passage } from '@chunkline/context';

const RUNS = Number(process.env.CHUNKLINE_PROPERTY_RUNS ?? 200);

function passage(chunk_id: string, num_tokens: number, score: number, more: Partial<Passage> = {}): Passage {
  return { chunk_id, doc_id: 'd', char_start: 0, char_end: 0, num_tokens, text: chunk_id, score, ...more };
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

describe('pack', () => {
  it('takes the most relevant passages that fit, skipping a large one and going on with smaller ones', () => {
    const ps = [
      passage('a', 50, 0.9, { char_start: 0, char_end: 100 }),
      passage('b', 40, 0.8, { char_start: 100, char_end: 200 }),
      passage('c', 20, 0.7, { char_start: 200, char_end: 300 }),
      passage('d', 10, 0.6, { char_start: 300, char_end: 400 }),
    ];
    const r = pack(ps, { budgetTokens: 100, reservedTokens: 20, strategy: 'none' });
    expect(r.availableTokens).toBe(80);
    // a (50) fits, b (40) does not fit in 30, c (20) does, d (10) does: 80 exactly.
    expect(r.passages.map((p) => p.chunk_id)).toEqual(['a', 'c', 'd']);
    expect(r.usedTokens).toBe(80);
    expect(r.dropped).toEqual([{ passage: ps[1], reason: 'over_budget' }]);
    expect(r.droppedCounts).toEqual({ duplicate_id: 0, duplicate_text: 0, overlap: 0, over_budget: 1 });
  });

  it('drops duplicates by id and by text, and overlaps within one document only', () => {
    const ps = [
      passage('a', 10, 0.9, { char_start: 0, char_end: 50, text: 'alpha' }),
      passage('a', 10, 0.8, { char_start: 0, char_end: 50, text: 'alpha' }),
      passage('b', 10, 0.7, { doc_id: 'e', char_start: 0, char_end: 50, text: 'alpha' }),
      passage('c', 10, 0.6, { char_start: 40, char_end: 90, text: 'gamma' }),
      passage('d', 10, 0.5, { doc_id: 'e', char_start: 40, char_end: 90, text: 'delta' }),
      passage('f', 10, 0.4, { char_start: 50, char_end: 90, text: 'phi' }),
    ];
    const r = pack(ps, { budgetTokens: 1000, strategy: 'none' });
    expect(r.passages.map((p) => p.chunk_id)).toEqual(['a', 'd', 'f']);
    expect(r.dropped.map((d) => [d.passage.chunk_id, d.reason])).toEqual([
      ['a', 'duplicate_id'],
      ['b', 'duplicate_text'],
      ['c', 'overlap'],
    ]);
    expect(r.droppedCounts).toEqual({ duplicate_id: 1, duplicate_text: 1, overlap: 1, over_budget: 0 });
  });

  it('counts the per-passage overhead and orders the result with the strategy', () => {
    const ps = [1, 2, 3, 4, 5].map((i) => passage(`p${i}`, 10, i / 10, { char_start: i * 10, char_end: i * 10 + 10 }));
    const r = pack(ps, { budgetTokens: 60, overheadTokensPerPassage: 2 });
    // 12 tokens each: 5 fit in 60.
    expect(r.usedTokens).toBe(60);
    // By score: p5, p4, p3, p2, p1; important_first_last: p5, p3, p1, p2, p4.
    expect(r.passages.map((p) => p.chunk_id)).toEqual(['p5', 'p3', 'p1', 'p2', 'p4']);
    expect(pack(ps, { budgetTokens: 60, strategy: 'reverse_rank' }).passages.map((p) => p.chunk_id)).toEqual([
      'p1',
      'p2',
      'p3',
      'p4',
      'p5',
    ]);
  });

  it('keeps the extra fields of the passages (whole chunk records)', () => {
    const r = pack([{ ...passage('a', 1, 1), chunk_index: 7 }], { budgetTokens: 5 });
    expect(r.passages[0]?.chunk_index).toBe(7);
  });

  it('rejects bad options and passages, naming the field and what to change', () => {
    const e = errorOf(() => compilePackOptions({ budgetTokens: 100, reservedTokens: 100 }));
    expect(e.field).toBe('reservedTokens');
    expect(e.message).toContain('lower reservedTokens or raise budgetTokens');
    expect(errorOf(() => compilePackOptions({ budgetTokens: 0 })).field).toBe('budgetTokens');
    expect(errorOf(() => compilePackOptions({ budgetTokens: 10.5 })).field).toBe('budgetTokens');
    expect(errorOf(() => compilePackOptions({ budgetTokens: 10, strategy: 'x' as never })).field).toBe('strategy');
    expect(errorOf(() => compilePackOptions({ budgetTokens: 10, overheadTokensPerPassage: -1 })).field).toBe(
      'overheadTokensPerPassage',
    );
    expect(errorOf(() => pack([passage('a', -1, 1)], { budgetTokens: 10 })).field).toBe('passages[0].num_tokens');
    expect(errorOf(() => pack([passage('a', 1, 1, { char_start: 5, char_end: 2 })], { budgetTokens: 10 })).field).toBe(
      'passages[0].char_end',
    );
    expect(errorOf(() => pack([passage('a', 1, Number.NaN)], { budgetTokens: 10 })).field).toBe('passages[0].score');
  });

  it('compiles defaults into a frozen object', () => {
    const o = compilePackOptions({ budgetTokens: 4096 });
    expect(o).toEqual({
      budgetTokens: 4096,
      reservedTokens: 0,
      strategy: 'important_first_last',
      overheadTokensPerPassage: 0,
      availableTokens: 4096,
    });
    expect(Object.isFrozen(o)).toBe(true);
  });

  const arbPassage = fc.record({
    chunk_id: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l'),
    doc_id: fc.constantFrom('x', 'y', 'z'),
    char_start: fc.integer({ min: 0, max: 500 }),
    length: fc.integer({ min: 0, max: 100 }),
    num_tokens: fc.integer({ min: 0, max: 300 }),
    text: fc.string({ maxLength: 2 }),
    score: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.double({ min: -1, max: 1, noNaN: true })),
  });
  const arbInput = fc.record({
    passages: fc.array(
      arbPassage.map(({ length, ...p }): Passage => ({ ...p, char_end: p.char_start + length })),
      { maxLength: 30 },
    ),
    budgetTokens: fc.integer({ min: 1, max: 2000 }),
    reservedFraction: fc.double({ min: 0, max: 0.99, noNaN: true }),
    overheadTokensPerPassage: fc.integer({ min: 0, max: 20 }),
    strategy: fc.constantFrom('important_first_last', 'reverse_rank', 'none') as fc.Arbitrary<
      'important_first_last' | 'reverse_rank' | 'none'
    >,
  });

  it('never exceeds the budget, accounts for every passage, and keeps no duplicates or overlaps', () => {
    fc.assert(
      fc.property(arbInput, (input) => {
        const reservedTokens = Math.floor(input.budgetTokens * input.reservedFraction);
        const o = { ...input, reservedTokens };
        const r = pack(input.passages, o);
        const cost = (p: Passage): number => p.num_tokens + o.overheadTokensPerPassage;
        const available = o.budgetTokens - reservedTokens;
        expect(r.availableTokens).toBe(available);
        expect(r.usedTokens).toBe(r.passages.reduce((s, p) => s + cost(p), 0));
        expect(r.usedTokens).toBeLessThanOrEqual(available);
        // Every input passage is chosen or dropped, once.
        expect(r.passages.length + r.dropped.length).toBe(input.passages.length);
        expect(new Set([...r.passages, ...r.dropped.map((d) => d.passage)]).size).toBe(input.passages.length);
        expect(DROP_REASONS.reduce((s, k) => s + r.droppedCounts[k], 0)).toBe(r.dropped.length);
        // No duplicates and no overlapping spans of one document among the chosen.
        expect(new Set(r.passages.map((p) => p.chunk_id)).size).toBe(r.passages.length);
        expect(new Set(r.passages.map((p) => p.text)).size).toBe(r.passages.length);
        for (const p of r.passages) {
          for (const q of r.passages) {
            if (p !== q && p.doc_id === q.doc_id)
              expect(p.char_start < q.char_end && q.char_start < p.char_end).toBe(false);
          }
        }
        // A passage dropped for the budget did not fit even in what is left at the end.
        for (const d of r.dropped) {
          if (d.reason === 'over_budget') expect(cost(d.passage)).toBeGreaterThan(available - r.usedTokens);
        }
        if (o.strategy === 'reverse_rank') {
          for (let i = 1; i < r.passages.length; i++) {
            expect(r.passages[i]!.score).toBeGreaterThanOrEqual(r.passages[i - 1]!.score);
          }
        }
      }),
      { numRuns: RUNS },
    );
  });
});
