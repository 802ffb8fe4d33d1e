// Peer chunkers, driven with the same tokenizer as chunkline so that sizes mean the same thing.
//
// `tok` is anything with `count(text): number` and `encodeBaseline(text): number[]` (the
// @chunkline/tokenizers HfTokenizer, or a stand-in in a test). `decode(ids): string` is only needed by
// Chonkie's last level, which cuts token ids and decodes them back to text.
import { RecursiveChunker } from '@chonkiejs/core';
import { RecursiveCharacterTextSplitter } from '@langchain/textsplitters';

/** Finds `chunk` in `text`, first from `from` on (chunks come in order), then anywhere. */
function locate(text, chunk, from) {
  const at = text.indexOf(chunk, from);
  return at !== -1 ? at : text.indexOf(chunk);
}

/**
 * Runs `chunkDoc(doc) => Promise<Array<{ text, start16? }>>` over every document, timing only the
 * chunker, then counts chunks that are not exact substrings and chunks over the cap (own token count
 * plus `reservedTokens` > `maxTokens`, recounted with `tok.count`).
 */
async function runPeer(docs, tok, { maxTokens, reservedTokens }, chunkDoc, extraCheck) {
  let ms = 0;
  let bytes = 0;
  let chunks = 0;
  let notSubstring = 0;
  let overCap = 0;
  let extra = 0;
  for (const doc of docs) {
    const t0 = performance.now();
    const out = await chunkDoc(doc);
    ms += performance.now() - t0;
    bytes += doc.bytes;
    chunks += out.length;
    let from = 0;
    for (const c of out) {
      const at = locate(doc.text, c.text, from);
      if (at === -1) notSubstring += 1;
      else from = at + 1;
      if (tok.count(c.text) + reservedTokens > maxTokens) overCap += 1;
      if (extraCheck && extraCheck(doc, c)) extra += 1;
    }
  }
  return { seconds: ms / 1000, bytes, chunks, notSubstring, overCap, extra };
}

/**
 * LangChain's RecursiveCharacterTextSplitter, sized by our tokenizer: chunkSize = maxTokens -
 * reservedTokens, overlap 0, `lengthFunction: (t) => tok.count(t)`. Its chunks are strings (no offsets).
 * It prints "Created a chunk of size ..." with console.warn when a chunk goes over; those are counted.
 */
export async function makeLangchain(tok, { maxTokens, reservedTokens }, count = (t) => tok.count(t)) {
  const splitter = new RecursiveCharacterTextSplitter({
    chunkSize: maxTokens - reservedTokens,
    chunkOverlap: 0,
    lengthFunction: count,
  });
  return {
    label: 'langchain RecursiveCharacterTextSplitter',
    chunkDoc: async (doc) => (await splitter.splitText(doc.text)).map((text) => ({ text })),
  };
}

/**
 * A Chonkie tokenizer backed by ours. Chonkie's RecursiveChunker accepts any object with countTokens,
 * encode and decodeBatch (its `Tokenizer` type); it calls countTokens for sizes and, at its last level,
 * cuts `encode(text)` every chunkSize ids and decodes them (so those chunks are decoded text, not
 * substrings).
 */
export function chonkieTokenizer(tok, decode, count = (t) => tok.count(t)) {
  return {
    countTokens: count,
    encode: (t) => Array.from(tok.encodeBaseline(t)),
    decode: (ids) => decode(ids),
    decodeBatch: (batch) => batch.map((ids) => decode(ids)),
  };
}

/** Chonkie's RecursiveChunker (default rules) with chunkSize = maxTokens - reservedTokens. */
export async function makeChonkie(tok, decode, { maxTokens, reservedTokens }, count = (t) => tok.count(t)) {
  const chunker = await RecursiveChunker.create({
    chunkSize: maxTokens - reservedTokens,
    tokenizer: chonkieTokenizer(tok, decode, count),
  });
  return {
    label: 'chonkie RecursiveChunker',
    // Chonkie's startIndex/endIndex are UTF-16 indexes into the text it was given.
    chunkDoc: async (doc) =>
      (await chunker.chunk(doc.text)).map((c) => ({ text: c.text, start16: c.startIndex, end16: c.endIndex })),
    offsetMismatch: (doc, c) => doc.text.slice(c.start16, c.end16) !== c.text,
  };
}

/**
 * Measures one peer. Returns a row object (without tokenizer) for the table. console.warn is muted
 * while the peer runs (LangChain warns once per oversized chunk) and the warnings are counted.
 */
export async function measurePeer(peer, docs, tok, opts, warmDoc) {
  const realWarn = console.warn;
  let warnings = 0;
  console.warn = () => {
    warnings += 1;
  };
  try {
    await peer.chunkDoc(warmDoc);
    warnings = 0;
    const r = await runPeer(docs, tok, opts, peer.chunkDoc, peer.offsetMismatch);
    const notes = [`${r.notSubstring} not exact substrings`, `${r.overCap} over cap`];
    if (peer.offsetMismatch) notes.push(`${r.extra} with text != text.slice(startIndex, endIndex)`);
    if (warnings) notes.push(`${warnings} console.warn`);
    return {
      what: peer.label,
      mb: r.bytes / 1e6,
      seconds: r.seconds,
      chunks: r.chunks,
      notSubstring: r.notSubstring,
      overCap: r.overCap,
      offsetMismatch: peer.offsetMismatch ? r.extra : undefined,
      warnings,
      notes: notes.join(', '),
    };
  } finally {
    console.warn = realWarn;
  }
}
