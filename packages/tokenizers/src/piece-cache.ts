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

/**
 * The entry holding text[from, to) (hash `h`) in an open-addressing table (slots hold entry + 1, 0 when
 * empty; an entry's hash, key length and key offset in `keys` are in the arrays of those names), or -1.
 */
function findEntry(
  slots: Int32Array,
  hash: Int32Array,
  keyLen: Int32Array,
  keyAt: Int32Array,
  keys: Uint16Array,
  text: string,
  from: number,
  to: number,
  h: number,
): number {
  const mask = slots.length - 1;
  const len = to - from;
  for (let s = h & mask; ; s = (s + 1) & mask) {
    const e = (slots[s] as number) - 1;
    if (e < 0) return -1;
    if (hash[e] !== h || keyLen[e] !== len) continue;
    let k = keyAt[e] as number;
    let i = from;
    while (i < to && keys[k] === text.charCodeAt(i)) {
      i++;
      k++;
    }
    if (i === to) return e;
  }
}

/** Slots of a table for `limit` entries: twice as many, a power of two (so a probe always ends). */
function slotCount(limit: number): number {
  let cap = 2;
  while (cap < limit * 2) cap *= 2;
  return cap;
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
    this.slots = new Int32Array(slotCount(limit));
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
    return findEntry(this.slots, this.hash, this.keyLen, this.keyAt, this.keys, text, from, to, h);
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

/** Header words of a {@link SharedPieceCacheHandle}'s buffer (Int32 indices). */
const H_SIZE = 0; // entries reserved
const H_KEYS = 1; // key code units reserved
const H_VALS = 2; // values reserved
const H_FULL = 3; // 1 once a reservation failed: no more additions
const H_BOUND = 4; // 0 unbound, 1 binding, 2 bound to the tokenizer in H_FP0/H_FP1
const H_FP0 = 5;
const H_FP1 = 6;
const HEADER_WORDS = 8;
/** Key code units and values room per entry (pieces average well under 8 units and 2 tokens). */
const UNITS_PER_ENTRY = 8;

/**
 * Entries of the cache that {@link createSharedPieceCache} makes by default: 2^18 pieces, about 19 MB
 * of shared memory (pages the OS gives only when first written).
 */
export const SHARED_CACHE_LIMIT = 1 << 18;

/**
 * A piece cache that the chunking threads of one process share (structured-clonable: give it to each
 * thread, e.g. in workerData, and pass it to `loadTokenizer` as `sharedCache`). Every thread that
 * attaches it must load the same tokenizer; the first one binds it to that tokenizer's fingerprint.
 */
export interface SharedPieceCacheHandle {
  readonly buffer: SharedArrayBuffer;
  readonly limit: number;
}

/** A shared cache for `limit` pieces (see {@link SharedPieceCacheHandle}). */
export function createSharedPieceCache(limit: number = SHARED_CACHE_LIMIT): SharedPieceCacheHandle {
  if (!Number.isInteger(limit) || limit < 1 || limit > 1 << 24) {
    throw new RangeError(`the shared piece cache's limit must be an integer from 1 to 2^24, got ${limit}`);
  }
  return { buffer: new SharedArrayBuffer(sharedLayout(limit).bytes), limit };
}

/** Byte offsets of the arrays in a shared cache's buffer. */
function sharedLayout(limit: number): {
  cap: number;
  slots: number;
  entries: number;
  vals: number;
  keys: number;
  bytes: number;
} {
  const cap = slotCount(limit);
  const slots = 4 * HEADER_WORDS;
  const entries = slots + 4 * cap;
  const vals = entries + 5 * 4 * limit;
  const keys = vals + 4 * UNITS_PER_ENTRY * limit;
  return { cap, slots, entries, vals, keys, bytes: keys + 2 * UNITS_PER_ENTRY * limit };
}

/**
 * The shared table: the layout of a {@link Generation} in one SharedArrayBuffer, filled by several
 * threads at once and never rotated (when it is full, each thread's own cache takes the new pieces).
 *
 * Threads only add. An addition reserves its entry and its room in the pools with Atomics.add, writes
 * them with plain stores, and then publishes the entry by a compare-and-exchange into an empty slot of
 * its probe sequence. Lookups read with plain loads: an Atomics.load per probe (a builtin call in V8)
 * made a lookup about 10% slower than in a thread's own cache, and lookups are most of the tokenizer's
 * work. That the entry a published slot names is completely written then rests on the hardware, not on
 * the ECMAScript memory model: the stores before the exchange are visible before it (a locked instruction
 * on x86-64, release semantics on arm64), and a reader's loads of the entry depend on the slot's value
 * for their address, which x86-64's and arm64's memory models keep in order. Two threads missing on the
 * same piece at once may both add it; a lookup then finds the first, and both hold the same tokens.
 */
export class SharedPieces {
  readonly header: Int32Array;
  readonly slots: Int32Array;
  readonly hash: Int32Array;
  readonly keyAt: Int32Array;
  readonly keyLen: Int32Array;
  readonly valAt: Int32Array;
  readonly valCount: Int32Array;
  readonly keys: Uint16Array;
  readonly vals: Int32Array;
  readonly limit: number;

  /** Attaches `handle` for a tokenizer with this fingerprint (hex); throws when it is bound to another. */
  constructor(handle: SharedPieceCacheHandle, fingerprint: string) {
    const { buffer, limit } = handle;
    const l = sharedLayout(limit);
    if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength !== l.bytes) {
      throw new RangeError(`not a shared piece cache for ${limit} pieces (use createSharedPieceCache)`);
    }
    this.limit = limit;
    this.header = new Int32Array(buffer, 0, HEADER_WORDS);
    this.slots = new Int32Array(buffer, l.slots, l.cap);
    this.hash = new Int32Array(buffer, l.entries, limit);
    this.keyAt = new Int32Array(buffer, l.entries + 4 * limit, limit);
    this.keyLen = new Int32Array(buffer, l.entries + 8 * limit, limit);
    this.valAt = new Int32Array(buffer, l.entries + 12 * limit, limit);
    this.valCount = new Int32Array(buffer, l.entries + 16 * limit, limit);
    this.vals = new Int32Array(buffer, l.vals, UNITS_PER_ENTRY * limit);
    this.keys = new Uint16Array(buffer, l.keys, UNITS_PER_ENTRY * limit);
    this.bind(fingerprint);
  }

  private bind(fingerprint: string): void {
    const fp0 = Number.parseInt(fingerprint.slice(0, 8), 16) | 0;
    const fp1 = Number.parseInt(fingerprint.slice(8, 16), 16) | 0;
    const h = this.header;
    if (Atomics.compareExchange(h, H_BOUND, 0, 1) === 0) {
      Atomics.store(h, H_FP0, fp0);
      Atomics.store(h, H_FP1, fp1);
      Atomics.store(h, H_BOUND, 2);
    } else {
      // Another thread is binding it: its two stores follow at once.
      while (Atomics.load(h, H_BOUND) !== 2) Atomics.wait(h, H_BOUND, 1, 1);
    }
    if (Atomics.load(h, H_FP0) !== fp0 || Atomics.load(h, H_FP1) !== fp1) {
      throw new Error(
        `this shared piece cache holds another tokenizer's pieces (fingerprint ${(Atomics.load(h, H_FP0) >>> 0)
          .toString(16)
          .padStart(8, '0')}…, not ${fingerprint.slice(0, 8)}…): give each tokenizer a cache of its own`,
      );
    }
  }

  /** Entries added so far by all threads (and the few reserved by additions that found it full). */
  get size(): number {
    return Math.min(Atomics.load(this.header, H_SIZE), this.limit);
  }

  /** True once an addition found no room (entries, key units or values): no more are added. */
  get full(): boolean {
    return Atomics.load(this.header, H_FULL) !== 0;
  }

  /** The entry holding text[from, to) with hash `h`, or -1. */
  find(text: string, from: number, to: number, h: number): number {
    return findEntry(this.slots, this.hash, this.keyLen, this.keyAt, this.keys, text, from, to, h);
  }

  /**
   * Adds text[from, to) with `count` tokens whose 4·count values are `src[at, …)`; returns its entry,
   * or -1 when the table is full (nothing is added then, or ever after).
   */
  add(text: string, from: number, to: number, h: number, src: Int32Array, at: number, count: number): number {
    const header = this.header;
    if (Atomics.load(header, H_FULL) !== 0) return -1;
    const len = to - from;
    const n = 4 * count;
    const e = Atomics.add(header, H_SIZE, 1);
    const k0 = Atomics.add(header, H_KEYS, len);
    const v0 = Atomics.add(header, H_VALS, n);
    if (e >= this.limit || k0 + len > this.keys.length || v0 + n > this.vals.length) {
      Atomics.store(header, H_FULL, 1);
      return -1;
    }
    const keys = this.keys;
    for (let i = 0; i < len; i++) keys[k0 + i] = text.charCodeAt(from + i);
    const vals = this.vals;
    for (let i = 0; i < n; i++) vals[v0 + i] = src[at + i] as number;
    this.hash[e] = h;
    this.keyAt[e] = k0;
    this.keyLen[e] = len;
    this.valAt[e] = v0;
    this.valCount[e] = count;
    const slots = this.slots;
    const mask = slots.length - 1;
    // At most `limit` entries in twice as many slots: an empty one is always found.
    for (let s = h & mask; ; s = (s + 1) & mask) {
      if (Atomics.load(slots, s) === 0 && Atomics.compareExchange(slots, s, 0, e + 1) === 0) return e;
    }
  }

  /** Drops every entry. Only while no other thread uses the cache (the binding stays). */
  clear(): void {
    this.slots.fill(0);
    Atomics.store(this.header, H_SIZE, 0);
    Atomics.store(this.header, H_KEYS, 0);
    Atomics.store(this.header, H_VALS, 0);
    Atomics.store(this.header, H_FULL, 0);
  }
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
  /** The threads' shared table, looked up first and filled until full; this cache's own ones after it. */
  private shared: SharedPieces | null = null;

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
    const shared = this.shared;
    if (shared !== null) {
      const se = shared.find(text, from, to, h);
      if (se >= 0) {
        this.pool = shared.vals;
        this.offset = shared.valAt[se] as number;
        return shared.valCount[se] as number;
      }
    }
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
    const shared = this.shared;
    if (shared !== null) {
      const se = shared.add(text, from, to, h, src, at, count);
      if (se >= 0) {
        this.added++;
        this.pool = shared.vals;
        this.offset = shared.valAt[se] as number;
        return count;
      }
    }
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

  /**
   * Looks pieces up in `shared` first from now on, and adds them there until it is full. Entries already
   * in this cache stay.
   */
  share(shared: SharedPieces): void {
    this.shared = shared;
  }

  /** Drops every entry, the shared table's too (only while no other thread uses it). */
  clear(): void {
    this.current.reset();
    this.old.reset();
    this.shared?.clear();
  }

  /**
   * Additions made by this cache (a hit in the old generation is one) and entries held by this cache's
   * own generations and by the shared table (all threads).
   */
  stats(): { added: number; entries: number } {
    return { added: this.added, entries: this.current.size + this.old.size + (this.shared?.size ?? 0) };
  }
}
