/**
 * The fast encoders' cache from a piece of text (a word, a pre-token) to its tokens, kept in typed
 * arrays only.
 *
 * Profiling the fast encoders in a chunking thread (`node --cpu-prof`, and V8's sampling heap profiler
 * with collected objects included) showed that a `Map<string, Int32Array>` cost more than the
 * tokenization it saved: every lookup sliced the piece out of the text (a new string to hash), every
 * entry was two heap objects that survived into the old generation, and the scavenges and concurrent
 * marking this caused took about a fifth of the CPU of two chunking threads. Here a lookup hashes the
 * piece's UTF-16 code units where they lie in the text and compares them against a pool of code units,
 * so a hit allocates nothing, and the entries are a few large arrays, which the garbage collector does
 * not walk.
 *
 * Two generations bound the memory: when the current one is full it becomes the old one (the previous
 * old one is dropped) and a hit in the old one is copied into the current one. Pieces in steady use so
 * survive, where clearing a full cache would lose them all at once.
 */

/** FNV-1a (32-bit) offset basis and prime; a piece's hash is taken over its UTF-16 code units. */
export const FNV_BASIS = 0x811c9dc5 | 0;
export const FNV_PRIME = 0x01000193;

/** The hash {@link PieceCache} expects for text[from, to). */
export function hashUnits(text: string, from: number, to: number): number {
  let h = FNV_BASIS;
  for (let i = from; i < to; i++) h = Math.imul(h ^ text.charCodeAt(i), FNV_PRIME);
  return h;
}

/** One generation: an open-addressing table over entries whose keys and values live in pools. */
class Generation {
  /** Entry index + 1 per slot, 0 when empty; the table is twice the entry limit (a power of two). */
  readonly slots: Int32Array;
  readonly hash: Int32Array;
  readonly keyAt: Int32Array;
  readonly keyLen: Int32Array;
  readonly valAt: Int32Array;
  readonly valCount: Int32Array;
  keys: Uint16Array;
  vals: Int32Array;
  keysUsed = 0;
  valsUsed = 0;
  size = 0;

  constructor(readonly limit: number) {
    let cap = 2;
    while (cap < limit * 2) cap *= 2;
    this.slots = new Int32Array(cap);
    this.hash = new Int32Array(limit);
    this.keyAt = new Int32Array(limit);
    this.keyLen = new Int32Array(limit);
    this.valAt = new Int32Array(limit);
    this.valCount = new Int32Array(limit);
    this.keys = new Uint16Array(limit * 8);
    this.vals = new Int32Array(limit * 8);
  }

  reset(): void {
    this.slots.fill(0);
    this.size = 0;
    this.keysUsed = 0;
    this.valsUsed = 0;
  }

  /** The entry holding text[from, to) with hash `h`, or -1. */
  find(text: string, from: number, to: number, h: number): number {
    const mask = this.slots.length - 1;
    const len = to - from;
    for (let s = h & mask; ; s = (s + 1) & mask) {
      const e = (this.slots[s] as number) - 1;
      if (e < 0) return -1;
      if (this.hash[e] !== h || this.keyLen[e] !== len) continue;
      const keys = this.keys;
      let k = this.keyAt[e] as number;
      let i = from;
      while (i < to && keys[k] === text.charCodeAt(i)) {
        i++;
        k++;
      }
      if (i === to) return e;
    }
  }

  /** Adds text[from, to) (not present) with `count` tokens whose 4·count values are `src[at, …)`. */
  add(text: string, from: number, to: number, h: number, src: Int32Array, at: number, count: number): number {
    const len = to - from;
    if (this.keysUsed + len > this.keys.length)
      this.keys = grown(this.keys, this.keysUsed + len, (size) => new Uint16Array(size));
    const keys = this.keys;
    const k0 = this.keysUsed;
    for (let i = 0; i < len; i++) keys[k0 + i] = text.charCodeAt(from + i);
    this.keysUsed = k0 + len;
    const n = 4 * count;
    if (this.valsUsed + n > this.vals.length)
      this.vals = grown(this.vals, this.valsUsed + n, (size) => new Int32Array(size));
    const v0 = this.valsUsed;
    const vals = this.vals;
    if (src === vals) vals.copyWithin(v0, at, at + n);
    else for (let i = 0; i < n; i++) vals[v0 + i] = src[at + i] as number;
    this.valsUsed = v0 + n;
    const e = this.size++;
    this.hash[e] = h;
    this.keyAt[e] = k0;
    this.keyLen[e] = len;
    this.valAt[e] = v0;
    this.valCount[e] = count;
    const mask = this.slots.length - 1;
    let s = h & mask;
    while (this.slots[s] !== 0) s = (s + 1) & mask;
    this.slots[s] = e + 1;
    return e;
  }
}

/** A copy of `a` in an array of the same kind with room for at least `need` elements (doubling). */
function grown<A extends Uint16Array | Int32Array>(a: A, need: number, make: (length: number) => A): A {
  let cap = a.length * 2;
  while (cap < need) cap *= 2;
  const out = make(cap);
  out.set(a);
  return out;
}

/**
 * A bounded cache from pieces of text to their tokens (see the module comment). A piece's tokens are 4k
 * values: k ids, k starts, k ends (relative to the piece), k word-start flags (0/1).
 */
export class PieceCache {
  /** After a successful `get` or an `add`: the pool holding the piece's values (valid until the next add). */
  pool: Int32Array = new Int32Array(0);
  /** After a successful `get` or an `add`: where the piece's 4k values start in `pool`. */
  offset = 0;
  private current: Generation;
  private old: Generation;
  private added = 0;

  /** `limit`: entries per generation (at most twice as many are kept). */
  constructor(limit: number) {
    this.current = new Generation(limit);
    this.old = new Generation(limit);
  }

  /**
   * The token count k of text[from, to) when it is cached (its values are then at `pool[offset, …)`),
   * else -1. `h` is `hashUnits(text, from, to)`. Allocates nothing on a hit in the current generation.
   */
  get(text: string, from: number, to: number, h: number): number {
    const cur = this.current;
    let e = cur.find(text, from, to, h);
    if (e >= 0) {
      this.pool = cur.vals;
      this.offset = cur.valAt[e] as number;
      return cur.valCount[e] as number;
    }
    const old = this.old;
    e = old.find(text, from, to, h);
    if (e < 0) return -1;
    return this.add(text, from, to, h, old.vals, old.valAt[e] as number, old.valCount[e] as number);
  }

  /**
   * Caches text[from, to) (not cached yet) with `count` tokens whose values are `src[at, at + 4·count)`,
   * and returns `count` (the values are then at `pool[offset, …)`).
   */
  add(text: string, from: number, to: number, h: number, src: Int32Array, at: number, count: number): number {
    if (this.current.size >= this.current.limit) {
      // The dropped generation's pool may be `src` (a hit in the old generation): its values are not
      // touched by reset(), and Generation.add copies within one pool with copyWithin (overlap-safe).
      const dropped = this.old;
      this.old = this.current;
      dropped.reset();
      this.current = dropped;
    }
    const cur = this.current;
    const e = cur.add(text, from, to, h, src, at, count);
    this.added++;
    this.pool = cur.vals;
    this.offset = cur.valAt[e] as number;
    return count;
  }

  /** Drops every entry. */
  clear(): void {
    this.current.reset();
    this.old.reset();
  }

  /** Additions so far (a hit in the old generation is one) and entries held (for tests). */
  stats(): { added: number; entries: number } {
    return { added: this.added, entries: this.current.size + this.old.size };
  }
}
