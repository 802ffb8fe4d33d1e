/**
 * Golden test: for every fixture document, our ids and per-token offsets (converted to code points)
 * equal those of Hugging Face's Rust `tokenizers` (Python binding) for the same tokenizer.json, and our
 * ids equal transformers.js's own `encode`. Goldens: test/fixtures/goldens (npm run goldens).
 */
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CORPUS_DIR, FIXTURES_DIR, fixtureDocuments, readText, walkFiles } from '../../../test/fixtures/fixtures.js';
import { loadTokenizer } from '@chunkline/tokenizers';

const GOLDENS = join(FIXTURES_DIR, 'goldens');

interface Golden {
  file: string;
  ids: number[];
  offsets: [number, number][];
}

/** UTF-16 index → code point index, for every index of `text`. */
function codePointIndex(text: string): Int32Array {
  const at = new Int32Array(text.length + 1);
  let cp = 0;
  for (let i = 0; i < text.length; i++) {
    at[i] = cp;
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) at[++i] = cp;
    }
    cp++;
  }
  at[text.length] = cp;
  return at;
}

/**
 * Stacked combining marks that NFC reorders and re-composes (Zalgo text, U+0344): Hugging Face moves
 * each mark's alignment along with it through canonical reordering; we map them in order. The ids are
 * the same and the spans differ by one code point *inside one grapheme cluster*, where no chunk is ever
 * cut, so for these files spans are compared cluster by cluster.
 */
const CLUSTER_LEVEL = new Set([
  'qwen3/adversarial/combining-marks.txt.json',
  'qwen3/adversarial/huge-graphemes.txt.json',
]);

/** Code point index → [start, end) code point span of its grapheme cluster. */
function clusters(text: string): { start: Int32Array; end: Int32Array } {
  const n = Array.from(text).length;
  const start = new Int32Array(n + 1);
  const end = new Int32Array(n + 1);
  let cp = 0;
  for (const { segment } of new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(text)) {
    const len = Array.from(segment).length;
    for (let i = 0; i < len; i++) {
      start[cp + i] = cp;
      end[cp + i] = cp + len;
    }
    cp += len;
  }
  start[n] = n;
  end[n] = n;
  return { start, end };
}

describe.each(['bert-base-uncased', 'qwen3'])('goldens of %s', (name) => {
  const files = walkFiles(join(GOLDENS, name)).filter((f) => f.endsWith('.json'));

  it('has a golden for every fixture document', () => {
    const docs = fixtureDocuments();
    expect(files.map((f) => relative(join(GOLDENS, name), f).replace(/\.json$/, ''))).toEqual(docs);
  });

  it.each(files.map((f) => relative(join(GOLDENS, name), f)))('%s', async (file) => {
    const tok = await loadTokenizer(name);
    const golden = JSON.parse(readFileSync(join(GOLDENS, name, file), 'utf8')) as Golden;
    const text = readText(join(CORPUS_DIR, golden.file));
    const enc = tok.encode(text);
    const ids = Array.from(enc.ids);
    const firstIdDiff = ids.findIndex((id, i) => id !== golden.ids[i]);
    expect({ firstIdDiff, length: ids.length }).toEqual({ firstIdDiff: -1, length: golden.ids.length });
    expect(tok.encodeBaseline(text)).toEqual(ids);
    const cp = codePointIndex(text);
    const offsets = ids.map((_, i) => [cp[enc.start16[i] ?? 0], cp[enc.end16[i] ?? 0]]);
    let snap = (o: number[] | undefined): string => JSON.stringify(o);
    if (CLUSTER_LEVEL.has(`${name}/${file}`)) {
      const c = clusters(text);
      snap = (o) => JSON.stringify([c.start[o?.[0] ?? 0], c.end[Math.max(0, (o?.[1] ?? 1) - 1)]]);
    }
    const firstDiff = offsets.findIndex((o, i) => snap(o) !== snap(golden.offsets[i]));
    expect(
      firstDiff === -1
        ? 'equal'
        : `token ${firstDiff}: ours ${JSON.stringify(offsets[firstDiff])} golden ${JSON.stringify(golden.offsets[firstDiff])}`,
    ).toBe('equal');
  });
});
