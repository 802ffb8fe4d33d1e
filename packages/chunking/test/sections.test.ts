/**
 * The `sections` hierarchy: parents tile the document, children lie inside their parent, ids are
 * deterministic, and G1–G7 hold for children, on generated text and on real documents (the CommonMark
 * spec excerpt, licenses with numbered sections, reStructuredText documentation).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createChunker, verifyChunks, verifySections } from '@chunkline/chunking';
import { hardText } from './arbitraries.js';
import { TOKENIZER_NAMES, tokenizer } from './tokenizers.js';

const CORPUS = join(import.meta.dirname, '..', '..', '..', 'test', 'fixtures', 'corpus');
const read = (p: string): string => readFileSync(join(CORPUS, p), 'utf8');

const CLAUSES = [
  'TERMS AND CONDITIONS\n\n',
  '1. Definitions.\n\n',
  '1.1 "License" means this document.\n\n',
  'Section 4. Redistribution.\n\n',
  'Article IV\n\n',
  '2.3.1 A deep clause with text.\n\n',
  'Title\n=====\n\n',
  'Sub title\n---------\n\n',
  '# Heading\n\n',
  '## Sub\n\n',
];

describe.each(TOKENIZER_NAMES)('sections hierarchy with %s', (name) => {
  it.each(['semantic', 'window'] as const)(
    '%s children: tiling, containment, G1-G7 on generated text',
    async (strategy) => {
      const tok = await tokenizer(name);
      fc.assert(
        fc.property(
          fc.array(fc.oneof(fc.constantFrom(...CLAUSES), hardText(8)), { maxLength: 30 }).map((p) => p.join('')),
          fc.integer({ min: 16, max: 200 }),
          fc.constantFrom('text/plain', 'text/markdown'),
          (text, maxTokens, contentType) => {
            const options = {
              strategy,
              maxTokens,
              reservedTokens: 2,
              overlapTokens: 0,
              hierarchy: 'sections' as const,
              parentMaxTokens: maxTokens * 3,
            };
            const doc = { docId: 'h', text, contentType };
            const r = createChunker(tok, options).chunk(doc);
            expect(verifySections(tok, doc, r, options)).toEqual([]);
            expect(verifyChunks(tok, doc, r, options)).toEqual([]);
            expect(JSON.stringify(createChunker(tok, options).chunk(doc))).toBe(JSON.stringify(r));
          },
        ),
        { numRuns: Number(process.env.CHUNKLINE_PROPERTY_RUNS ?? 40), seed: 11 },
      );
    },
  );
});

describe('sections on real documents', () => {
  it.each([
    ['legal/Apache-2.0.txt', 'text/plain'],
    ['legal/GPL-3.0-only.txt', 'text/plain'],
    ['markdown/commonmark-spec-excerpt.md', 'text/markdown'],
    ['rst/python/tutorial/introduction.rst', 'text/plain'],
  ])('%s', async (file, contentType) => {
    const tok = await tokenizer('bert-base-uncased');
    const options = {
      maxTokens: 256,
      reservedTokens: 2,
      overlapTokens: 0,
      hierarchy: 'sections' as const,
      parentMaxTokens: 1024,
    };
    const doc = { docId: file, text: read(file), contentType };
    const r = createChunker(tok, options).chunk(doc);
    expect(verifySections(tok, doc, r, options)).toEqual([]);
    expect(verifyChunks(tok, doc, r, options)).toEqual([]);
    expect(r.sections.length).toBeGreaterThan(5);
    expect(r.sections.some((s) => s.parent_id !== null)).toBe(true); // nesting found
    for (const c of r.chunks) expect(c.parent_id).not.toBeNull();
  });

  it('finds the numbered clauses of the Apache License', async () => {
    const tok = await tokenizer('bert-base-uncased');
    const r = createChunker(tok, { maxTokens: 256, hierarchy: 'sections' }).chunk({
      docId: 'a',
      text: read('legal/Apache-2.0.txt'),
    });
    const titles = r.sections.map((s) => s.heading_path.at(-1) ?? '');
    expect(titles.some((t) => t.startsWith('1. Definitions'))).toBe(true);
    expect(titles.some((t) => t.startsWith('9. Accepting Warranty'))).toBe(true);
  });

  it('splits a section over the parent cap into consecutive parts', async () => {
    const tok = await tokenizer('bert-base-uncased');
    const text = `1. Long clause\n\n${'This clause goes on and on. '.repeat(300)}\n\n2. Short clause\n\nEnd.\n`;
    const options = { maxTokens: 64, hierarchy: 'sections' as const, parentMaxTokens: 256 };
    const r = createChunker(tok, options).chunk({ docId: 'p', text });
    const long = r.sections.filter((s) => s.heading_path[0] === '1. Long clause');
    expect(long.length).toBeGreaterThan(3);
    expect(long.map((s) => s.part)).toEqual(long.map((_, i) => i + 1));
    expect(verifySections(tok, { docId: 'p', text }, r, { ...options, reservedTokens: 2 })).toEqual([]);
  });
});
