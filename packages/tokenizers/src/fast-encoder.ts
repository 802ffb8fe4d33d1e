/**
 * Fast encoders: the same {@link Encoding} (ids, UTF-16 spans, wordStart) as {@link AlignedEncoder},
 * in one pass over the text, for the two tokenizer families chunkline ships.
 *
 * Profiling the reference path (`node --cpu-prof` on the benchmark corpus) shows the time going into
 * transformers.js's whole-text passes (normalizer, pre-tokenizer regex, ByteLevel's per-byte string
 * joins, the model call per pre-token with its token strings) and into our alignment bookkeeping. Both
 * fast encoders instead cut the text into pieces whose tokenization is *independent of their context*
 * and keep a cache from a piece's string to its ids and relative spans, so that natural text, whose
 * words repeat, costs one scan, one Map lookup per piece and a copy of a few integers:
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
 * A cache miss is computed by the reference machinery itself (the AlignedEncoder for a BERT piece, the
 * library's BPE model for a pre-token), so ids and spans are the reference's by construction; the
 * differential tests (test/fast-encoder.test.ts) check the whole-text equality on the fixture corpus and
 * on generated Unicode text. Texts containing an added token (e.g. `[SEP]`, `<|im_end|>`), and texts
 * that are not NFC for an NFC tokenizer, go to the reference path whole.
 */
import type { Encoding } from '@chunkline/chunking';
import type { AlignedEncoder, LibraryPipeline } from './aligned-encoder.js';

/** Which encoder a loaded tokenizer uses. */
export type EncoderKind = 'fast-wordpiece' | 'fast-bytelevel-bpe' | 'reference';

/** Pieces longer than this (UTF-16 units) are encoded without caching. */
const MAX_CACHED_PIECE = 128;
/** The cache is cleared when it reaches this many pieces (bounded memory). */
const CACHE_LIMIT = 1 << 18;

/** One cached piece: ids, spans relative to the piece's start, and which tokens start a pre-token. */
interface Piece {
  readonly ids: Int32Array;
  readonly start: Int32Array;
  readonly end: Int32Array;
  readonly word: Uint8Array;
}

/** Growable output arrays. */
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
  append(p: Piece, at: number): void {
    const k = p.ids.length;
    const n = this.n;
    if (n + k > this.ids.length) this.grow(n + k);
    this.ids.set(p.ids, n);
    this.word.set(p.word, n);
    const s = this.start;
    const e = this.end;
    const ps = p.start;
    const pe = p.end;
    for (let i = 0; i < k; i++) {
      s[n + i] = (ps[i] as number) + at;
      e[n + i] = (pe[i] as number) + at;
    }
    this.n = n + k;
  }
  finish(): Encoding {
    const n = this.n;
    return {
      ids: this.ids.slice(0, n),
      start16: this.start.slice(0, n),
      end16: this.end.slice(0, n),
      wordStart: this.word.slice(0, n),
    };
  }
}

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
  protected readonly cache = new Map<string, Piece>();
  private readonly addedContents: string[];

  constructor(lib: LibraryPipeline, ref: AlignedEncoder) {
    this.lib = lib;
    this.ref = ref;
    this.addedContents = [...new Set(lib.added_tokens.map((t) => t.content).filter((c) => c !== ''))];
  }

  /** Same as {@link AlignedEncoder.encode}. */
  encode(text: string): Encoding {
    if (!this.fastApplies(text)) return this.ref.encode(text);
    const out = new Out(text.length >> 2);
    this.scan(text, out);
    return out.finish();
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

  protected remember(key: string, p: Piece): void {
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(key, p);
  }

  protected abstract scan(text: string, out: Out): void;
  protected abstract countScan(text: string): number;
}

/** WordPiece with BertNormalizer and BertPreTokenizer. */
export class FastWordPieceEncoder extends FastEncoderBase {
  readonly kind = 'fast-wordpiece' as const;
  /** Per BMP code unit: 0 unknown yet, 1 separator, 2 not a separator. */
  private readonly sep = new Uint8Array(65536);

  private isSep(c: number): boolean {
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

  private piece(text: string, i: number, j: number): Piece {
    if (j - i > MAX_CACHED_PIECE) return pieceOf(this.ref.encode(text.slice(i, j)));
    const key = text.slice(i, j);
    let p = this.cache.get(key);
    if (p === undefined) {
      p = pieceOf(this.ref.encode(key));
      this.remember(key, p);
    }
    return p;
  }

  protected scan(text: string, out: Out): void {
    const n = text.length;
    let i = 0;
    while (i < n) {
      while (i < n && this.isSep(text.charCodeAt(i))) i++;
      let j = i;
      while (j < n && !this.isSep(text.charCodeAt(j))) j++;
      if (j > i) out.append(this.piece(text, i, j), i);
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
      while (j < n && !this.isSep(text.charCodeAt(j))) j++;
      if (j > i) total += this.piece(text, i, j).ids.length;
      i = j;
    }
    return total;
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
  /** true: the gaps between matches are pre-tokens too (Split Isolated); false: dropped (`match`). */
  private readonly keepGaps: boolean;
  private readonly nfc: boolean;
  private readonly utf8 = new TextEncoder();

  constructor(lib: LibraryPipeline, ref: AlignedEncoder, re: RegExp, keepGaps: boolean, nfc: boolean) {
    super(lib, ref);
    this.re = new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`);
    this.keepGaps = keepGaps;
    this.nfc = nfc;
  }

  protected override fastApplies(text: string): boolean {
    if (!super.fastApplies(text)) return false;
    return !this.nfc || text.normalize('NFC') === text;
  }

  /** Ids and spans of one pre-token, from the library's BPE model. */
  private compute(pt: string): Piece {
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

  private piece(pt: string): Piece {
    if (pt.length > MAX_CACHED_PIECE) return this.compute(pt);
    let p = this.cache.get(pt);
    if (p === undefined) {
      p = this.compute(pt);
      this.remember(pt, p);
    }
    return p;
  }

  /** Calls `visit(preToken, start)` for every pre-token, in order. */
  private each(text: string, visit: (pt: string, at: number) => void): void {
    const re = this.re;
    re.lastIndex = 0;
    let prev = 0;
    let m: RegExpExecArray | null;
    while ((m = re.exec(text)) !== null) {
      const s = m[0];
      const at = m.index;
      if (this.keepGaps && prev < at) visit(text.slice(prev, at), prev);
      if (s.length > 0) visit(s, at);
      else
        re.lastIndex = at + (text.codePointAt(at) !== undefined && (text.codePointAt(at) as number) > 0xffff ? 2 : 1);
      prev = at + s.length;
    }
    if (this.keepGaps && prev < text.length) visit(text.slice(prev), prev);
  }

  protected scan(text: string, out: Out): void {
    this.each(text, (pt, at) => out.append(this.piece(pt), at));
  }

  protected countScan(text: string): number {
    let total = 0;
    this.each(text, (pt) => {
      total += this.piece(pt).ids.length;
    });
    return total;
  }
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
    return { encoder: new FastWordPieceEncoder(lib, ref) };
  }
  if (model.type === 'BPE') {
    if (norm !== null && norm.type !== 'NFC') return { reason: `BPE with normalizer ${norm.type ?? '?'}` };
    if ((model.continuing_subword_prefix ?? '') !== '' || (model.end_of_word_suffix ?? '') !== '') {
      return { reason: 'BPE with a subword prefix or suffix' };
    }
    if (model.byte_fallback === true) return { reason: 'BPE with byte_fallback' };
    const libPre = lib.pre_tokenizer as unknown as LibPreTokenizer | null;
    if (pre?.type === 'ByteLevel') {
      if (pre.add_prefix_space === true) return { reason: 'ByteLevel add_prefix_space' };
      const re = libPre?.pattern;
      if (pre.use_regex === false || !(re instanceof RegExp)) return { reason: 'ByteLevel without its regex' };
      return { encoder: new FastByteLevelBpeEncoder(lib, ref, re, false, norm !== null) };
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
    return { encoder: new FastByteLevelBpeEncoder(lib, ref, re, true, norm !== null) };
  }
  return { reason: `model ${model.type ?? '?'}` };
}
