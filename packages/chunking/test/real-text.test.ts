/**
 * G1–G7 on real and adversarial text: every file of the fixture corpus (test/fixtures/corpus, sources
 * and licenses in its SOURCES.md), both shipped tokenizers, both strategies, caps 128 and 512, overlap
 * 0 and 32.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CORPUS_DIR, fixtureDocuments, readText } from '../../../test/fixtures/fixtures.js';
import { createChunker, verifyChunks, type StrategyName } from '@chunkline/chunking';
import { TOKENIZER_NAMES, tokenizer } from './tokenizers.js';

const FILES = fixtureDocuments().map((docId) => ({
  docId,
  text: readText(join(CORPUS_DIR, docId)),
  contentType: docId.endsWith('.md') ? 'text/markdown' : 'text/plain',
}));

const CONFIGS = (['semantic', 'window'] as StrategyName[]).flatMap((strategy) =>
  [128, 512].flatMap((maxTokens) => [0, 32].map((overlapTokens) => ({ strategy, maxTokens, overlapTokens }))),
);

describe.each(TOKENIZER_NAMES)('fixture corpus with %s', (name) => {
  it.each(CONFIGS)('$strategy, max $maxTokens, overlap $overlapTokens', async (config) => {
    const tok = await tokenizer(name);
    const options = { ...config, reservedTokens: 2 };
    const chunker = createChunker(tok, options);
    let chunks = 0;
    for (const doc of FILES) {
      const result = chunker.chunk(doc);
      expect(verifyChunks(tok, doc, result, options), doc.docId).toEqual([]);
      expect(JSON.stringify(chunker.chunk(doc)), `${doc.docId} is deterministic`).toBe(JSON.stringify(result));
      chunks += result.chunks.length;
    }
    expect(FILES.length).toBeGreaterThan(30);
    expect(chunks).toBeGreaterThan(FILES.length);
  });
});
