/**
 * Needle in a haystack with the real bundled tokenizers and chunker: the haystack is the fixture prose
 * of test/fixtures/corpus/prose (sources and licenses in its SOURCES.md), read here, not in the package.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createChunker, type ChunkRecord } from '@chunkline/chunking';
import {
  buildNiahPrompts,
  checkNiah,
  generateNiah,
  isContextError,
  type NiahDocument,
  type NiahOptions,
} from '@chunkline/context';
import { loadTokenizer, type HfTokenizer } from '@chunkline/tokenizers';

const CORPUS = join(import.meta.dirname, '..', '..', '..', 'test', 'fixtures', 'corpus');

function walk(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((f) => {
      const p = join(dir, f);
      return statSync(p).isDirectory() ? walk(p) : [p];
    });
}

const HAYSTACK = walk(join(CORPUS, 'prose'))
  .map((f) => readFileSync(f, 'utf8'))
  .join('\n\n');

const NEEDLE = 'The best thing to do in San Francisco is eat a sandwich and sit in Dolores Park on a sunny day.';
const QUESTION = 'What is the best thing to do in San Francisco?';
const ANSWER = 'Eat a sandwich and sit in Dolores Park on a sunny day.';

/** Python-style code point slice. */
function cpSlice(text: string, start: number, end: number): string {
  return Array.from(text).slice(start, end).join('');
}

function errorOf(f: () => unknown): { field: string; message: string } {
  try {
    f();
  } catch (e) {
    if (isContextError(e)) return { field: e.field, message: e.message };
    throw e;
  }
  throw new Error('no error');
}

function chunkAll(tok: HfTokenizer, docs: readonly NiahDocument[], maxTokens: number, strategy: 'semantic' | 'window') {
  const chunker = createChunker(tok, { strategy, maxTokens });
  return docs.flatMap((d) => chunker.chunk({ docId: d.id, text: d.text }).chunks);
}

describe('needle in a haystack with bert-base-uncased on the fixture prose', () => {
  let tok: HfTokenizer;
  let docs: NiahDocument[];
  let options: NiahOptions;

  beforeAll(async () => {
    tok = await loadTokenizer('bert-base-uncased');
    options = {
      haystack: HAYSTACK,
      needle: NEEDLE,
      question: QUESTION,
      answer: ANSWER,
      lengthsTokens: [1000, 4000],
      depthsPercent: [0, 50, 100],
      tokenizer: tok,
    };
    docs = generateNiah(options);
  });

  it('makes one document per length and depth, lengths outer', () => {
    expect(docs.map((d) => d.id)).toEqual([
      'niah-len1000-depth0',
      'niah-len1000-depth50',
      'niah-len1000-depth100',
      'niah-len4000-depth0',
      'niah-len4000-depth50',
      'niah-len4000-depth100',
    ]);
  });

  it('records the needle at exact code point offsets', () => {
    for (const d of docs) {
      expect(cpSlice(d.text, d.needleCharStart, d.needleCharEnd), d.id).toBe(NEEDLE);
      expect(d.needleCharEnd - d.needleCharStart).toBe(Array.from(NEEDLE).length);
      expect(d.text.split(NEEDLE).length - 1, `${d.id} holds the needle once`).toBe(1);
      expect(d).toMatchObject({ needle: NEEDLE, question: QUESTION, answer: ANSWER });
    }
  });

  it('trims the haystack to about the length, measured with the tokenizer', () => {
    for (const d of docs) {
      expect(d.lengthTokens).toBe(tok.count(d.text));
      expect(d.lengthTokens, d.id).toBeLessThanOrEqual(d.targetLengthTokens + 2);
      expect(d.lengthTokens, d.id).toBeGreaterThan(d.targetLengthTokens * 0.9);
    }
  });

  it('puts the needle at the start, the middle and the end, at sentence boundaries', () => {
    for (const d of docs) {
      const cps = Array.from(d.text).length;
      const rel = d.needleCharStart / cps;
      if (d.depthPercent === 0) expect(d.needleCharStart).toBe(0);
      if (d.depthPercent === 100) expect(d.needleCharEnd).toBe(cps);
      if (d.depthPercent === 50) expect(rel, d.id).toBeGreaterThan(0.4);
      if (d.depthPercent === 50) expect(rel, d.id).toBeLessThan(0.6);
      // The text before the needle ends a sentence (or a paragraph), and the haystack starts and ends at one.
      const before = cpSlice(d.text, 0, d.needleCharStart).trimEnd();
      if (before !== '') expect(before, d.id).toMatch(/([.!?]["')\]]*|\n\s*\n)$/u);
    }
    const tail = docs.find((d) => d.id === 'niah-len1000-depth50')!.text.trimEnd();
    expect(tail).toMatch(/[.!?]["')\]]*$/u);
  });

  it('is deterministic', () => {
    expect(JSON.stringify(generateNiah(options))).toBe(JSON.stringify(docs));
  });

  it.each([128, 512])('semantic chunks at max %i tokens keep every needle whole', (maxTokens) => {
    const chunks = chunkAll(tok, docs, maxTokens, 'semantic');
    const result = checkNiah(docs, chunks);
    expect(result.docs.map((d) => [d.id, d.status])).toEqual(docs.map((d) => [d.id, 'whole']));
    expect(result.passed).toBe(true);
    expect(result.cells).toHaveLength(6);
    expect(result.cells.every((c) => c.docs === 1 && c.cut === 0)).toBe(true);
    expect(result.table).toBe(
      [
        'needle cut in 0 of 6 documents (cells: cut/documents)',
        'depth \\ length  1000 tok  4000 tok',
        '0%                   0/1       0/1',
        '50%                  0/1       0/1',
        '100%                 0/1       0/1',
      ].join('\n'),
    );
  });

  it('reports window chunks that cut the needle in the table', () => {
    const chunks = chunkAll(tok, docs, 16, 'window');
    const result = checkNiah(docs, chunks);
    // The needle (23 tokens) cannot fit a 14-token window.
    expect(result.passed).toBe(false);
    expect(result.docs.every((d) => d.status === 'cut' && d.touchingChunks.length >= 2)).toBe(true);
    expect(result.table).toContain('needle cut in 6 of 6 documents');
    expect(result.table).toContain('1/1');
  });

  it('builds one prompt per document and strategy, with lexical scores putting the needle at the ends', () => {
    const chunks = chunkAll(tok, docs, 128, 'semantic');
    const prompts = buildNiahPrompts(docs, chunks, { strategies: ['important_first_last', 'reverse_rank', 'none'] });
    expect(prompts).toHaveLength(18);
    for (const p of prompts) {
      expect(p.context).toContain(NEEDLE);
      expect(p.prompt).toContain(p.context);
      expect(p.prompt).toContain(`Question: ${QUESTION}`);
      expect(p).toMatchObject({ question: QUESTION, expectedAnswer: ANSWER, scoring: 'lexical', needleWhole: true });
      expect(p.needleChunkPositions).toHaveLength(1);
      const pos = p.needleChunkPositions[0]!;
      if (p.strategy === 'important_first_last') expect(pos, p.id).toBe(0);
      if (p.strategy === 'reverse_rank') expect(pos, p.id).toBe(p.chunkCount - 1);
    }
    const none = prompts.filter((p) => p.strategy === 'none');
    const middle = none.find((p) => p.docId === 'niah-len4000-depth50')!;
    expect(middle.needleChunkPositions[0]).toBeGreaterThan(0);
    expect(middle.needleChunkPositions[0]).toBeLessThan(middle.chunkCount - 1);
    expect(middle.id).toBe('niah-len4000-depth50/none');
  });
});

describe('needle offsets in code points with qwen3 on text outside the BMP', () => {
  it('records code point offsets, not UTF-16 ones', async () => {
    const tok = await loadTokenizer('qwen3');
    const haystack = Array.from(
      { length: 60 },
      (_, i) => `Sentence ${i} has an emoji 😀 and a flag 🇫🇷 in it. Zeile ${i}: Grüße aus 東京! `,
    ).join('');
    const needle = 'The secret word is 𝔭𝔦𝔫𝔢𝔞𝔭𝔭𝔩𝔢.';
    const docs = generateNiah({
      haystack,
      needle,
      question: 'What is the secret word?',
      answer: '𝔭𝔦𝔫𝔢𝔞𝔭𝔭𝔩𝔢',
      lengthsTokens: [300],
      depthsPercent: [0, 25, 50, 75, 100],
      tokenizer: tok,
      idPrefix: 'emoji',
    });
    expect(docs).toHaveLength(5);
    for (const d of docs) {
      expect(cpSlice(d.text, d.needleCharStart, d.needleCharEnd)).toBe(needle);
      expect(d.id).toMatch(/^emoji-len300-depth/);
    }
    // Offsets differ from UTF-16 indexes once an astral character precedes the needle.
    const deep = docs.find((d) => d.depthPercent === 75)!;
    expect(deep.text.indexOf(needle)).toBeGreaterThan(deep.needleCharStart);
    // A chunk record holding the needle by code points is found whole.
    const chunk: ChunkRecord = {
      chunk_id: 'c',
      doc_id: deep.id,
      doc_version: 'v',
      chunk_index: 0,
      chunk_count: 1,
      text: deep.text,
      char_start: 0,
      char_end: Array.from(deep.text).length,
      byte_start: 0,
      byte_end: 0,
      token_start: 0,
      token_end: 0,
      num_tokens: 0,
      overlap_tokens: 0,
      strategy: 'whole',
      heading_path: [],
      tokenizer: 'qwen3',
      chunker_fingerprint: 'f',
      source: null,
      content_type: 'text/plain',
      metadata: {},
    };
    expect(checkNiah([deep], [chunk]).docs[0]?.status).toBe('whole');
  });
});

describe('checkNiah statuses and option errors', () => {
  const entry = {
    id: 'd',
    targetLengthTokens: 100,
    lengthTokens: 98,
    depthPercent: 50,
    needleCharStart: 10,
    needleCharEnd: 15,
    needle: 'NEEDL',
    question: 'q',
    answer: 'a',
  };
  const text = '0123456789NEEDL0123456789';
  const chunk = (char_start: number, char_end: number, doc_id = 'd') => ({
    doc_id,
    chunk_index: char_start,
    char_start,
    char_end,
    text: text.slice(char_start, char_end),
  });

  it('tells whole, cut, missing and mismatch apart', () => {
    expect(checkNiah([entry], [chunk(0, 15), chunk(15, 25)]).docs[0]?.status).toBe('whole');
    const cut = checkNiah([entry], [chunk(0, 12), chunk(12, 25)]);
    expect(cut.docs[0]).toMatchObject({ status: 'cut', wholeInChunks: [], touchingChunks: [0, 12], chunkCount: 2 });
    expect(checkNiah([entry], [chunk(0, 25, 'other')]).docs[0]?.status).toBe('missing');
    const wrong = { doc_id: 'd', chunk_index: 0, char_start: 0, char_end: 25, text: 'x'.repeat(25) };
    expect(checkNiah([entry], [wrong]).docs[0]?.status).toBe('mismatch');
    expect(checkNiah([entry], [wrong]).passed).toBe(false);
  });

  it('matches chunks by docIdOf when documents were chunked under another id', () => {
    const chunks = [chunk(0, 25, 'niah/d.txt')];
    expect(checkNiah([entry], chunks).docs[0]?.status).toBe('missing');
    const docIdOf = (e: { id: string }) => `niah/${e.id}.txt`;
    expect(checkNiah([entry], chunks, { docIdOf }).docs[0]?.status).toBe('whole');
    const prompts = buildNiahPrompts([entry], chunks, { docIdOf, strategies: ['none'] });
    expect(prompts.map((p) => [p.id, p.docId])).toEqual([['d/none', 'd']]);
  });

  it('fills a depth x length table with cut counts', () => {
    const entries = [entry, { ...entry, id: 'e', depthPercent: 0 }, { ...entry, id: 'f', targetLengthTokens: 200 }];
    const r = checkNiah(entries, [chunk(0, 12), chunk(12, 25), chunk(0, 25, 'e')]);
    expect(r.depthsPercent).toEqual([0, 50]);
    expect(r.lengthsTokens).toEqual([100, 200]);
    expect(r.cells).toEqual([
      { depthPercent: 0, targetLengthTokens: 100, docs: 1, cut: 0 },
      { depthPercent: 0, targetLengthTokens: 200, docs: 0, cut: 0 },
      { depthPercent: 50, targetLengthTokens: 100, docs: 1, cut: 1 },
      { depthPercent: 50, targetLengthTokens: 200, docs: 1, cut: 1 },
    ]);
    expect(r.table.split('\n')).toEqual([
      'needle cut in 2 of 3 documents (cells: cut/documents)',
      'depth \\ length  100 tok  200 tok',
      '0%                  0/1        -',
      '50%                 1/1      1/1',
    ]);
  });

  it('uses position scores when asked', () => {
    const prompts = buildNiahPrompts([entry], [chunk(0, 5), chunk(5, 10), chunk(10, 15), chunk(15, 25)], {
      strategies: ['important_first_last'],
      scoring: 'position',
      separator: ' | ',
      template: '{question}: {context}',
    });
    expect(prompts).toHaveLength(1);
    // Scores 1, 0.75, 0.5, 0.25 by position: chunks 0, 2 from the start; 1, 3 from the end.
    expect(prompts[0]?.context).toBe('01234 | NEEDL | 0123456789 | 56789');
    expect(prompts[0]?.prompt).toBe('q: 01234 | NEEDL | 0123456789 | 56789');
    expect(prompts[0]?.needleChunkPositions).toEqual([1]);
  });

  it('rejects bad needle options, naming the field', async () => {
    const tok = await loadTokenizer('bert-base-uncased');
    const base: NiahOptions = {
      haystack: HAYSTACK,
      needle: NEEDLE,
      question: QUESTION,
      answer: ANSWER,
      lengthsTokens: [500],
      depthsPercent: [50],
      tokenizer: tok,
    };
    expect(errorOf(() => generateNiah({ ...base, needle: ' ' })).field).toBe('needle');
    expect(errorOf(() => generateNiah({ ...base, lengthsTokens: [] })).field).toBe('lengthsTokens');
    expect(errorOf(() => generateNiah({ ...base, lengthsTokens: [500, 1.5] })).field).toBe('lengthsTokens[1]');
    expect(errorOf(() => generateNiah({ ...base, depthsPercent: [101] })).field).toBe('depthsPercent[0]');
    expect(errorOf(() => generateNiah({ ...base, depthsPercent: [10, 10] })).message).toContain('remove the duplicate');
    const small = errorOf(() => generateNiah({ ...base, lengthsTokens: [20] }));
    expect(small.field).toBe('lengthsTokens[0]');
    expect(small.message).toContain('use at least');
    expect(errorOf(() => buildNiahPrompts([entry], [], { strategies: ['best' as never] })).field).toBe('strategies[0]');
    expect(errorOf(() => buildNiahPrompts([entry], [], { template: 'no placeholders' })).field).toBe('template');
  });

  it('rejects a haystack the tokenizer drops instead of looping', async () => {
    const tok = await loadTokenizer('bert-base-uncased');
    const e = errorOf(() =>
      generateNiah({
        haystack: '\u200b'.repeat(100),
        needle: NEEDLE,
        question: QUESTION,
        answer: ANSWER,
        lengthsTokens: [60],
        depthsPercent: [50],
        tokenizer: tok,
      }),
    );
    expect(e.field).toBe('haystack');
  });

  it('repeats a short haystack to reach the length', async () => {
    const tok = await loadTokenizer('bert-base-uncased');
    const docs = generateNiah({
      haystack: 'The sea was calm. The ship sailed on.',
      needle: NEEDLE,
      question: QUESTION,
      answer: ANSWER,
      lengthsTokens: [200],
      depthsPercent: [50],
      tokenizer: tok,
    });
    expect(docs[0]!.lengthTokens).toBeGreaterThan(180);
    expect(cpSlice(docs[0]!.text, docs[0]!.needleCharStart, docs[0]!.needleCharEnd)).toBe(NEEDLE);
  });
});
