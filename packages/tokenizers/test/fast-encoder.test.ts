/**
 * Differential tests of the fast encoders: on every fixture document and on generated Unicode text,
 * the fast encoder's ids equal transformers.js's own `encode` (`encodeBaseline`) and its spans and
 * wordStart equal the reference AlignedEncoder's (which goldens.test.ts checks against Hugging Face's
 * offsets). A failure names the first differing token.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { CORPUS_DIR, FIXTURES_DIR, fixtureDocuments, readText } from '../../../test/fixtures/fixtures.js';
import { bundledTokenizerDir, createSharedPieceCache, type HfTokenizer, loadTokenizer } from '@chunkline/tokenizers';

const KNOWN = join(FIXTURES_DIR, 'known-differences');

const DOCS = fixtureDocuments();

/** '' when fast and reference agree on `text`, else where and how they first differ. */
function firstDifference(tok: HfTokenizer, text: string): string {
  const fast = tok.encode(text);
  const ref = tok.encodeReference(text);
  const base = tok.encodeBaseline(text);
  const n = Math.max(fast.ids.length, base.length, ref.ids.length);
  for (let i = 0; i < n; i++) {
    const f = [fast.ids[i], fast.start16[i], fast.end16[i], fast.wordStart?.[i]];
    const r = [base[i], ref.start16[i], ref.end16[i], ref.wordStart?.[i]];
    if (f.some((v, k) => v !== r[k])) {
      const at = ref.start16[i] ?? fast.start16[i] ?? 0;
      return (
        `token ${i} of ${n}: fast [id, start16, end16, wordStart] ${JSON.stringify(f)}, reference ${JSON.stringify(r)} ` +
        `near ${JSON.stringify(text.slice(Math.max(0, at - 10), at + 20))}`
      );
    }
  }
  if (tok.count(text) !== base.length) return `count ${tok.count(text)} != ${base.length}`;
  return '';
}

const PIECES = [
  ' ',
  '  ',
  '\t',
  '\r\n',
  '\n\n',
  '\u00a0',
  '\u3000',
  '\u2003',
  '\u000b',
  '\u000c',
  '\u0085',
  '\ufeff',
  '\u200b',
  '\u00ad',
  '\u0000',
  '\ufffd',
  '\u001f',
  'Hello',
  'WORLD',
  "it's",
  "WE'LL",
  '12,345.67',
  'e\u0301',
  'A\u0308\u0301',
  '\u0301',
  'ΟΔΟΣ',
  'Σ',
  'ς',
  'İstanbul',
  'ß',
  '😀',
  '👍🏽',
  '👩‍👩‍👧‍👦',
  '🇫🇷',
  '東京',
  '𩸽',
  'ほっけ',
  'ภาษาไทย',
  'שלום',
  'مرحبا',
  '\u202e',
  '한국어',
  'ﬁ',
  'K',
  'Å',
  '...',
  '—',
  '"',
  '(',
  '[SEP]',
  '<|im_end|>',
  '\ud800',
  '\udc00',
  'x'.repeat(150),
  'y'.repeat(101),
  'Zq'.repeat(50),
  'aB3+/'.repeat(25),
  'unbelievably',
  '##ing',
  'https://example.com/a_b-c?d=e&f=%20',
  'supercalifragilisticexpialidocious',
];

const TEXT = fc
  .array(
    fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...PIECES) },
      { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 8 }) },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 6 }) },
      { weight: 1, arbitrary: fc.lorem({ maxCount: 4 }) },
      {
        weight: 1,
        arbitrary: fc.string({
          unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
          maxLength: 30,
        }),
      },
    ),
    { maxLength: 40 },
  )
  .map((parts) => parts.join(''));

const tmp = mkdtempSync(join(tmpdir(), 'chunkline-fast-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.each([
  ['bert-base-uncased', 'fast-wordpiece'],
  ['qwen3', 'fast-bytelevel-bpe'],
])('fast encoder of %s', (name, kind) => {
  const tok = loadTokenizer(name, { encoder: 'fast' });

  it(`is ${kind}, and says so at load`, async () => {
    const seen: string[] = [];
    const t = await loadTokenizer(name, { encoder: 'auto', onEncoderSelected: (k) => seen.push(k) });
    expect(t.encoderKind).toBe(kind);
    expect(seen).toEqual([kind]);
    expect((await loadTokenizer(name)).encoderKind).toBe(kind); // the default is auto
    expect((await loadTokenizer(name, { encoder: 'reference' })).encoderKind).toBe('reference');
  });

  it.each(DOCS)('equals the reference on %s', async (file) => {
    const t = await tok;
    const text = readText(join(CORPUS_DIR, file));
    expect(firstDifference(t, text)).toBe('');
    // Second time through the word cache.
    expect(firstDifference(t, text)).toBe('');
  });

  it.each(['final-sigma.txt', 'cjk-extension-b.txt'])(
    'gives transformers.js ids on known difference %s',
    async (file) => {
      const t = await tok;
      const text = readText(join(KNOWN, file));
      expect(firstDifference(t, text)).toBe('');
    },
  );

  it('equals the reference on generated Unicode text', async () => {
    const t = await tok;
    fc.assert(
      fc.property(TEXT, (text) => {
        expect(firstDifference(t, text)).toBe('');
      }),
      { numRuns: 600 },
    );
  });

  it('equals the reference with a piece cache shared by two tokenizers, also once the table is full', async () => {
    // 3,000 pieces: the fixture corpus fills the table, and each tokenizer's own cache takes the rest.
    const sharedCache = createSharedPieceCache(3000);
    const pair = [
      await loadTokenizer(name, { encoder: 'fast', sharedCache }),
      await loadTokenizer(name, { encoder: 'fast', sharedCache }),
    ] as const;
    // Each document through one tokenizer, then through the other, which finds its pieces in the table.
    for (const [i, file] of DOCS.entries()) {
      const text = readText(join(CORPUS_DIR, file));
      expect(firstDifference(pair[i % 2] as HfTokenizer, text)).toBe('');
      expect(firstDifference(pair[(i + 1) % 2] as HfTokenizer, text)).toBe('');
    }
  });

  it('equals the reference inside long runs with no whitespace', async () => {
    const t = await tok;
    expect(firstDifference(t, `start ${'ab1+/'.repeat(2000)} end ${'é'.repeat(300)}`)).toBe('');
  });
});

describe('fast encoder selection', () => {
  it('falls back to the reference for features it does not implement', async () => {
    const dir = join(tmp, 'bert-lowercase');
    cpSync(bundledTokenizerDir('bert-base-uncased'), dir, { recursive: true });
    const json = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
    json.normalizer = { type: 'Lowercase' };
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(json));
    const reasons: string[] = [];
    const t = await loadTokenizer(dir, {
      encoder: 'auto',
      onEncoderSelected: (k, why) => reasons.push(`${k}: ${why}`),
    });
    expect(t.encoderKind).toBe('reference');
    expect(reasons).toEqual(['reference: no fast encoder: WordPiece with normalizer Lowercase']);
    await expect(loadTokenizer(dir, { encoder: 'fast' })).rejects.toThrow(/no fast encoder/);
  });
});
