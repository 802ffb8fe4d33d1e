/**
 * `chunkline chunk --verify` over the fixture corpus (real and adversarial text, test/fixtures/corpus)
 * for both strategies, caps 128 and 512, overlap 0 and 32, and both shipped tokenizers: exit code 0
 * (every document passes G1–G6 in the core's verifier), and the written records are checked here again
 * against the files on disk, independently of the core: exact code points and bytes (G1), order and
 * coverage of non-whitespace (G3). G7 is the second run of one configuration, byte for byte.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli.js';
import { captureIo, readJsonl, tempDir } from './helpers.js';

const ROOT = path.join(import.meta.dirname, '..', '..', '..');
const CORPUS = path.join('test', 'fixtures', 'corpus');

interface Rec {
  doc_id: string;
  text: string;
  char_start: number;
  char_end: number;
  byte_start: number;
  byte_end: number;
  num_tokens: number;
}

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
/** The G2 exception: a single grapheme over the cap is its own chunk. */
function isSingleGrapheme(text: string): boolean {
  return text.length < 4096 && [...graphemes.segment(text)].length === 1;
}

let tmp: { dir: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  tmp = await tempDir();
});
afterAll(async () => tmp.cleanup());

const CONFIGS = ['bert-base-uncased', 'qwen3'].flatMap((tokenizer) =>
  ['semantic', 'window'].flatMap((strategy) =>
    ['128', '512'].flatMap((max) => ['0', '32'].map((overlap) => ({ tokenizer, strategy, max, overlap }))),
  ),
);

async function run(c: (typeof CONFIGS)[number], out: string): Promise<{ code: number; stderr: string }> {
  const cap = captureIo();
  const cwd = process.cwd();
  process.chdir(ROOT);
  try {
    const code = await runCli(
      [
        'chunk',
        CORPUS,
        '--tokenizer',
        c.tokenizer,
        '--strategy',
        c.strategy,
        '--max-tokens',
        c.max,
        '--overlap',
        c.overlap,
        '--verify',
        '--quiet',
        '--out',
        out,
      ],
      cap.io,
    );
    return { code, stderr: cap.stderr() };
  } finally {
    process.chdir(cwd);
  }
}

describe('chunkline chunk --verify on the fixture corpus', () => {
  it.each(CONFIGS)('$tokenizer $strategy max $max overlap $overlap', async (c) => {
    const out = path.join(tmp.dir, `${c.tokenizer}-${c.strategy}-${c.max}-${c.overlap}.jsonl`);
    const { code, stderr } = await run(c, out);
    expect(code, stderr).toBe(0);
    const records = await readJsonl<Rec>(out);
    const byDoc = new Map<string, Rec[]>();
    for (const r of records) byDoc.set(r.doc_id, [...(byDoc.get(r.doc_id) ?? []), r]);
    expect(byDoc.size).toBeGreaterThan(30);
    for (const [docId, recs] of byDoc) {
      const bytes = await readFile(path.join(ROOT, docId));
      const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
      const cps = Array.from(text);
      const covered = new Uint8Array(cps.length);
      let prevStart = -1;
      for (const r of recs) {
        expect(cps.slice(r.char_start, r.char_end).join(''), docId).toBe(r.text);
        expect(bytes.subarray(r.byte_start, r.byte_end).toString('utf8'), docId).toBe(r.text);
        expect(r.char_start, docId).toBeGreaterThan(prevStart);
        if (!isSingleGrapheme(r.text)) expect(r.num_tokens + 2, docId).toBeLessThanOrEqual(Number(c.max));
        prevStart = r.char_start;
        covered.fill(1, r.char_start, r.char_end);
      }
      const missing = cps.findIndex((ch, i) => covered[i] === 0 && !/\s/.test(ch));
      expect(missing, `${docId}: uncovered character`).toBe(-1);
    }
    if (c.tokenizer === 'qwen3' && c.strategy === 'semantic' && c.max === '128' && c.overlap === '32') {
      const again = path.join(tmp.dir, 'again.jsonl');
      expect((await run(c, again)).code).toBe(0);
      expect(await readFile(again)).toEqual(await readFile(out));
    }
  });
});
