// Checks run on every chunk outside the timed region: they make a fast but wrong chunker visible.

/**
 * Walks a string forward, converting code point indexes (what `char_*` count) to UTF-16 indexes and
 * UTF-8 byte indexes. Moving backwards restarts from the beginning, so ordered chunks cost O(n) in all.
 */
export class TextCursor {
  constructor(text) {
    this.text = text;
    this.cp = 0;
    this.u16 = 0;
    this.byte = 0;
  }

  /** Moves to code point `cp`; returns false when `cp` is past the end of the text. */
  seek(cp) {
    if (cp < this.cp) {
      this.cp = 0;
      this.u16 = 0;
      this.byte = 0;
    }
    const t = this.text;
    while (this.cp < cp) {
      if (this.u16 >= t.length) return false;
      const c = t.charCodeAt(this.u16);
      if (c < 0x80) {
        this.u16 += 1;
        this.byte += 1;
      } else if (c < 0x800) {
        this.u16 += 1;
        this.byte += 2;
      } else if (c >= 0xd800 && c <= 0xdbff && this.u16 + 1 < t.length) {
        const d = t.charCodeAt(this.u16 + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          this.u16 += 2;
          this.byte += 4;
        } else {
          this.u16 += 1;
          this.byte += 3; // a lone surrogate; TextEncoder writes U+FFFD (3 bytes)
        }
      } else {
        this.u16 += 1;
        this.byte += 3;
      }
      this.cp += 1;
    }
    return true;
  }
}

/**
 * Checks one document's chunkline chunks (overlap 0): exact text at `char_*` and `byte_*`, chunks in
 * order and not overlapping, only whitespace between them (coverage), the hard cap on `num_tokens`,
 * and, when `recount` is given, that `num_tokens` equals the chunk's own token count.
 * Adds to the counters in `acc`; keeps the first few messages as examples.
 */
export function checkChunkline(doc, result, { maxTokens, reservedTokens, recount }, acc) {
  const cur = new TextCursor(doc.text);
  let prevEnd16 = 0;
  let prevEndCp = 0;
  const note = (kind, msg) => {
    acc[kind] = (acc[kind] ?? 0) + 1;
    if (acc.examples.length < 5) acc.examples.push(`${doc.docId}: ${msg}`);
  };
  for (const c of result.chunks) {
    if (c.char_start < prevEndCp) note('order', `chunk ${c.chunk_index} starts at ${c.char_start} < ${prevEndCp}`);
    if (!cur.seek(c.char_start)) {
      note('text', `chunk ${c.chunk_index} char_start ${c.char_start} is past the end`);
      continue;
    }
    const s16 = cur.u16;
    const sByte = cur.byte;
    if (/\S/.test(doc.text.slice(prevEnd16, s16)))
      note('coverage', `text before chunk ${c.chunk_index} is not covered`);
    if (!cur.seek(c.char_end)) {
      note('text', `chunk ${c.chunk_index} char_end ${c.char_end} is past the end`);
      continue;
    }
    if (doc.text.slice(s16, cur.u16) !== c.text)
      note('text', `chunk ${c.chunk_index} text != document[char_start, char_end)`);
    if (c.byte_start !== sByte || c.byte_end !== cur.byte)
      note('bytes', `chunk ${c.chunk_index} byte offsets are wrong`);
    if (c.num_tokens + reservedTokens > maxTokens) acc.overCap += 1;
    if (recount) {
      const n = recount(c.text);
      if (n !== c.num_tokens) note('numTokens', `chunk ${c.chunk_index} num_tokens ${c.num_tokens} but it has ${n}`);
      if (n + reservedTokens > maxTokens) acc.overCapRecounted += 1;
    }
    prevEnd16 = cur.u16;
    prevEndCp = c.char_end;
  }
  if (/\S/.test(doc.text.slice(prevEnd16))) note('coverage', 'text after the last chunk is not covered');
}

export function newCheckAcc() {
  return { overCap: 0, overCapRecounted: 0, examples: [] };
}

/** One line for the table's notes column. */
export function describeCheckAcc(acc, recounted) {
  const parts = [];
  for (const k of ['text', 'bytes', 'order', 'coverage', 'numTokens']) {
    if (acc[k]) parts.push(`${acc[k]} ${k} errors`);
  }
  parts.push(`${acc.overCap} over cap${recounted ? ` (recounted: ${acc.overCapRecounted})` : ''}`);
  if (parts.length === 1) parts.unshift(recounted ? 'checks ok (text, bytes, coverage, num_tokens)' : 'checks ok');
  return parts.join(', ');
}

/** FNV-1a over token ids, to compare two tokenizations without keeping the ids. */
export function hashIds(ids) {
  let h = 0x811c9dc5;
  for (let i = 0; i < ids.length; i++) {
    h ^= ids[i];
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
