import { describe, expect, it } from 'vitest';
import { createChunker, verifyChunks } from '@chunkline/chunking';
import { FIELDS } from '@chunkline/records';
import { tokenizer } from './tokenizers.js';

describe('records', () => {
  it('have deterministic ids that change with the document, its version and the config', async () => {
    const tok = await tokenizer('bert-base-uncased');
    const text = 'One sentence. Another sentence here. '.repeat(30);
    const a = createChunker(tok, { maxTokens: 32 }).chunk({ docId: 'x', text });
    const b = createChunker(tok, { maxTokens: 32 }).chunk({ docId: 'x', text });
    expect(a.chunks.map((c) => c.chunk_id)).toEqual(b.chunks.map((c) => c.chunk_id));
    expect(new Set(a.chunks.map((c) => c.chunk_id)).size).toBe(a.chunks.length);
    const otherConfig = createChunker(tok, { maxTokens: 33 }).chunk({ docId: 'x', text });
    expect(otherConfig.chunks[0]?.chunk_id).not.toBe(a.chunks[0]?.chunk_id);
    expect(otherConfig.manifest.chunker_fingerprint).not.toBe(a.manifest.chunker_fingerprint);
    const otherVersion = createChunker(tok, { maxTokens: 32 }).chunk({ docId: 'x', text, version: 'v2' });
    expect(otherVersion.chunks[0]?.doc_version).toBe('v2');
    expect(otherVersion.chunks[0]?.chunk_id).not.toBe(a.chunks[0]?.chunk_id);
    expect(a.chunks[0]?.doc_version).toMatch(/^sha256:[0-9a-f]{32}$/);
  });

  it('carry the document fields and a manifest listing every chunk', async () => {
    const tok = await tokenizer('qwen3');
    const r = createChunker(tok, { maxTokens: 16, strategy: 'window', overlapTokens: 4 }).chunk({
      docId: 'd1',
      text: 'Exact offsets matter: ünïcödé 😀 text. '.repeat(10),
      source: 's3://bucket/d1.txt',
      metadata: { lang: 'en' },
    });
    const c = r.chunks[1];
    expect(c).toMatchObject({ doc_id: 'd1', chunk_index: 1, chunk_count: r.chunks.length, strategy: 'window' });
    expect(c).toMatchObject({ tokenizer: 'qwen3', source: 's3://bucket/d1.txt', content_type: 'text/plain' });
    expect(c?.metadata).toEqual({ lang: 'en' });
    expect(c?.overlap_tokens).toBeGreaterThan(0);
    expect(c?.overlap_tokens).toBeLessThanOrEqual(4);
    expect(r.manifest).toMatchObject({ doc_id: 'd1', chunk_count: r.chunks.length, deleted: false });
    expect(r.manifest.chunk_ids).toEqual(r.chunks.map((x) => x.chunk_id));
    expect(r.manifest.total_tokens).toBe(tok.encode('Exact offsets matter: ünïcödé 😀 text. '.repeat(10)).ids.length);
    expect(Object.keys(c ?? {})).toEqual(FIELDS.chunk); // the Avro schema's field order
  });

  it('never lets a chunk over the cap, unlike a packer that passes oversized paragraphs through', async () => {
    const tok = await tokenizer('bert-base-uncased');
    const para = 'word '.repeat(2000); // one paragraph of 2,000 tokens, no sentence ends
    const r = createChunker(tok, { maxTokens: 128 }).chunk({ docId: 'big', text: `short\n\n${para}\n\nshort` });
    for (const c of r.chunks) expect(c.num_tokens + 2).toBeLessThanOrEqual(128);
    expect(r.chunks.length).toBeGreaterThanOrEqual(16);
  });

  it('keeps the original case: text is sliced from the document, never decoded from uncased ids', async () => {
    const tok = await tokenizer('bert-base-uncased');
    const text = 'The QUICK Brown Fox — “quoted” café';
    const r = createChunker(tok, { maxTokens: 8, strategy: 'window' }).chunk({ docId: 'c', text });
    expect(r.chunks.map((c) => c.text).join('')).toBe(text);
  });

  it('counts a single grapheme over the cap and gives it its own chunk', async () => {
    const tok = await tokenizer('qwen3');
    const family = '👨‍👩‍👧‍👦'; // one grapheme, many byte-level tokens
    const r = createChunker(tok, { maxTokens: 6, reservedTokens: 0, strategy: 'window' }).chunk({
      docId: 'g',
      text: `a ${family} b`,
    });
    expect(r.overCapGraphemes).toBe(1);
    expect(r.chunks.some((c) => c.text === family || c.text.trim() === family)).toBe(true);
  });
});

describe('wholeIfFitsTokens', () => {
  it('keeps a document that fits the model window whole, and chunks a longer one', async () => {
    const tok = await tokenizer('bert-base-uncased');
    const text = 'A sentence about context windows. '.repeat(40); // about 240 tokens
    const options = { maxTokens: 64, wholeIfFitsTokens: 4096 };
    const whole = createChunker(tok, options).chunk({ docId: 'w', text });
    expect(whole.chunks).toHaveLength(1);
    expect(whole.chunks[0]).toMatchObject({ strategy: 'whole', text, char_start: 0 });
    expect(verifyChunks(tok, { docId: 'w', text }, whole, { ...options, reservedTokens: 2, overlapTokens: 0 })).toEqual(
      [],
    );
    const small = createChunker(tok, { maxTokens: 64, wholeIfFitsTokens: 128 }).chunk({ docId: 'w', text });
    expect(small.chunks.length).toBeGreaterThan(3);
    for (const c of small.chunks) expect(c.num_tokens + 2).toBeLessThanOrEqual(64);
    expect(createChunker(tok, options).fingerprint).not.toBe(createChunker(tok, { maxTokens: 64 }).fingerprint);
  });
});
