// A thread of the concurrent shared piece cache test (piece-cache.test.ts): looks every key up in a
// PieceCache that shares the given table, checks the values of every hit, and adds every miss.
// Runs the built module (dist), as the chunking threads do.
import { parentPort, workerData } from 'node:worker_threads';
import { hashUnits, PieceCache, SharedPieces } from '../dist/piece-cache.js';
import { valuesOf } from './piece-values.mjs';

const { handle, keys, order, ownLimit, start } = workerData;
const cache = new PieceCache(ownLimit);
cache.share(new SharedPieces(handle, '00c0ffee00c0ffee'));

// Both threads start at once, so that their additions and lookups interleave.
Atomics.wait(new Int32Array(start), 0, 0);
let hits = 0;
let wrong = 0;
let firstWrong = '';
for (const i of order) {
  const key = keys[i];
  const text = `«${key}»`;
  const h = hashUnits(text, 1, 1 + key.length);
  const expected = valuesOf(key);
  let k = cache.get(text, 1, 1 + key.length, h);
  if (k >= 0) hits++;
  else k = cache.add(text, 1, 1 + key.length, h, expected, 0, expected.length / 4);
  const got = cache.pool.subarray(cache.offset, cache.offset + 4 * k);
  if (k !== expected.length / 4 || got.some((v, j) => v !== expected[j])) {
    wrong++;
    firstWrong ||= `${JSON.stringify(key)}: ${k} tokens [${[...got]}], expected [${[...expected]}]`;
  }
}
parentPort.postMessage({ hits, wrong, firstWrong, added: cache.stats().added });
