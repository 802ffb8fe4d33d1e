/**
 * G1–G7 as properties over generated Unicode text, for both strategies and both shipped tokenizers,
 * caps from 8 to 1024 and overlaps from 0 to half the cap.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createChunker, verifyChunks, type StrategyName } from '@chunkline/chunking';
import { hardText } from './arbitraries.js';
import { TOKENIZER_NAMES, tokenizer } from './tokenizers.js';

const STRATEGIES: StrategyName[] = ['semantic', 'window'];
const RUNS = Number(process.env.CHUNKLINE_PROPERTY_RUNS ?? 40);

const limits = fc
  .record({ maxTokens: fc.integer({ min: 8, max: 1024 }), reservedTokens: fc.integer({ min: 0, max: 2 }) })
  .chain((l) =>
    fc.record({
      maxTokens: fc.constant(l.maxTokens),
      reservedTokens: fc.constant(l.reservedTokens),
      overlapTokens: fc.integer({
        min: 0,
        max: Math.min(Math.floor(l.maxTokens / 2), l.maxTokens - l.reservedTokens - 1),
      }),
    }),
  );
// Small caps matter most: bias half the runs to caps under 40.
const smallLimits = fc.integer({ min: 8, max: 40 }).chain((maxTokens) =>
  fc.record({
    maxTokens: fc.constant(maxTokens),
    reservedTokens: fc.constant(2),
    overlapTokens: fc.integer({ min: 0, max: Math.floor(maxTokens / 2) }),
  }),
);

describe.each(TOKENIZER_NAMES)('guarantees with %s', (name) => {
  it.each(STRATEGIES)('%s strategy holds G1-G7 on generated text', async (strategy) => {
    const tok = await tokenizer(name);
    fc.assert(
      fc.property(
        hardText(),
        fc.oneof(limits, smallLimits),
        fc.constantFrom('text/plain', 'text/markdown'),
        (text, lim, contentType) => {
          const chunker = createChunker(tok, { strategy, ...lim });
          const doc = { docId: 'd', text, contentType };
          const result = chunker.chunk(doc);
          expect(verifyChunks(tok, doc, result, lim)).toEqual([]);
          // G7: the same input and options give identical records.
          expect(JSON.stringify(createChunker(tok, { strategy, ...lim }).chunk(doc))).toBe(JSON.stringify(result));
          // Without overlap, semantic chunks tile the document exactly (no trimming).
          if (strategy === 'semantic' && lim.overlapTokens === 0 && /\S/.test(text)) {
            expect(result.chunks.map((c) => c.text).join('')).toBe(text);
          }
        },
      ),
      { numRuns: RUNS, seed: Number(process.env.CHUNKLINE_PROPERTY_SEED ?? 20261128) },
    );
  });

  it('empty and whitespace-only documents give zero chunks and a manifest', async () => {
    const tok = await tokenizer(name);
    for (const text of ['', ' ', '\n\n\t ', '\r\n']) {
      const r = createChunker(tok).chunk({ docId: 'e', text });
      expect(r.chunks).toEqual([]);
      expect(r.manifest.chunk_count).toBe(0);
      expect(r.manifest.doc_id).toBe('e');
    }
  });
});
