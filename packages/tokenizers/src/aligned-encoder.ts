/**
 * Tokenization with per-token character spans, driving transformers.js's own pipeline objects
 * (added-token splitter → normalizer → pre-tokenizer → model) step by step so that the ids are
 * exactly the library's, while tracking where every normalized character came from.
 *
 * transformers.js computes no offset mapping; Hugging Face `tokenizers` (Rust) does, through
 * `NormalizedString` alignments. We rebuild the same mapping:
 * - The text is normalized in *units*: maximal runs of whitespace or of non-whitespace. Every
 *   normalizer we drive (BertNormalizer, NFC/NFD/NFKC/NFKD, Lowercase, StripAccents, Precompiled)
 *   acts per character or per combining sequence, never across whitespace, so normalizing units one
 *   by one gives the same string as normalizing the whole text. Differential tests check that the ids
 *   equal the library's own `encode` on the fixture corpus and on generated text.
 * - Inside a unit whose normalized form differs from the original, each normalized character is
 *   mapped to the code point (or combining sequence) it came from; if even that does not line up
 *   (context-dependent rules such as a final sigma), to the whole unit.
 * - Pre-tokens are located in the normalized string (as substrings, or by UTF-8 byte counts for
 *   byte-level pre-tokenizers), and tokens inside each pre-token by their lengths.
 */
import type { Encoding } from '@chunkline/chunking';
import { TokenizerLoadError } from './errors.js';

/** The parts of transformers.js's internal `Tokenizer` (from @huggingface/tokenizers) we drive. */
export interface LibraryPipeline {
  normalizer: ((text: string) => string) | null;
  pre_tokenizer: ((text: string, options?: { section_index?: number }) => string[]) | null;
  model: ((pretokens: string[]) => string[]) & {
    tokens_to_ids: Map<string, number>;
    unk_token_id?: number;
    unk_token?: string;
    config: { type?: string; continuing_subword_prefix?: string | null };
  };
  added_tokens: { content: string; id: number; lstrip: boolean; rstrip: boolean }[];
  added_tokens_map: Map<string, { id: number; lstrip: boolean; rstrip: boolean }>;
  splitter_unnormalized: { split(text: string): string[] };
  splitter_normalized: { split(text: string): string[] };
  remove_space?: boolean;
  do_lowercase_and_remove_accent?: boolean;
  encode_text(text: string): string[] | null;
}

type ModelKind = 'wordpiece' | 'bytelevel-bpe';

/**
 * How local the pre-tokenizer is, which decides when a chunk's own token count can be read off the
 * document's tokens (see {@link AlignedEncoder.countSpan}):
 * - `bert`: BertPreTokenizer splits at whitespace (dropped) and punctuation; every pre-token boundary
 *   is a clean restart.
 * - `regex`: byte-level pre-tokenizers whose split regexes look neither behind nor more than one
 *   character ahead (`(?!\S)`, as in GPT-2, Llama 3 and Qwen): matching restarts identically at a
 *   pre-token boundary, and only a trailing whitespace run can split differently at a chunk's end.
 * - `none`: anything else; every chunk is re-tokenized.
 */
type Locality = 'bert' | 'regex' | 'none';

function isWs(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  if (c === 32 || (c >= 9 && c <= 13)) return true;
  return c > 127 && /\s/.test(text[i] ?? '');
}

function regexIsLocal(source: string): boolean {
  const rest = source.replaceAll('(?!\\S)', '').replaceAll('(?i:', '(?:').replaceAll('(?:', '(');
  return !rest.includes('(?') && !/(^|[^\\])[$^]/.test(rest.replace(/\[[^\]]*\]/g, ''));
}

function localityOf(kind: ModelKind, pre: unknown): Locality {
  const c = pre as {
    type?: string;
    pretokenizers?: unknown[];
    pattern?: { Regex?: string };
    behavior?: string;
    invert?: boolean;
    use_regex?: boolean;
  } | null;
  if (c === null || typeof c !== 'object') return 'none';
  if (kind === 'wordpiece') return c.type === 'BertPreTokenizer' ? 'bert' : 'none';
  const parts = c.type === 'Sequence' ? (c.pretokenizers ?? []) : [c];
  for (const p of parts as (typeof c)[]) {
    if (p?.type === 'ByteLevel') continue;
    if (p?.type !== 'Split' || p.invert === true || p.behavior !== 'Isolated') return 'none';
    if (typeof p.pattern?.Regex !== 'string' || !regexIsLocal(p.pattern.Regex)) return 'none';
  }
  return 'regex';
}

interface UnitNorm {
  /** Normalized unit. */
  readonly n: string;
  /** Per normalized code unit: start/end (relative UTF-16 index in the unit); null = identity. */
  readonly relStart: Int32Array | null;
  readonly relEnd: Int32Array | null;
}

/** Growable pair of Int32Arrays. */
class SpanBuffer {
  start: Int32Array;
  end: Int32Array;
  length = 0;
  constructor(capacity: number) {
    this.start = new Int32Array(Math.max(16, capacity));
    this.end = new Int32Array(Math.max(16, capacity));
  }
  ensure(extra: number): void {
    const need = this.length + extra;
    if (need <= this.start.length) return;
    let cap = this.start.length * 2;
    while (cap < need) cap *= 2;
    const s = new Int32Array(cap);
    s.set(this.start.subarray(0, this.length));
    const e = new Int32Array(cap);
    e.set(this.end.subarray(0, this.length));
    this.start = s;
    this.end = e;
  }
  push(s: number, e: number): void {
    if (this.length === this.start.length) this.ensure(1);
    this.start[this.length] = s;
    this.end[this.length] = e;
    this.length++;
  }
}

/** Where encoding appends tokens: ids, pre-token starts, and UTF-16 spans. */
class TokenSink {
  readonly ids: number[] = [];
  readonly words: number[] = [];
  readonly spans: SpanBuffer;
  constructor(capacity: number) {
    this.spans = new SpanBuffer(capacity);
  }
  push(id: number, wordStart: boolean, start16: number, end16: number): void {
    this.ids.push(id);
    this.words.push(wordStart ? 1 : 0);
    this.spans.push(start16, end16);
  }
}

const UNIT_CACHE_LIMIT = 200_000;
/** Characters JavaScript's `\s` matches (plus NEL): candidates for unit separators. */
const WHITESPACE =
  '\t\n\v\f\r \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff';

/**
 * The regex that cuts text into normalization units. A separator is a whitespace character the
 * normalizer keeps as whitespace; one it deletes (BERT's clean_text drops U+000B, U+000C, U+0085,
 * U+FEFF) stays inside the unit, because context such as a word-final sigma reads across it.
 */
function unitRegex(norm: ((s: string) => string) | null): RegExp {
  const seps = [...WHITESPACE].filter((c) => {
    const n = norm === null ? c : norm(c);
    return /^\s$/u.test(c) && n.length > 0 && /^\s+$/u.test(n);
  });
  if (seps.length === 0) return /[^]+/gu;
  const cls = seps.map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
  return new RegExp(`[${cls}]+|[^${cls}]+`, 'gu');
}
const GROUP_RE = /\P{M}\p{M}*|\p{M}+/gu;

function isPrintableAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

/** UTF-8 length of the code point starting at `s[i]`, and its UTF-16 length. */
function utf8At(s: string, i: number): [bytes: number, units: number] {
  const c = s.charCodeAt(i);
  if (c < 0x80) return [1, 1];
  if (c < 0x800) return [2, 1];
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
    const d = s.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return [4, 2];
  }
  return [3, 1]; // BMP, or a lone surrogate (encoded as U+FFFD, 3 bytes)
}

function hasByteLevel(config: unknown): boolean {
  if (config === null || typeof config !== 'object') return false;
  const c = config as { type?: string; pretokenizers?: unknown[] };
  if (c.type === 'ByteLevel') return true;
  return Array.isArray(c.pretokenizers) && c.pretokenizers.some(hasByteLevel);
}

/**
 * Encodes text into ids plus UTF-16 spans, with exactly the ids of the wrapped transformers.js tokenizer.
 */
export class AlignedEncoder {
  private readonly lib: LibraryPipeline;
  private readonly kind: ModelKind;
  private readonly prefix: string;
  private readonly unk: string | undefined;
  private readonly unkId: number;
  private readonly unitCache = new Map<string, UnitNorm>();
  private readonly hasAddedTokens: boolean;
  private readonly locality: Locality;
  private readonly unitRe: RegExp;

  constructor(
    lib: LibraryPipeline,
    tokenizerJson: { model?: { type?: string }; pre_tokenizer?: unknown },
    where: string,
  ) {
    this.lib = lib;
    const modelType = tokenizerJson.model?.type ?? '';
    const byteLevel = hasByteLevel(tokenizerJson.pre_tokenizer);
    if (lib.remove_space === true || lib.do_lowercase_and_remove_accent === true) {
      throw new TokenizerLoadError(
        'UNSUPPORTED',
        `${where}: tokenizer_config options remove_space / do_lowercase_and_remove_accent are not supported for offsets`,
      );
    }
    if (modelType === 'WordPiece' && !byteLevel) this.kind = 'wordpiece';
    else if (modelType === 'BPE' && byteLevel) this.kind = 'bytelevel-bpe';
    else {
      throw new TokenizerLoadError(
        'UNSUPPORTED',
        `${where}: per-token offsets are implemented for WordPiece (BERT-style) and byte-level BPE tokenizers; ` +
          `this tokenizer.json has model "${modelType}" with ${byteLevel ? 'a byte-level' : 'a non-byte-level'} pre-tokenizer`,
      );
    }
    const bl = findByteLevel(tokenizerJson.pre_tokenizer);
    if (bl?.add_prefix_space === true) {
      throw new TokenizerLoadError(
        'UNSUPPORTED',
        `${where}: ByteLevel add_prefix_space=true is not supported for offsets`,
      );
    }
    this.prefix = lib.model.config.continuing_subword_prefix ?? '';
    this.unk = lib.model.unk_token;
    this.unkId = lib.model.unk_token_id ?? -1;
    this.hasAddedTokens = lib.added_tokens.length > 0;
    this.locality = localityOf(this.kind, tokenizerJson.pre_tokenizer);
    this.unitRe = unitRegex(lib.normalizer);
  }

  /**
   * The token count of text[a, b) tokenized alone, read off the document's encoding when both cuts
   * are clean, else -1. A cut is clean at the document's edges, or next to whitespace (where every
   * supported normalizer restarts) on a pre-token boundary that no token straddles. A regex
   * pre-tokenizer restarts identically at a pre-token boundary (no look-behind); the one thing it reads
   * past a cut is the look-ahead `(?!\S)`, which reads differently only when the chunk ends in
   * whitespace followed by a non-space. Then the chunk must end with one whole pre-token covering that
   * whitespace: alone, `\s+(?!\S)` would otherwise join a run the document split ("x␠␠1"). The
   * count-span test checks this against re-tokenizing on random cuts.
   */
  countSpan(text: string, enc: Encoding, a: number, b: number, inside: number): number {
    const words = enc.wordStart;
    if (this.locality === 'none' || words === undefined) return -1;
    if (!cleanCut(text, enc, words, a) || !cleanCut(text, enc, words, b)) return -1;
    if (this.locality === 'regex' && b < text.length && isWs(text, b - 1) && !isWs(text, b)) {
      let w = b - 1;
      while (w > a && isWs(text, w - 1)) w--;
      let i = lowerBound(enc.start16, b) - 1;
      while (i >= 0 && words[i] !== 1) i--;
      if (i < 0 || (enc.start16[i] ?? b) > w) return -1;
    }
    return inside;
  }

  /** Token count of `text` tokenized alone, straight from the library (no spans). */
  count(text: string): number {
    return this.lib.encode_text(text)?.length ?? 0;
  }

  /** Encodes `text`: ids (no special tokens added) and UTF-16 spans into `text`. */
  encode(text: string): Encoding {
    const out = new TokenSink(text.length >> 2);
    const pieces = this.hasAddedTokens ? this.lib.splitter_unnormalized.split(text) : [text];
    let pos = 0;
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i] ?? '';
      const start = pos;
      pos += piece.length;
      if (piece.length === 0) continue;
      const added = this.lib.added_tokens_map.get(piece);
      if (added !== undefined) {
        out.push(added.id, true, start, start + piece.length);
        continue;
      }
      // transformers.js trims text next to added tokens that have lstrip/rstrip.
      let from = start;
      let to = start + piece.length;
      const prev = i > 0 ? this.lib.added_tokens_map.get(pieces[i - 1] ?? '') : undefined;
      const next = i + 1 < pieces.length ? this.lib.added_tokens_map.get(pieces[i + 1] ?? '') : undefined;
      if (prev?.rstrip === true) from = start + (piece.length - piece.trimStart().length);
      if (next?.lstrip === true) to = start + piece.trimEnd().length;
      if (from < to) this.encodeSection(text, from, to, i, out);
    }
    const n = out.ids.length;
    return {
      ids: Int32Array.from(out.ids),
      start16: out.spans.start.slice(0, n),
      end16: out.spans.end.slice(0, n),
      wordStart: Uint8Array.from(out.words),
    };
  }

  /** Normalizes text[from,to) unit by unit; returns the normalized string and its alignment. */
  private normalize(text: string, from: number, to: number): { n: string; align: SpanBuffer } {
    const align = new SpanBuffer(to - from);
    const norm = this.lib.normalizer;
    if (norm === null) {
      for (let i = from; i < to; i++) align.push(i, i + 1);
      return { n: text.slice(from, to), align };
    }
    const parts: string[] = [];
    const unitRe = this.unitRe;
    unitRe.lastIndex = 0;
    const region = from === 0 && to === text.length ? text : text.slice(from, to);
    let m: RegExpExecArray | null;
    while ((m = unitRe.exec(region)) !== null) {
      const u = m[0];
      const o = from + m.index;
      let un = this.unitCache.get(u);
      if (un === undefined) {
        un = this.normalizeUnit(u, norm);
        if (this.unitCache.size >= UNIT_CACHE_LIMIT) this.unitCache.clear();
        this.unitCache.set(u, un);
      }
      parts.push(un.n);
      const len = un.n.length;
      align.ensure(len);
      if (un.relStart === null || un.relEnd === null) {
        for (let k = 0; k < len; k++) {
          align.start[align.length] = o + k;
          align.end[align.length] = o + k + 1;
          align.length++;
        }
      } else {
        for (let k = 0; k < len; k++) {
          align.start[align.length] = o + (un.relStart[k] ?? 0);
          align.end[align.length] = o + (un.relEnd[k] ?? u.length);
          align.length++;
        }
      }
    }
    return { n: parts.join(''), align };
  }

  private normalizeUnit(u: string, norm: (s: string) => string): UnitNorm {
    const n = norm(u);
    if (n === u || (n.length === u.length && isPrintableAscii(u))) return { n, relStart: null, relEnd: null };
    const relStart = new Int32Array(n.length);
    const relEnd = new Int32Array(n.length);
    // Character by character, then combining sequence by combining sequence; a sequence that only
    // normalizes as a whole (composition, reordering) is mapped position by position, as Hugging
    // Face's alignments do (a composed character points at the first character it came from).
    if (alignPieces(Array.from(u), n, norm, relStart, relEnd, 0, 0) === n.length) return { n, relStart, relEnd };
    let j = 0;
    let k = 0;
    for (const g of u.match(GROUP_RE) ?? [u]) {
      const ng = norm(g);
      if (!n.startsWith(ng, k)) {
        k = -1;
        break;
      }
      if (alignPieces(Array.from(g), ng, norm, relStart, relEnd, j, k) !== k + ng.length) {
        alignPositionally(g, ng, relStart, relEnd, j, k);
      }
      j += g.length;
      k += ng.length;
    }
    // Context-dependent rules (e.g. a final sigma): position by position over the whole unit.
    if (k !== n.length) alignPositionally(u, n, relStart, relEnd, 0, 0);
    return { n, relStart, relEnd };
  }

  private encodeSection(text: string, from: number, to: number, section: number, out: TokenSink): void {
    const { n, align } = this.normalize(text, from, to);
    if (n.length === 0) return;
    const subs = this.hasAddedTokens ? this.lib.splitter_normalized.split(n) : [n];
    let q = 0;
    for (const sub of subs) {
      const subStart = q;
      q += sub.length;
      if (sub.length === 0) continue;
      const added = this.lib.added_tokens_map.get(sub);
      if (added !== undefined) {
        out.push(added.id, true, align.start[subStart] ?? from, align.end[subStart + sub.length - 1] ?? to);
        continue;
      }
      const pretokens =
        this.lib.pre_tokenizer === null ? [sub] : this.lib.pre_tokenizer(sub, { section_index: section });
      if (this.kind === 'wordpiece') this.wordPiece(n, subStart, sub, pretokens, align, out);
      else this.byteLevel(n, subStart, sub, pretokens, align, out);
    }
  }

  private idOf(token: string): number {
    return this.lib.added_tokens_map.get(token)?.id ?? this.lib.model.tokens_to_ids.get(token) ?? this.unkId;
  }

  private wordPiece(
    n: string,
    subStart: number,
    sub: string,
    pretokens: string[],
    align: SpanBuffer,
    out: TokenSink,
  ): void {
    const model = this.lib.model;
    let cursor = 0;
    for (const pt of pretokens) {
      const at = sub.indexOf(pt, cursor);
      if (at < 0) throw alignmentError(pt, n);
      cursor = at + pt.length;
      const q0 = subStart + at;
      const tokens = model([pt]);
      if (tokens.length === 1 && tokens[0] === this.unk && pt !== this.unk) {
        out.push(this.unkId, true, align.start[q0] ?? 0, align.end[q0 + pt.length - 1] ?? 0);
        continue;
      }
      let off = 0;
      for (let k = 0; k < tokens.length; k++) {
        const tok = tokens[k] ?? '';
        const len =
          k > 0 && this.prefix !== '' && tok.startsWith(this.prefix) ? tok.length - this.prefix.length : tok.length;
        const s = q0 + off;
        off += len;
        out.push(this.idOf(tok), k === 0, align.start[s] ?? 0, align.end[Math.min(q0 + off, q0 + pt.length) - 1] ?? 0);
      }
      if (off !== pt.length) throw alignmentError(pt, n);
    }
  }

  private byteLevel(
    n: string,
    subStart: number,
    sub: string,
    pretokens: string[],
    align: SpanBuffer,
    out: TokenSink,
  ): void {
    const model = this.lib.model;
    let c = 0; // UTF-16 cursor in sub
    for (const pt of pretokens) {
      // Each byte-level character of the pre-token is one UTF-8 byte of `sub`.
      const tokens = model([pt]);
      let ci = c; // char cursor for token mapping
      let ciBytes = 0; // bytes consumed before char ci (relative to the pre-token)
      let tb = 0; // bytes consumed by tokens
      for (const tok of tokens) {
        const b0 = tb;
        tb += tok.length;
        // advance to the char containing byte b0
        let [bl, ul] = utf8At(sub, ci);
        while (ciBytes + bl <= b0) {
          ciBytes += bl;
          ci += ul;
          [bl, ul] = utf8At(sub, ci);
        }
        const s16 = ci;
        // find the char containing byte tb-1
        let ej = ci;
        let ejBytes = ciBytes;
        let [eb, eu] = [bl, ul];
        while (ejBytes + eb < tb) {
          ejBytes += eb;
          ej += eu;
          [eb, eu] = utf8At(sub, ej);
        }
        const e16 = ej + eu;
        out.push(this.idOf(tok), b0 === 0, align.start[subStart + s16] ?? 0, align.end[subStart + e16 - 1] ?? 0);
      }
      // advance c over the pre-token's bytes
      let bytes = 0;
      while (bytes < pt.length) {
        if (c >= sub.length) throw alignmentError(pt, n);
        const [b, u] = utf8At(sub, c);
        bytes += b;
        c += u;
      }
      if (bytes !== pt.length || tb !== pt.length) throw alignmentError(pt, n);
    }
  }
}

function lowerBound(a: Int32Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((a[mid] ?? 0) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A document edge, or a pre-token boundary next to whitespace that no token straddles. */
function cleanCut(text: string, enc: Encoding, words: Uint8Array, p: number): boolean {
  if (p <= 0 || p >= text.length) return true;
  if (!isWs(text, p - 1) && !isWs(text, p)) return false;
  const i = lowerBound(enc.start16, p);
  if (i > 0 && (enc.end16[i - 1] ?? 0) > p) return false;
  return i >= words.length || words[i] === 1;
}

function findByteLevel(config: unknown): { add_prefix_space?: boolean } | undefined {
  if (config === null || typeof config !== 'object') return undefined;
  const c = config as { type?: string; pretokenizers?: unknown[]; add_prefix_space?: boolean };
  if (c.type === 'ByteLevel') return c;
  if (Array.isArray(c.pretokenizers)) {
    for (const p of c.pretokenizers) {
      const f = findByteLevel(p);
      if (f) return f;
    }
  }
  return undefined;
}

/**
 * Maps normalized code units to the piece they came from, piece by piece, writing at `k0` for pieces
 * starting at `j0`. Returns the normalized length covered, or -1 when per-piece normalization does not
 * reproduce `n`.
 */
function alignPieces(
  pieces: string[],
  n: string,
  norm: (s: string) => string,
  relStart: Int32Array,
  relEnd: Int32Array,
  j0: number,
  k0: number,
): number {
  let j = j0;
  let k = k0;
  const limit = k0 + n.length;
  for (const p of pieces) {
    const np = norm(p);
    if (k - k0 + np.length > n.length || !n.startsWith(np, k - k0)) return -1;
    for (let x = 0; x < np.length; x++) {
      relStart[k + x] = j;
      relEnd[k + x] = j + p.length;
    }
    k += np.length;
    j += p.length;
  }
  return k === limit ? k : -1;
}

/**
 * Maps each normalized code point of `n` to the code point of `u` it came from, the way Hugging Face's
 * alignments do for composition and reordering: a code point that is still there maps to itself; a new
 * one (a composed character, a changed case) maps to the next unused original code point and consumes
 * as many originals as its canonical decomposition has code points.
 */
function alignPositionally(
  u: string,
  n: string,
  relStart: Int32Array,
  relEnd: Int32Array,
  j0: number,
  k0: number,
): void {
  const cps = Array.from(u);
  const starts: number[] = [];
  let j = j0;
  for (const c of cps) {
    starts.push(j);
    j += c.length;
  }
  let p = 0;
  for (let x = 0; x < n.length;) {
    const cp = n.codePointAt(x) ?? 0;
    const ch = String.fromCodePoint(cp);
    const src = Math.min(p, cps.length - 1);
    for (let w = 0; w < ch.length; w++) {
      relStart[k0 + x + w] = starts[src] ?? j0;
      relEnd[k0 + x + w] = (starts[src] ?? j0) + (cps[src]?.length ?? 0);
    }
    if (cps[p] === ch) p++;
    else p += Math.max(1, Array.from(ch.normalize('NFD')).length);
    x += ch.length;
  }
}

function alignmentError(pretoken: string, normalized: string): TokenizerLoadError {
  return new TokenizerLoadError(
    'ALIGNMENT',
    `could not align pre-token ${JSON.stringify(pretoken.slice(0, 40))} in normalized text ` +
      `${JSON.stringify(normalized.slice(0, 80))}…; please report this text`,
  );
}
