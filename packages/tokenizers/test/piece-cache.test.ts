/**
 * The fast encoders' piece cache: what it answers is what was stored for that exact piece, a piece
 * touched less than `limit` additions ago is still there, and memory stays within two generations.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hashUnits, PieceCache } from '../src/piece-cache.js';

/** The values stored for a key: k = its length (at least 1) tokens derived from its code units. */
function valuesOf(key: string): Int32Array {
  const k = Math.max(1, key.length);
  const v = new Int32Array(4 * k);
  for (let t = 0; t < k; t++) {
    v[t] = key.charCodeAt(t % Math.max(1, key.length)) || 7;
    v[k + t] = t;
    v[2 * k + t] = t + 1;
    v[3 * k + t] = t === 0 ? 1 : 0;
  }
  return v;
}

/** The piece `key` inside a longer text, as the encoders look pieces up. */
function inText(key: string): { text: string; from: number; to: number } {
  return { text: `«${key}»`, from: 1, to: 1 + key.length };
}

describe('PieceCache', () => {
  it('answers exactly what was stored, keeps what was touched less than `limit` additions ago, and holds at most 2 x limit', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.boolean(),
        fc.array(fc.string({ unit: 'binary', maxLength: 5 }), { minLength: 1, maxLength: 300 }),
        (limit, collide, keys) => {
          const cache = new PieceCache(limit);
          // The cache's count of additions when each key was last looked up or added.
          const age = new Map<string, number>();
          for (const key of keys) {
            const { text, from, to } = inText(key);
            // collide: every key has the same hash, so only the comparison of code units tells them apart.
            const h = collide ? 42 : hashUnits(text, from, to);
            let k = cache.get(text, from, to, h);
            const expected = valuesOf(key);
            if (k < 0) {
              const last = age.get(key);
              // Touched less than `limit` additions ago (a hit in the old generation is one): still cached.
              expect(last === undefined || cache.stats().added - last >= limit).toBe(true);
              k = cache.add(text, from, to, h, expected, 0, expected.length / 4);
            }
            expect(k).toBe(expected.length / 4);
            expect([...cache.pool.subarray(cache.offset, cache.offset + 4 * k)]).toEqual([...expected]);
            age.set(key, cache.stats().added);
            expect(cache.stats().entries).toBeLessThanOrEqual(2 * limit);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('survives a hit in the old generation that makes the current one rotate', () => {
    const cache = new PieceCache(2);
    const add = (key: string): void => {
      const { text, from, to } = inText(key);
      const v = valuesOf(key);
      cache.add(text, from, to, hashUnits(text, from, to), v, 0, v.length / 4);
    };
    add('aa');
    add('bb'); // current full: [aa, bb]
    add('cc'); // rotates: old [aa, bb], current [cc]
    add('dd'); // current full: [cc, dd]
    // 'bb' is in the old generation (its values after those of 'aa'); copying it into the full current
    // one rotates again, and its values move to the start of the very pool they are read from.
    const { text, from, to } = inText('bb');
    const k = cache.get(text, from, to, hashUnits(text, from, to));
    expect(k).toBe(2);
    expect([...cache.pool.subarray(cache.offset, cache.offset + 8)]).toEqual([...valuesOf('bb')]);
    // 'aa' went with that generation; 'cc' and 'dd' are the old one now.
    const miss = inText('aa');
    expect(cache.get(miss.text, miss.from, miss.to, hashUnits(miss.text, miss.from, miss.to))).toBe(-1);
    const kept = inText('dd');
    expect(cache.get(kept.text, kept.from, kept.to, hashUnits(kept.text, kept.from, kept.to))).toBe(2);
  });
});
