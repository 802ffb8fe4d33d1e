// The values the piece cache tests store for a key, shared by piece-cache.test.ts and the threads of its
// concurrent test (shared-cache-thread.mjs, which cannot import TypeScript).

/** The 4k values stored for `key`: k = its length (at least 1) tokens derived from its code units. */
export function valuesOf(key) {
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
