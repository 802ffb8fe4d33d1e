/**
 * Fast encoders: the same {@link Encoding} (ids, UTF-16 spans, wordStart) as {@link AlignedEncoder},
 * in one pass over the text, for the two tokenizer families chunkline ships.
 *
 * Profiling the reference path (`node --cpu-prof` on the benchmark corpus) shows the time going into
 * transformers.js's whole-text passes (normalizer, pre-tokenizer regex, ByteLevel's per-byte string
 * joins, the model call per pre-token with its token strings) and into our alignment bookkeeping. Both
 * fast encoders instead cut the text into pieces whose tokenization is *independent of their context*
 * and keep a cache from a piece to its ids and relative spans ({@link PieceCache}: typed arrays, looked
 * up by the piece's code units where they lie in the text), so that natural text, whose words repeat,
 * costs one scan, one hash probe per piece and a copy of a few integers, and allocates nothing per piece:
 *
 * - WordPiece + BertNormalizer + BertPreTokenizer: a piece is a maximal run of characters that are not
 *   separators, a separator being a BMP character that JavaScript's `\s` matches and that the normalizer
 *   turns into whitespace only (so the pre-tokenizer drops it). Every step of the BERT pipeline is local
 *   across such a separator: clean_text, CJK padding and NFD/mark removal act per character or combining
 *   sequence, the Final_Sigma rule of `toLowerCase` stops at whitespace, and BertPreTokenizer splits at
 *   whitespace. Characters that clean_text deletes (U+000B, U+FEFF, …) are not separators, so the words on
 *   both sides stay one piece, as in the reference.
 * - Byte-level BPE with a Split regex (Isolated) + ByteLevel(use_regex false), or ByteLevel with its own
 *   regex: a piece is one pre-token, found by running the tokenizer's own compiled split regex over the
 *   text (matches and the gaps between them, exactly as transformers.js's `regex_split`). The model
 *   tokenizes each pre-token alone. With an NFC normalizer, a text that is already NFC (nearly all) is
 *   its own normalized form and needs no alignment.
 *
 * A cache miss is computed natively where that is simple and exact: a BERT piece of printable ASCII
 * (lowercase, split at the punctuation BertPreTokenizer isolates, greedy longest-match WordPiece over a
 * trie of the vocabulary) and a byte-level pre-token of at most 128 UTF-16 units (BPE over ids with a
 * rank table keyed by pair of ids, lowest rank first, leftmost on a tie). Any other miss is computed by
 * the reference machinery itself (the AlignedEncoder for a BERT piece, the library's BPE model for a long
 * pre-token, which keeps long runs linear). The differential tests (test/fast-encoder.test.ts) check that
 * ids equal transformers.js's and spans the reference's on the whole fixture corpus and
 * on generated Unicode text. Texts containing an added token (e.g. `[SEP]`, `<|im_end|>`), and texts
 * that are not NFC for an NFC tokenizer, go to the reference path whole.
 */
import type { Encoding } from '@chunkline/chunking';
import type { AlignedEncoder, LibraryPipeline } from './aligned-encoder.js';
import { FNV_BASIS, FNV_PRIME, PieceCache, type SharedPieces, hashUnits } from './piece-cache.js';

/** Which encoder a loaded tokenizer uses. */
export type EncoderKind = 'fast-wordpiece' | 'fast-bytelevel-bpe' | 'reference';

/** Pieces longer than this (UTF-16 units) are encoded without caching. */
const MAX_CACHED_PIECE = 128;
/** Pieces per generation of the cache (bounded memory: at most twice as many are kept). */
const CACHE_LIMIT = 1 << 17;

/** One piece's tokens: ids, spans relative to the piece's start, and which tokens start a pre-token. */
interface Piece {
  readonly ids: Int32Array;
  readonly start: Int32Array;
  readonly end: Int32Array;
  readonly word: Uint8Array;
}

/**
 * A piece's tokens packed as 4k values (k ids, k starts, k ends, k wordStart flags), the layout of the
 * {@link PieceCache}.
 */
type Packed = Int32Array;

function pack(p: Piece): Packed {
  const k = p.ids.length;
  const out = new Int32Array(4 * k);
  out.set(p.ids, 0);
  out.set(p.start, k);
  out.set(p.end, 2 * k);
  out.set(p.word, 3 * k);
  return out;
}

/**
 * Growable output arrays, reused from one `encode` to the next (one per encoder): `finish` copies the
 * tokens out into a single new buffer, so an encoding costs one allocation, not eight.
 */
class Out {
  ids: Int32Array;
  start: Int32Array;
  end: Int32Array;
  word: Uint8Array;
  n = 0;
  constructor(capacity: number) {
    const c = Math.max(16, capacity);
    this.ids = new Int32Array(c);
    this.start = new Int32Array(c);
    this.end = new Int32Array(c);
    this.word = new Uint8Array(c);
  }
  /** Empties the arrays, with room for about `capacity` tokens. */
  reset(capacity: number): void {
    this.n = 0;
    if (capacity > this.ids.length) this.grow(capacity);
  }
  private grow(need: number): void {
    let cap = this.ids.length * 2;
    while (cap < need) cap *= 2;
    const ids = new Int32Array(cap);
    ids.set(this.ids.subarray(0, this.n));
    const start = new Int32Array(cap);
    start.set(this.start.subarray(0, this.n));
    const end = new Int32Array(cap);
    end.set(this.end.subarray(0, this.n));
    const word = new Uint8Array(cap);
    word.set(this.word.subarray(0, this.n));
    this.ids = ids;
    this.start = start;
    this.end = end;
    this.word = word;
  }
  /** Appends the k tokens whose 4k packed values start at `p[o]`, shifted by `at`. */
  append(p: Int32Array, o: number, k: number, at: number): void {
    const n = this.n;
    if (n + k > this.ids.length) this.grow(n + k);
    const ids = this.ids;
    const s = this.start;
    const e = this.end;
    const w = this.word;
    for (let i = 0; i < k; i++) {
      ids[n + i] = p[o + i] as number;
      s[n + i] = (p[o + k + i] as number) + at;
      e[n + i] = (p[o + 2 * k + i] as number) + at;
      w[n + i] = p[o + 3 * k + i] as number;
    }
    this.n = n + k;
  }
  /** The tokens so far, copied into views of one new buffer. */
  finish(): Encoding {
    const n = this.n;
    const buf = new ArrayBuffer(13 * n);
    const ids = new Int32Array(buf, 0, n);
    const start16 = new Int32Array(buf, 4 * n, n);
    const end16 = new Int32Array(buf, 8 * n, n);
    const wordStart = new Uint8Array(buf, 12 * n, n);
    ids.set(this.ids.subarray(0, n));
    start16.set(this.start.subarray(0, n));
    end16.set(this.end.subarray(0, n));
    wordStart.set(this.word.subarray(0, n));
    return { ids, start16, end16, wordStart };
  }
  /** Drops arrays grown for a very large document, so that one does not hold them for good. */
  trim(): void {
    if (this.ids.length > OUT_KEPT_TOKENS) {
      this.ids = new Int32Array(16);
      this.start = new Int32Array(16);
      this.end = new Int32Array(16);
      this.word = new Uint8Array(16);
    }
  }
}

/** Output room (tokens) kept between encodings; larger arrays are dropped after use. */
const OUT_KEPT_TOKENS = 1 << 20;

function pieceOf(enc: Encoding): Piece {
  return {
    ids: enc.ids,
    start: enc.start16,
    end: enc.end16,
    word: enc.wordStart ?? new Uint8Array(enc.ids.length),
  };
}

/** Common part: added-token detection, the piece cache, and the reference fallback. */
abstract class FastEncoderBase {
  abstract readonly kind: EncoderKind;
  protected readonly ref: AlignedEncoder;
  protected readonly lib: LibraryPipeline;
  protected readonly cache = new PieceCache(CACHE_LIMIT);
  /** Values of the last piece looked up (see {@link FastEncoderBase.tokens}): pool and offset. */
  protected pool: Int32Array = new Int32Array(0);
  protected offset = 0;
  private readonly addedContents: string[];
  private readonly out = new Out(1024);

  constructor(lib: LibraryPipeline, ref: AlignedEncoder) {
    this.lib = lib;
    this.ref = ref;
    this.addedContents = [...new Set(lib.added_tokens.map((t) => t.content).filter((c) => c !== ''))];
  }

  /** Same as {@link AlignedEncoder.encode}. */
  encode(text: string): Encoding {
    if (!this.fastApplies(text)) return this.ref.encode(text);
    const out = this.out;
    out.reset(text.length >> 2);
    this.scan(text, out);
    const enc = out.finish();
    out.trim();
    return enc;
  }

  /** Token count of `text` tokenized alone (the ids are the library's). */
  count(text: string): number {
    if (!this.fastApplies(text)) return this.ref.count(text);
    return this.countScan(text);
  }

  protected fastApplies(text: string): boolean {
    for (const c of this.addedContents) if (text.includes(c)) return false;
    return true;
  }

  /** Empties the piece cache (the shared table too: only while no other thread encodes with it). */
  clearCache(): void {
    this.cache.clear();
  }

  /** Looks pieces up in, and adds them to, a table the process's chunking threads share (see PieceCache). */
  shareCache(shared: SharedPieces): void {
    this.cache.share(shared);
  }

  /**
   * The tokens of the piece text[from, to) (hash `h`): returns their count k and leaves their 4k
   * packed values at `this.pool[this.offset, …)`, valid until the next call. Looked up in the cache, or
   * computed by `compute` and cached; pieces longer than MAX_CACHED_PIECE are computed every time.
   */
  protected tokens(text: string, from: number, to: number, h: number): number {
    const cache = this.cache;
    if (to - from <= MAX_CACHED_PIECE) {
      const k = cache.get(text, from, to, h);
      if (k >= 0) {
        this.pool = cache.pool;
        this.offset = cache.offset;
        return k;
      }
    }
    const k = this.compute(text, from, to);
    if (to - from > MAX_CACHED_PIECE) return k;
    cache.add(text, from, to, h, this.pool, this.offset, k);
    this.pool = cache.pool;
    this.offset = cache.offset;
    return k;
  }

  /**
   * Tokenizes text[from, to) without the cache: returns the token count k and leaves the 4k packed
   * values at `this.pool[this.offset, …)` (possibly a scratch array that the next call reuses).
   */
  protected abstract compute(text: string, from: number, to: number): number;

  /** Makes `p` (a packed piece) the current values and returns its token count. */
  protected use(p: Int32Array): number {
    this.pool = p;
    this.offset = 0;
    return p.length >> 2;
  }

  protected abstract scan(text: string, out: Out): void;
  protected abstract countScan(text: string): number;
}

/** WordPiece with BertNormalizer and BertPreTokenizer. */
export class FastWordPieceEncoder extends FastEncoderBase {
  readonly kind = 'fast-wordpiece' as const;
  /** Per BMP code unit: 0 unknown yet, 1 separator, 2 not a separator. */
  private readonly sep = new Uint8Array(65536);
  /** Per printable ASCII code: 1 when BertPreTokenizer isolates it as punctuation. */
  private readonly punct = new Uint8Array(128);
  private readonly lowercase: boolean;
  private readonly unkId: number;
  private readonly maxChars: number;
  /**
   * Trie of the printable-ASCII vocabulary: node 0 is the root of word-initial entries, node 1 of
   * continuation entries (the `##` prefix removed). `child.get(node * 128 + code)` is the next node;
   * `idAt[node]` the id of the entry ending there, or -1. Built in a Map, then frozen into an
   * {@link IntTable} (the Map's lookups were a visible part of a cache miss).
   */
  private readonly child: IntTable;
  private readonly building = new Map<number, number>();
  private idAt: Int32Array = new Int32Array(1024).fill(-1);
  private nodes = 2;

  constructor(lib: LibraryPipeline, ref: AlignedEncoder, lowercase: boolean) {
    super(lib, ref);
    this.lowercase = lowercase;
    const model = lib.model as LibraryPipeline['model'] & { max_input_chars_per_word?: number };
    const prefix = model.config.continuing_subword_prefix ?? '';
    this.unkId = model.unk_token_id ?? -1;
    this.maxChars = model.max_input_chars_per_word ?? 100;
    for (const [t, id] of model.tokens_to_ids) {
      const cont = prefix !== '' && t.startsWith(prefix) && t.length > prefix.length;
      // An entry that starts with the prefix is also a word-initial entry (e.g. "##" itself).
      this.insert(0, t, 0, id);
      if (cont) this.insert(1, t, prefix.length, id);
    }
    this.child = new IntTable(this.building);
    this.building.clear();
    const pre = lib.pre_tokenizer;
    for (let c = 0x21; c <= 0x7e; c++) {
      if (pre !== null && pre(`a${String.fromCharCode(c)}a`).length === 3) this.punct[c] = 1;
    }
  }

  private insert(root: number, t: string, from: number, id: number): void {
    let node = root;
    for (let i = from; i < t.length; i++) {
      const c = t.charCodeAt(i);
      if (c < 0x21 || c > 0x7e) return;
    }
    for (let i = from; i < t.length; i++) {
      const key = node * 128 + t.charCodeAt(i);
      let next = this.building.get(key);
      if (next === undefined) {
        next = this.nodes++;
        if (next >= this.idAt.length) {
          const grown = new Int32Array(this.idAt.length * 2).fill(-1);
          grown.set(this.idAt);
          this.idAt = grown;
        }
        this.building.set(key, next);
      }
      node = next;
    }
    if (node > 1 && (this.idAt[node] as number) < 0) this.idAt[node] = id;
  }

  /** Scratch for a piece's packed tokens: at most one token per UTF-16 unit of a cached piece. */
  private readonly scratch = new Int32Array(4 * MAX_CACHED_PIECE);
  private readonly tmpIds = new Int32Array(MAX_CACHED_PIECE);
  private readonly tmpStart = new Int32Array(MAX_CACHED_PIECE);
  private readonly tmpEnd = new Int32Array(MAX_CACHED_PIECE);
  private readonly tmpWord = new Uint8Array(MAX_CACHED_PIECE);

  /**
   * A piece text[from, to) of printable ASCII (no separators inside, at most MAX_CACHED_PIECE units):
   * lowercasing is the whole normalization, the pre-tokens are the punctuation characters and the runs
   * between them, and each pre-token goes through greedy longest-match-first WordPiece. Packs the tokens
   * into `scratch` and returns their count, or -1 when the piece is not plain printable ASCII.
   */
  private asciiPiece(text: string, from: number, to: number): number {
    for (let i = from; i < to; i++) {
      const c = text.charCodeAt(i);
      if (c < 0x21 || c > 0x7e) return -1;
    }
    const lower = this.lowercase;
    const punct = this.punct;
    const child = this.child;
    const idAt = this.idAt;
    const ids = this.tmpIds;
    const start = this.tmpStart;
    const end = this.tmpEnd;
    const word = this.tmpWord;
    let k = 0;
    let i = from;
    while (i < to) {
      let j = i + 1;
      if (punct[text.charCodeAt(i)] !== 1) while (j < to && punct[text.charCodeAt(j)] !== 1) j++;
      // WordPiece on the pre-token [i, j).
      const first = k;
      let ok = j - i <= this.maxChars;
      let a = i;
      while (ok && a < j) {
        // Longest vocabulary entry at `a`: walk the trie, remember the last entry passed.
        let node = a > i ? 1 : 0;
        let b = -1;
        let id = -1;
        for (let x = a; x < j; x++) {
          let c = text.charCodeAt(x);
          if (lower && c >= 0x41 && c <= 0x5a) c += 0x20;
          const next = child.get(node * 128 + c);
          if (next < 0) break;
          node = next;
          const here = idAt[node] as number;
          if (here >= 0) {
            b = x + 1;
            id = here;
          }
        }
        if (b < 0) {
          ok = false;
          break;
        }
        ids[k] = id;
        start[k] = a - from;
        end[k] = b - from;
        word[k] = a === i ? 1 : 0;
        k++;
        a = b;
      }
      if (!ok) {
        k = first;
        ids[k] = this.unkId;
        start[k] = i - from;
        end[k] = j - from;
        word[k] = 1;
        k++;
      }
      i = j;
    }
    const out = this.scratch;
    for (let t = 0; t < k; t++) {
      out[t] = ids[t] as number;
      out[k + t] = start[t] as number;
      out[2 * k + t] = end[t] as number;
      out[3 * k + t] = word[t] as number;
    }
    return k;
  }

  protected compute(text: string, from: number, to: number): number {
    if (to - from <= MAX_CACHED_PIECE) {
      const k = this.asciiPiece(text, from, to);
      if (k >= 0) {
        this.pool = this.scratch;
        this.offset = 0;
        return k;
      }
    }
    return this.use(pack(pieceOf(this.ref.encode(text.slice(from, to)))));
  }

  private isSep(c: number): boolean {
    if (c === 32) return true;
    let v = this.sep[c] as number;
    if (v === 0) {
      v = 2;
      if (c < 0xd800 || c > 0xdfff) {
        const ch = String.fromCharCode(c);
        const norm = this.lib.normalizer;
        const n = norm === null ? ch : norm(ch);
        if (/^\s$/u.test(ch) && n.length > 0 && /^\s+$/u.test(n)) v = 1;
      }
      this.sep[c] = v;
    }
    return v === 1;
  }

  protected scan(text: string, out: Out): void {
    const n = text.length;
    let i = 0;
    while (i < n) {
      while (i < n && this.isSep(text.charCodeAt(i))) i++;
      let j = i;
      let h = FNV_BASIS;
      for (; j < n; j++) {
        const c = text.charCodeAt(j);
        if (this.isSep(c)) break;
        h = Math.imul(h ^ c, FNV_PRIME);
      }
      if (j > i) {
        const k = this.tokens(text, i, j, h);
        out.append(this.pool, this.offset, k, i);
      }
      i = j;
    }
  }

  protected countScan(text: string): number {
    const n = text.length;
    let i = 0;
    let total = 0;
    while (i < n) {
      while (i < n && this.isSep(text.charCodeAt(i))) i++;
      let j = i;
      let h = FNV_BASIS;
      for (; j < n; j++) {
        const c = text.charCodeAt(j);
        if (this.isSep(c)) break;
        h = Math.imul(h ^ c, FNV_PRIME);
      }
      if (j > i) total += this.tokens(text, i, j, h);
      i = j;
    }
    return total;
  }
}

/** A pair rank meaning "these two symbols do not merge" (above every real rank). */
const NO_MERGE = 0x7fffffff;

/**
 * A frozen map from non-negative int32 keys to non-negative int32 values, in typed arrays (open
 * addressing, linear probing, at most half full): a lookup neither allocates nor hashes through a Map.
 */
class IntTable {
  private readonly keys: Int32Array;
  private readonly vals: Int32Array;
  private readonly mask: number;

  constructor(entries: Map<number, number>) {
    let cap = 16;
    while (cap < entries.size * 2) cap *= 2;
    this.keys = new Int32Array(cap).fill(-1);
    this.vals = new Int32Array(cap);
    this.mask = cap - 1;
    for (const [k, v] of entries) {
      let s = IntTable.slot(k) & this.mask;
      while (this.keys[s] !== -1) s = (s + 1) & this.mask;
      this.keys[s] = k;
      this.vals[s] = v;
    }
  }

  private static slot(k: number): number {
    const h = Math.imul(k, 0x9e3779b1);
    return h ^ (h >>> 16);
  }

  /** The value of `key`, or -1. */
  get(key: number): number {
    const mask = this.mask;
    for (let s = IntTable.slot(key) & mask; ; s = (s + 1) & mask) {
      const k = this.keys[s] as number;
      if (k === key) return this.vals[s] as number;
      if (k === -1) return -1;
    }
  }
}

/** GPT-2's byte → printable character table (the standard byte-level alphabet). */
function byteAlphabet(): string[] {
  const direct = (b: number): boolean => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  const out: string[] = new Array<string>(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) out[b] = String.fromCharCode(direct(b) ? b : 256 + extra++);
  return out;
}

const BYTE_CHARS = byteAlphabet();

/** Byte-level BPE with a Split regex (or ByteLevel's own regex) and an optional NFC normalizer. */
export class FastByteLevelBpeEncoder extends FastEncoderBase {
  readonly kind = 'fast-bytelevel-bpe' as const;
  private readonly re: RegExp;
  /** The same regex, sticky: matches only where the previous pre-token ended, without a match array. */
  private readonly sticky: RegExp;
  /** true: the gaps between matches are pre-tokens too (Split Isolated); false: dropped (`match`). */
  private readonly keepGaps: boolean;
  private readonly nfc: boolean;
  private readonly utf8 = new TextEncoder();
  /** Merge rank by pair of ids; null: merges not usable by id, use the library. */
  private readonly ranks: PairRanks | null;
  /** Id produced by the merge of each rank. */
  private readonly mergedId: Int32Array;
  /** Id of each byte's character; -1 when missing from the vocabulary. */
  private readonly byteId = new Int32Array(256);
  /** Scratch of a short pre-token: its UTF-8 bytes, their code points' spans, the BPE symbols. */
  private readonly bytes = new Uint8Array(3 * MAX_CACHED_PIECE);
  private readonly byteStart = new Int32Array(3 * MAX_CACHED_PIECE);
  private readonly byteEnd = new Int32Array(3 * MAX_CACHED_PIECE);
  private readonly symbols = new Int32Array(3 * MAX_CACHED_PIECE);
  private readonly symBytes = new Int32Array(3 * MAX_CACHED_PIECE);
  private readonly pairRank = new Int32Array(3 * MAX_CACHED_PIECE);
  /** Scratch of a short pre-token's packed tokens. */
  private readonly scratch = new Int32Array(4 * 3 * MAX_CACHED_PIECE);

  constructor(
    lib: LibraryPipeline,
    ref: AlignedEncoder,
    re: RegExp,
    keepGaps: boolean,
    nfc: boolean,
    merges: unknown[] | undefined,
  ) {
    super(lib, ref);
    this.re = new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`);
    this.sticky = new RegExp(re.source, `${re.flags.replace('g', '')}y`);
    this.keepGaps = keepGaps;
    this.nfc = nfc;
    const vocab = lib.model.tokens_to_ids;
    for (let b = 0; b < 256; b++) this.byteId[b] = vocab.get(BYTE_CHARS[b] as string) ?? -1;
    const built = buildRanks(vocab, merges ?? []);
    this.ranks = built?.ranks ?? null;
    this.mergedId = built?.mergedId ?? new Int32Array(0);
  }

  /**
   * BPE over ids of the n bytes in `this.bytes`: repeatedly merges the adjacent pair of lowest rank, the
   * leftmost one on a tie (what the library's priority queue with its position bias does). Leaves the
   * resulting ids in `symbols` and their byte lengths in `symBytes` and returns their count, or -1 when
   * the merges are not usable by id or a byte has no vocabulary entry. Quadratic in the pre-token's
   * bytes, so only used for cached (short) pre-tokens.
   */
  private nativeBpe(n: number): number {
    const ranks = this.ranks;
    if (ranks === null) return -1;
    const bytes = this.bytes;
    const sym = this.symbols;
    const len = this.symBytes;
    for (let i = 0; i < n; i++) {
      const id = this.byteId[bytes[i] as number] as number;
      if (id < 0) return -1;
      sym[i] = id;
      len[i] = 1;
    }
    // rank[i]: the merge rank of the pair (sym[i], sym[i + 1]), NO_MERGE when there is none. Kept up
    // to date after each merge (only the merged symbol's two pairs change), so each merge costs a scan
    // of small integers and two table lookups instead of a lookup per pair.
    const rank = this.pairRank;
    const pairRank = (i: number): number => {
      const r = ranks.get(sym[i] as number, sym[i + 1] as number);
      return r < 0 ? NO_MERGE : r;
    };
    for (let i = 0; i + 1 < n; i++) rank[i] = pairRank(i);
    while (n > 1) {
      let best = 0;
      let bestRank = rank[0] as number;
      for (let i = 1; i + 1 < n; i++) {
        const r = rank[i] as number;
        if (r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (bestRank === NO_MERGE) break;
      sym[best] = this.mergedId[bestRank] as number;
      len[best] = (len[best] as number) + (len[best + 1] as number);
      sym.copyWithin(best + 1, best + 2, n);
      len.copyWithin(best + 1, best + 2, n);
      rank.copyWithin(best + 1, best + 2, n - 1);
      n--;
      if (best + 1 < n) rank[best] = pairRank(best);
      if (best > 0) rank[best - 1] = pairRank(best - 1);
    }
    return n;
  }

  /**
   * UTF-8 of text[from, to) into `this.bytes` (a lone surrogate as U+FFFD, as TextEncoder does), with
   * each byte's code point span relative to `from` in `byteStart`/`byteEnd`. Returns the byte count.
   * At most 3 bytes per UTF-16 unit, so MAX_CACHED_PIECE units fit the scratch arrays.
   */
  private utf8Of(text: string, from: number, to: number): number {
    const bytes = this.bytes;
    const bs = this.byteStart;
    const be = this.byteEnd;
    let b = 0;
    for (let i = from; i < to;) {
      let c = text.charCodeAt(i);
      let units = 1;
      if (c >= 0xd800 && c <= 0xdfff) {
        const d = i + 1 < to ? text.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          units = 2;
        } else {
          c = 0xfffd;
        }
      }
      const b0 = b;
      if (c < 0x80) bytes[b++] = c;
      else if (c < 0x800) {
        bytes[b++] = 0xc0 | (c >> 6);
        bytes[b++] = 0x80 | (c & 0x3f);
      } else if (c < 0x10000) {
        bytes[b++] = 0xe0 | (c >> 12);
        bytes[b++] = 0x80 | ((c >> 6) & 0x3f);
        bytes[b++] = 0x80 | (c & 0x3f);
      } else {
        bytes[b++] = 0xf0 | (c >> 18);
        bytes[b++] = 0x80 | ((c >> 12) & 0x3f);
        bytes[b++] = 0x80 | ((c >> 6) & 0x3f);
        bytes[b++] = 0x80 | (c & 0x3f);
      }
      for (let x = b0; x < b; x++) {
        bs[x] = i - from;
        be[x] = i - from + units;
      }
      i += units;
    }
    return b;
  }

  protected override fastApplies(text: string): boolean {
    if (!super.fastApplies(text)) return false;
    return !this.nfc || text.normalize('NFC') === text;
  }

  /** Ids and spans of one pre-token, from the library's BPE model (long pre-tokens, unusual merges). */
  private computePiece(pt: string): Piece {
    const bytes = this.utf8.encode(pt);
    let s = '';
    for (const b of bytes) s += BYTE_CHARS[b] as string;
    // Per byte: the UTF-16 span of the code point it belongs to.
    const bs = new Int32Array(bytes.length);
    const be = new Int32Array(bytes.length);
    let b = 0;
    for (let i = 0; i < pt.length;) {
      const c = pt.charCodeAt(i);
      let nb = 3;
      let nu = 1;
      if (c < 0x80) nb = 1;
      else if (c < 0x800) nb = 2;
      else if (c >= 0xd800 && c <= 0xdbff && i + 1 < pt.length) {
        const d = pt.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          nb = 4;
          nu = 2;
        }
      }
      for (let k = 0; k < nb; k++) {
        bs[b + k] = i;
        be[b + k] = i + nu;
      }
      b += nb;
      i += nu;
    }
    const tokens = this.lib.model([s]);
    const k = tokens.length;
    const ids = new Int32Array(k);
    const start = new Int32Array(k);
    const end = new Int32Array(k);
    const word = new Uint8Array(k);
    let at = 0;
    for (let t = 0; t < k; t++) {
      const tok = tokens[t] as string;
      ids[t] =
        this.lib.added_tokens_map.get(tok)?.id ??
        this.lib.model.tokens_to_ids.get(tok) ??
        this.lib.model.unk_token_id ??
        -1;
      start[t] = bs[at] as number;
      at += tok.length;
      end[t] = be[at - 1] as number;
      word[t] = t === 0 ? 1 : 0;
    }
    if (at !== bytes.length) throw new Error(`byte-level tokens do not cover pre-token ${JSON.stringify(pt)}`);
    return { ids, start, end, word };
  }

  protected compute(text: string, from: number, to: number): number {
    if (to - from <= MAX_CACHED_PIECE) {
      const k = this.nativeBpe(this.utf8Of(text, from, to));
      if (k >= 0) {
        const out = this.scratch;
        const len = this.symBytes;
        const bs = this.byteStart;
        const be = this.byteEnd;
        const sym = this.symbols;
        let at = 0;
        for (let t = 0; t < k; t++) {
          out[t] = sym[t] as number;
          out[k + t] = bs[at] as number;
          at += len[t] as number;
          out[2 * k + t] = be[at - 1] as number;
          out[3 * k + t] = t === 0 ? 1 : 0;
        }
        this.pool = out;
        this.offset = 0;
        return k;
      }
    }
    return this.use(pack(this.computePiece(text.slice(from, to))));
  }

  /**
   * Calls `visit(from, to)` for every pre-token text[from, to), in order: the matches of the split regex
   * and, with `keepGaps`, the text between them, exactly as a global `exec` loop finds them. Where a match
   * starts right where the previous one ended (nearly always), the sticky regex's `test` finds it without
   * allocating a match array; otherwise (a gap, an empty match, the end) the global `exec` decides.
   */
  private each(text: string, visit: (from: number, to: number) => void): void {
    const re = this.re;
    const sticky = this.sticky;
    const n = text.length;
    let prev = 0;
    let from = 0;
    while (from <= n) {
      if (from === prev && from < n) {
        sticky.lastIndex = from;
        if (sticky.test(text) && sticky.lastIndex > from) {
          visit(from, sticky.lastIndex);
          prev = from = sticky.lastIndex;
          continue;
        }
      }
      re.lastIndex = from;
      const m = re.exec(text);
      if (m === null) break;
      const len = m[0].length;
      const at = m.index;
      if (this.keepGaps && prev < at) visit(prev, at);
      if (len > 0) {
        visit(at, at + len);
        from = at + len;
      } else {
        from = at + ((text.codePointAt(at) ?? 0) > 0xffff ? 2 : 1);
      }
      prev = at + len;
    }
    if (this.keepGaps && prev < n) visit(prev, n);
  }

  protected scan(text: string, out: Out): void {
    this.each(text, (from, to) => {
      const k = this.tokens(text, from, to, hashUnits(text, from, to));
      out.append(this.pool, this.offset, k, from);
    });
  }

  protected countScan(text: string): number {
    let total = 0;
    this.each(text, (from, to) => {
      total += this.tokens(text, from, to, hashUnits(text, from, to));
    });
    return total;
  }
}

/**
 * Merge ranks by pair of ids, in an open-addressing table of typed arrays: a lookup neither allocates
 * (a Map keyed by `left * 2^21 + right` boxed every key above 2^31) nor hashes a string.
 */
class PairRanks {
  /** Per slot, 4 words: left id, right id, rank (-1: empty slot), unused; one cache line per probe. */
  private readonly table: Int32Array;
  private readonly mask: number;

  constructor(pairs: number) {
    let cap = 16;
    while (cap < pairs * 2) cap *= 2;
    this.table = new Int32Array(4 * cap);
    for (let s = 0; s < cap; s++) this.table[4 * s + 2] = -1;
    this.mask = cap - 1;
  }

  private static slot(a: number, b: number): number {
    let h = Math.imul(a, 0x9e3779b1) ^ b;
    h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
    return h ^ (h >>> 13);
  }

  /** Sets the rank of (a, b); a pair set twice keeps the last rank. */
  set(a: number, b: number, r: number): void {
    const t = this.table;
    const mask = this.mask;
    let s = PairRanks.slot(a, b) & mask;
    while (t[4 * s + 2] !== -1 && (t[4 * s] !== a || t[4 * s + 1] !== b)) s = (s + 1) & mask;
    t[4 * s] = a;
    t[4 * s + 1] = b;
    t[4 * s + 2] = r;
  }

  /** The rank of (a, b), or -1. */
  get(a: number, b: number): number {
    const t = this.table;
    const mask = this.mask;
    for (let s = PairRanks.slot(a, b) & mask; ; s = (s + 1) & mask) {
      const r = t[4 * s + 2] as number;
      if (r === -1 || (t[4 * s] === a && t[4 * s + 1] === b)) return r;
    }
  }
}

function buildRanks(vocab: Map<string, number>, merges: unknown[]): { ranks: PairRanks; mergedId: Int32Array } | null {
  const ranks = new PairRanks(merges.length);
  const mergedId = new Int32Array(merges.length);
  for (let r = 0; r < merges.length; r++) {
    const m = merges[r];
    let a: unknown;
    let b: unknown;
    if (Array.isArray(m)) [a, b] = m as unknown[];
    else if (typeof m === 'string') [a, b] = m.split(' ', 2);
    if (typeof a !== 'string' || typeof b !== 'string') return null;
    const ia = vocab.get(a);
    const ib = vocab.get(b);
    const im = vocab.get(a + b);
    if (ia === undefined || ib === undefined || im === undefined) return null;
    ranks.set(ia, ib, r);
    mergedId[r] = im;
  }
  return { ranks, mergedId };
}

export type FastEncoder = FastWordPieceEncoder | FastByteLevelBpeEncoder;

interface JsonConfig {
  type?: string;
  pretokenizers?: JsonConfig[];
  pattern?: { Regex?: string; String?: string };
  behavior?: string;
  invert?: boolean;
  use_regex?: boolean;
  add_prefix_space?: boolean;
  continuing_subword_prefix?: string | null;
  end_of_word_suffix?: string | null;
  byte_fallback?: boolean;
  fuse_unk?: boolean;
  ignore_merges?: boolean;
  dropout?: number | null;
  lowercase?: boolean;
  merges?: unknown[];
}

interface LibPreTokenizer {
  pattern?: unknown;
  tokenizers?: LibPreTokenizer[];
}

/**
 * Picks a fast encoder when the tokenizer.json uses exactly the features it implements; else returns
 * the reason it does not apply.
 */
export function selectFastEncoder(
  lib: LibraryPipeline,
  tokenizerJson: {
    model?: JsonConfig;
    normalizer?: JsonConfig | null;
    pre_tokenizer?: JsonConfig | null;
    added_tokens?: { normalized?: boolean }[];
  },
  ref: AlignedEncoder,
): { encoder: FastEncoder } | { reason: string } {
  const model = tokenizerJson.model ?? {};
  const norm = tokenizerJson.normalizer ?? null;
  const pre = tokenizerJson.pre_tokenizer ?? null;
  if ((tokenizerJson.added_tokens ?? []).some((t) => t.normalized === true)) {
    return { reason: 'added tokens matched after normalization' };
  }
  if (model.type === 'WordPiece') {
    if (norm?.type !== 'BertNormalizer') return { reason: `WordPiece with normalizer ${norm?.type ?? 'none'}` };
    if (pre?.type !== 'BertPreTokenizer') return { reason: `WordPiece with pre-tokenizer ${pre?.type ?? 'none'}` };
    return { encoder: new FastWordPieceEncoder(lib, ref, norm.lowercase === true) };
  }
  if (model.type === 'BPE') {
    if (norm !== null && norm.type !== 'NFC') return { reason: `BPE with normalizer ${norm.type ?? '?'}` };
    if ((model.continuing_subword_prefix ?? '') !== '' || (model.end_of_word_suffix ?? '') !== '') {
      return { reason: 'BPE with a subword prefix or suffix' };
    }
    if (model.byte_fallback === true) return { reason: 'BPE with byte_fallback' };
    if (model.fuse_unk === true || model.ignore_merges === true || (model.dropout ?? 0) !== 0) {
      return { reason: 'BPE with fuse_unk, ignore_merges or dropout' };
    }
    const libPre = lib.pre_tokenizer as unknown as LibPreTokenizer | null;
    if (pre?.type === 'ByteLevel') {
      if (pre.add_prefix_space === true) return { reason: 'ByteLevel add_prefix_space' };
      const re = libPre?.pattern;
      if (pre.use_regex === false || !(re instanceof RegExp)) return { reason: 'ByteLevel without its regex' };
      return { encoder: new FastByteLevelBpeEncoder(lib, ref, re, false, norm !== null, model.merges) };
    }
    const parts = pre?.type === 'Sequence' ? (pre.pretokenizers ?? []) : [];
    const [split, bl] = parts;
    if (
      parts.length !== 2 ||
      split?.type !== 'Split' ||
      split.behavior !== 'Isolated' ||
      split.invert !== false ||
      typeof split.pattern?.Regex !== 'string' ||
      bl?.type !== 'ByteLevel' ||
      bl.add_prefix_space === true ||
      bl.use_regex !== false
    ) {
      return { reason: 'BPE pre-tokenizer is not Sequence[Split(Regex, Isolated), ByteLevel(use_regex=false)]' };
    }
    const re = libPre?.tokenizers?.[0]?.pattern;
    if (!(re instanceof RegExp)) return { reason: 'Split regex not compiled by transformers.js' };
    return { encoder: new FastByteLevelBpeEncoder(lib, ref, re, true, norm !== null, model.merges) };
  }
  return { reason: `model ${model.type ?? '?'}` };
}
