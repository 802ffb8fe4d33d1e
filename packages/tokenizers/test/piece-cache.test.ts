/**
 * The fast encoders' piece cache: what it answers is what was stored for that exact piece, a piece
 * touched less than `limit` additions ago is still there, and memory stays within two generations.
 * The table that chunking threads share answers the same, also while two threads fill it at once.
 */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createSharedPieceCache,
  hashUnits,
  PieceCache,
  SharedPieces,
  type SharedPieceCacheHandle,
} from '../src/piece-cache.js';
import { valuesOf } from './piece-values.mjs';

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

const FINGERPRINT = '00c0ffee00c0ffee';

/** Looks `key` up in `cache`, adding it on a miss; returns its token count and values as answered. */
function lookUpOrAdd(cache: PieceCache, key: string): { k: number; values: number[]; hit: boolean } {
  const { text, from, to } = inText(key);
  const h = hashUnits(text, from, to);
  let k = cache.get(text, from, to, h);
  const hit = k >= 0;
  if (!hit) {
    const v = valuesOf(key);
    k = cache.add(text, from, to, h, v, 0, v.length / 4);
  }
  return { k, values: [...cache.pool.subarray(cache.offset, cache.offset + 4 * k)], hit };
}

describe('shared piece cache', () => {
  it('answers in one cache what another added, and each cache keeps its own pieces once the table is full', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.tuple(fc.boolean(), fc.string({ unit: 'binary', maxLength: 5 })), {
          minLength: 1,
          maxLength: 300,
        }),
        (limit, ops) => {
          const handle = createSharedPieceCache(limit);
          const caches = [new PieceCache(4), new PieceCache(4)];
          for (const cache of caches) cache.share(new SharedPieces(handle, FINGERPRINT));
          const inTable = new Set<string>();
          for (const [second, key] of ops) {
            const cache = caches[second ? 1 : 0] as PieceCache;
            const { k, values, hit } = lookUpOrAdd(cache, key);
            const expected = valuesOf(key);
            expect(k).toBe(expected.length / 4);
            expect(values).toEqual([...expected]);
            // A piece in the shared table is a hit for either cache.
            if (inTable.has(key)) expect(hit).toBe(true);
            if (!hit && new SharedPieces(handle, FINGERPRINT).size > inTable.size) inTable.add(key);
          }
          expect(new SharedPieces(handle, FINGERPRINT).size).toBeLessThanOrEqual(limit);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('is bound to the first tokenizer that attaches it', () => {
    const handle = createSharedPieceCache(8);
    new SharedPieces(handle, FINGERPRINT);
    expect(() => new SharedPieces(handle, FINGERPRINT)).not.toThrow();
    expect(() => new SharedPieces(handle, 'ffffffff00000000')).toThrow(
      /holds another tokenizer's pieces \(fingerprint 00c0ffee…, not ffffffff…\)/,
    );
    expect(() => new SharedPieces({ buffer: new SharedArrayBuffer(64), limit: 8 }, FINGERPRINT)).toThrow(
      /not a shared piece cache for 8 pieces/,
    );
    expect(() => createSharedPieceCache(0)).toThrow(/limit must be an integer from 1 to 2\^24, got 0/);
  });

  it('is empty again after clear()', () => {
    const handle = createSharedPieceCache(8);
    const cache = new PieceCache(4);
    cache.share(new SharedPieces(handle, FINGERPRINT));
    for (const key of ['a', 'bb', 'ccc']) lookUpOrAdd(cache, key);
    expect(cache.stats().entries).toBe(3);
    cache.clear();
    expect(cache.stats().entries).toBe(0);
    expect(lookUpOrAdd(cache, 'bb').hit).toBe(false);
  });

  it('answers exactly what was stored while two threads fill it at once', async () => {
    // 40,000 distinct keys, each thread looking them all up in its own random order: about half of
    // each thread's lookups race with the other thread's additions. The table holds 30,000, so both
    // threads also fill it and go on in their own caches.
    let seed = 12345;
    const random = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const keys = Array.from({ length: 40_000 }, (_, i) => `${i.toString(36)}${'xyz'.slice(0, i % 4)}`);
    const shuffled = (): number[] => {
      const o = keys.map((_, i) => i);
      for (let i = o.length - 1; i > 0; i--) {
        const j = random(i + 1);
        [o[i], o[j]] = [o[j] as number, o[i] as number];
      }
      return o;
    };
    const handle: SharedPieceCacheHandle = createSharedPieceCache(30_000);
    const start = new SharedArrayBuffer(4);
    const url = new URL('./shared-cache-thread.mjs', import.meta.url);
    const threads = [0, 1].map(
      () => new Worker(url, { workerData: { handle, keys, order: shuffled(), ownLimit: 8_000, start } }),
    );
    const replies = threads.map(
      (t) => once(t, 'message') as Promise<[{ hits: number; wrong: number; firstWrong: string; added: number }]>,
    );
    // Give both threads time to load before they start together.
    await new Promise((resolve) => setTimeout(resolve, 300));
    Atomics.store(new Int32Array(start), 0, 1);
    Atomics.notify(new Int32Array(start), 0);
    const results = (await Promise.all(replies)).map(([r]) => r);
    await Promise.all(threads.map((t) => t.terminate()));
    for (const r of results) {
      expect(r.firstWrong).toBe('');
      expect(r.wrong).toBe(0);
    }
    // Sharing worked: a thread finds what the other added (each key is new to each thread's own cache,
    // so every hit is one). Until the table is full, about half the keys are seen first by the other
    // thread: about 14,000 hits; none without sharing.
    const hits = results.reduce((s, r) => s + r.hits, 0);
    expect(hits).toBeGreaterThan(10_000);
    // The table filled up (its values ran out first: these keys have 3 to 6 tokens each).
    const table = new SharedPieces(handle, FINGERPRINT);
    expect(table.full).toBe(true);
    expect(table.size).toBeGreaterThan(10_000);
  });
});
