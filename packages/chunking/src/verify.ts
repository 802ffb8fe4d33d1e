/**
 * Checks a chunked document against guarantees G1–G6 of DESIGN.md, independently of how the chunks
 * were made: it re-tokenizes every chunk alone and the document once. Used by the property tests, by
 * `chunkline chunk --verify` and by the benchmark. G7 (determinism) needs two runs; see the tests.
 */
import { isGraphemeBoundary } from './text.js';
import type { ChunkedDocument, DocumentInput, Tokenizer } from './types.js';

/** Limits the chunks were made with. */
export interface VerifyLimits {
  readonly maxTokens: number;
  readonly reservedTokens: number;
  readonly overlapTokens: number;
  /** With `wholeIfFitsTokens`, a single `whole` chunk is capped by that window instead. */
  readonly wholeIfFitsTokens?: number | null;
}

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

function isSingleGrapheme(s: string): boolean {
  if (s.length > 256) return false;
  const it = graphemes.segment(s)[Symbol.iterator]();
  return !it.next().done && it.next().done === true;
}

/** Returns the violations found, empty when the guarantees hold. */
export function verifyChunks(
  tokenizer: Tokenizer,
  doc: DocumentInput,
  result: ChunkedDocument,
  limits: VerifyLimits,
): string[] {
  const out: string[] = [];
  const text = doc.text;
  const cps = Array.from(text);
  // UTF-16 index of each code point index, and UTF-8 byte index.
  const at16 = new Int32Array(cps.length + 1);
  const at8 = new Int32Array(cps.length + 1);
  for (let i = 0; i < cps.length; i++) {
    const cp = cps[i] ?? '';
    at16[i + 1] = (at16[i] ?? 0) + cp.length;
    at8[i + 1] = (at8[i] ?? 0) + Buffer.byteLength(cp, 'utf8');
  }
  const bytes = Buffer.from(text, 'utf8');
  const enc = tokenizer.encode(text);
  const budget = limits.maxTokens - limits.reservedTokens;
  const covered = new Uint8Array(text.length);
  const chunks = result.chunks;
  chunks.forEach((c, k) => {
    const where = `chunk ${k} [${c.char_start}, ${c.char_end})`;
    // G1: exact text, in code points and in bytes.
    if (cps.slice(c.char_start, c.char_end).join('') !== c.text)
      out.push(`${where}: G1 text is not the document's code points`);
    if (!bytes.subarray(c.byte_start, c.byte_end).equals(Buffer.from(c.text, 'utf8')))
      out.push(`${where}: G1 bytes differ`);
    if (at8[c.char_start] !== c.byte_start || at8[c.char_end] !== c.byte_end)
      out.push(`${where}: G1 byte offsets disagree with code points`);
    const s16 = at16[c.char_start] ?? 0;
    const e16 = at16[c.char_end] ?? 0;
    for (let i = s16; i < e16; i++) covered[i] = 1;
    // G2: hard cap, measured alone.
    const alone = tokenizer.count(c.text);
    if (alone !== c.num_tokens) out.push(`${where}: G2 num_tokens ${c.num_tokens} but the text alone has ${alone}`);
    const cap =
      c.strategy === 'whole' && chunks.length === 1 && limits.wholeIfFitsTokens
        ? Math.max(limits.wholeIfFitsTokens, limits.maxTokens)
        : limits.maxTokens;
    if (alone + limits.reservedTokens > cap && !isSingleGrapheme(c.text)) {
      out.push(`${where}: G2 ${alone} tokens + ${limits.reservedTokens} reserved > ${cap}`);
    }
    // G4: token span = the document tokens inside the chunk.
    let t0 = 0;
    while (t0 < enc.ids.length && (enc.start16[t0] ?? 0) < s16) t0++;
    let t1 = t0;
    while (t1 < enc.ids.length && (enc.end16[t1] ?? 0) <= e16 && (enc.start16[t1] ?? 0) < e16) t1++;
    if (c.token_start !== t0 || c.token_end !== t1)
      out.push(`${where}: G4 tokens [${c.token_start}, ${c.token_end}) but inside are [${t0}, ${t1})`);
    // G5: overlap.
    if (c.overlap_tokens > limits.overlapTokens)
      out.push(`${where}: G5 overlap ${c.overlap_tokens} > ${limits.overlapTokens}`);
    if (c.overlap_tokens > budget) out.push(`${where}: G5 overlap over the budget`);
    // G6: cuts on grapheme boundaries.
    if (!isGraphemeBoundary(text, s16) || !isGraphemeBoundary(text, e16))
      out.push(`${where}: G6 cut inside a grapheme`);
    if (k > 0) {
      const p = chunks[k - 1];
      if (p !== undefined) {
        // G3: order; without overlap, no overlap.
        if (c.char_start <= p.char_start) out.push(`${where}: G3 not ordered by char_start`);
        if (c.overlap_tokens === 0 && c.char_start < p.char_end)
          out.push(`${where}: G3 overlaps the previous chunk without overlap tokens`);
        // A gap is allowed only for tokens cut by the hard-cap fallback (they straddle the cut).
        const gapStraddles = (): boolean => {
          if (c.token_start < p.token_end - c.overlap_tokens) return false;
          for (let t = p.token_end; t < c.token_start; t++) {
            if (!((enc.start16[t] ?? 0) < s16 && (enc.end16[t] ?? 0) > s16)) return false;
          }
          return c.overlap_tokens === 0;
        };
        if (c.token_start !== p.token_end - c.overlap_tokens && !gapStraddles()) {
          out.push(
            `${where}: G4 token_start ${c.token_start} != previous token_end ${p.token_end} - overlap ${c.overlap_tokens}`,
          );
        }
      }
    }
  });
  // G3: every non-whitespace character is in some chunk.
  for (let i = 0; i < text.length; i++) {
    if (covered[i] === 0 && !/\s/.test(text[i] ?? '')) {
      out.push(`G3 character ${JSON.stringify(text[i])} at UTF-16 index ${i} is in no chunk`);
      break;
    }
  }
  // G4: concatenating token spans minus overlaps gives the whole sequence.
  if (chunks.length > 0) {
    const first = chunks[0];
    const last = chunks[chunks.length - 1];
    if (first?.token_start !== 0 || last?.token_end !== enc.ids.length) {
      out.push(`G4 chunks cover tokens [${first?.token_start}, ${last?.token_end}) of ${enc.ids.length}`);
    }
  }
  if (result.manifest.chunk_count !== chunks.length) out.push('manifest chunk_count differs from the chunks');
  return out;
}

/**
 * Checks the `sections` hierarchy: sections are exact substrings (G1) whose num_tokens are their
 * tokens alone within the parent cap (G2, the single-grapheme exception aside); they tile the document
 * (every non-whitespace character in exactly one section, in order); every chunk lies inside the
 * section its parent_id names; parent_ids point at earlier sections of a lower level.
 */
export function verifySections(
  tokenizer: Tokenizer,
  doc: DocumentInput,
  result: ChunkedDocument,
  limits: { readonly parentMaxTokens: number; readonly reservedTokens: number },
): string[] {
  const out: string[] = [];
  const cps = Array.from(doc.text);
  const owner = new Int32Array(cps.length).fill(-1);
  const byId = new Map(result.sections.map((s) => [s.section_id, s]));
  let prevEnd = 0;
  result.sections.forEach((s, i) => {
    const where = `section ${i} [${s.char_start}, ${s.char_end})`;
    if (cps.slice(s.char_start, s.char_end).join('') !== s.text)
      out.push(`${where}: text is not the document's code points`);
    if (s.char_start !== prevEnd) out.push(`${where}: does not start where section ${i - 1} ended (${prevEnd})`);
    prevEnd = s.char_end;
    for (let c = s.char_start; c < s.char_end; c++) owner[c] = i;
    const alone = tokenizer.count(s.text);
    if (alone !== s.num_tokens) out.push(`${where}: num_tokens ${s.num_tokens} but alone ${alone}`);
    if (alone + limits.reservedTokens > limits.parentMaxTokens && !isSingleGrapheme(s.text)) {
      out.push(`${where}: ${alone} tokens over the parent cap ${limits.parentMaxTokens}`);
    }
    if (s.parent_id !== null) {
      const p = byId.get(s.parent_id);
      if (p === undefined || p.section_index >= s.section_index || p.level >= s.level) {
        out.push(`${where}: parent_id does not name an earlier section of a lower level`);
      }
    }
  });
  if (result.sections.length > 0 && prevEnd !== cps.length)
    out.push(`sections end at ${prevEnd}, not at ${cps.length}`);
  cps.forEach((ch, i) => {
    if (owner[i] === -1 && !/\s/.test(ch) && result.sections.length > 0) out.push(`character ${i} is in no section`);
  });
  for (const c of result.chunks) {
    const s = c.parent_id === null ? undefined : byId.get(c.parent_id);
    if (s === undefined) {
      if (result.sections.length > 0) out.push(`chunk ${c.chunk_index}: parent_id names no section`);
    } else if (c.char_start < s.char_start || c.char_end > s.char_end) {
      out.push(
        `chunk ${c.chunk_index} [${c.char_start}, ${c.char_end}) is not inside its section [${s.char_start}, ${s.char_end})`,
      );
    }
  }
  const ids = result.sections.map((s) => s.section_id);
  if (JSON.stringify(result.manifest.section_ids) !== JSON.stringify(ids))
    out.push('manifest section_ids differ from the sections');
  return out.slice(0, 50);
}
