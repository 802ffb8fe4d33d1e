/**
 * `niah generate | check | prompts` end to end, in-process through runCli: needle documents from the
 * fixture prose (test/fixtures/corpus/prose), chunked with `chunkline chunk`, checked and prompted.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NiahManifestEntry, NiahPrompt } from '@chunkline/context';
import { runCli } from '../src/cli.js';
import { resolveDocIdRule } from '../src/niah-commands.js';
import { captureIo, readJsonl, tempDir } from './helpers.js';

const PROSE = path.join(import.meta.dirname, '..', '..', '..', 'test', 'fixtures', 'corpus', 'prose');
const NEEDLE = 'The best thing to do in San Francisco is eat a sandwich and sit in Dolores Park on a sunny day.';
const QUESTION = 'What is the best thing to do in San Francisco?';
const ANSWER = 'Eat a sandwich and sit in Dolores Park on a sunny day.';

async function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const cap = captureIo();
  const code = await runCli(args, cap.io);
  return { code, stdout: cap.stdout(), stderr: cap.stderr() };
}

/** Python-style code point slice. */
function cpSlice(text: string, start: number, end: number): string {
  return Array.from(text).slice(start, end).join('');
}

describe('needle in a haystack through the CLI', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let out: string;
  let manifestPath: string;
  let generated: { code: number; stderr: string };

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    out = path.join(dir, 'niah');
    manifestPath = path.join(out, 'manifest.jsonl');
    const r = await run(
      'niah',
      'generate',
      '--haystack',
      PROSE,
      '--needle',
      NEEDLE,
      '--question',
      QUESTION,
      '--answer',
      ANSWER,
      '--lengths',
      '1000,4000',
      '--depths',
      '0,50,100',
      '--out',
      out,
    );
    generated = { code: r.code, stderr: r.stderr };
    for (const maxTokens of [128, 512]) {
      const chunks = path.join(dir, `chunks-${maxTokens}.jsonl`);
      const chunked = await run('chunk', out, '--max-tokens', String(maxTokens), '--out', chunks, '--quiet');
      expect(chunked.code, chunked.stderr).toBe(0);
    }
  });
  afterAll(async () => cleanup());

  it('generate writes one text file per length × depth and a manifest without the text', async () => {
    expect(generated.code, generated.stderr).toBe(0);
    expect(generated.stderr).toContain('niah: 3/6 documents | length 1000: 3 written');
    expect(generated.stderr).toContain('niah: 6/6 documents | length 4000: 3 written');
    const entries = await readJsonl<NiahManifestEntry & { text?: string }>(manifestPath);
    expect(entries.map((e) => e.id)).toEqual([
      'niah-len1000-depth0',
      'niah-len1000-depth50',
      'niah-len1000-depth100',
      'niah-len4000-depth0',
      'niah-len4000-depth50',
      'niah-len4000-depth100',
    ]);
    expect((await readdir(out)).sort()).toEqual(['manifest.jsonl', ...entries.map((e) => `${e.id}.txt`)].sort());
    for (const e of entries) {
      expect(e.text).toBeUndefined();
      expect(e).toMatchObject({ needle: NEEDLE, question: QUESTION, answer: ANSWER });
      expect(e.lengthTokens).toBeLessThanOrEqual(e.targetLengthTokens);
      const text = await readFile(path.join(out, `${e.id}.txt`), 'utf8');
      expect(cpSlice(text, e.needleCharStart, e.needleCharEnd)).toBe(NEEDLE);
    }
  });

  it.each([128, 512])('check passes on semantic chunks of %i tokens (exit 0)', async (maxTokens) => {
    // Chunked in beforeAll: `chunkline chunk OUT --max-tokens N`, so doc_id is OUT/<id>.txt.
    const chunks = path.join(dir, `chunks-${maxTokens}.jsonl`);
    const r = await run('niah', 'check', '--chunks', chunks, '--manifest', manifestPath);
    expect(r.stderr).toContain(`by doc_id = ${out}/<id>.txt`);
    expect(r.stdout).toContain('needle cut in 0 of 6 documents');
    expect(r.stdout).toMatch(/^50%\s+0\/1\s+0\/1$/m);
    expect(r.code).toBe(0);
  });

  it('check exits 1 and names the document when a 128-token window cuts a needle', async () => {
    const chunks = path.join(dir, 'window-128.jsonl');
    expect((await run('chunk', out, '--strategy', 'window', '--max-tokens', '128', '--out', chunks)).code).toBe(0);
    const r = await run('niah', 'check', '--chunks', chunks, '--manifest', manifestPath);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('needle cut in 1 of 6 documents');
    expect(r.stdout).toMatch(/^niah-len1000-depth50: cut: needle split across chunk_index \d+, \d+ of \d+$/m);
  });

  it('check reports missing documents (exit 1) when --doc-id-prefix names another folder', async () => {
    const chunks = path.join(dir, 'chunks-512.jsonl');
    const r = await run(
      'niah',
      'check',
      '--chunks',
      chunks,
      '--manifest',
      manifestPath,
      '--doc-id-prefix',
      'elsewhere/',
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('needle cut in 6 of 6 documents');
    expect(r.stdout).toContain('niah-len4000-depth0: missing: no chunk has doc_id "elsewhere/niah-len4000-depth0.txt"');
    expect(r.stderr).toContain('no chunk of --chunks');
  });

  it('prompts writes one line per document × strategy', async () => {
    const chunks = path.join(dir, 'chunks-128.jsonl');
    const prompts = path.join(dir, 'prompts.jsonl');
    const r = await run('niah', 'prompts', '--chunks', chunks, '--manifest', manifestPath, '--out', prompts);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('wrote 18 prompts (6 documents × 3 strategies, scoring lexical)');
    const lines = await readJsonl<NiahPrompt>(prompts);
    expect(lines.map((p) => p.id).slice(0, 3)).toEqual([
      'niah-len1000-depth0/important_first_last',
      'niah-len1000-depth0/reverse_rank',
      'niah-len1000-depth0/none',
    ]);
    for (const p of lines) {
      expect(p.needleWhole).toBe(true);
      expect(p.context).toContain(NEEDLE);
      expect(p.prompt).toContain(QUESTION);
      expect(p.expectedAnswer).toBe(ANSWER);
    }
    // Lexical scoring ranks the needle's chunk first: at the start, or at the end with reverse_rank.
    const firstLast = lines.filter((p) => p.strategy === 'important_first_last');
    expect(firstLast.every((p) => p.needleChunkPositions[0] === 0)).toBe(true);
    const reverse = lines.filter((p) => p.strategy === 'reverse_rank');
    expect(reverse.every((p) => p.needleChunkPositions[0] === p.chunkCount - 1)).toBe(true);

    const two = path.join(dir, 'two.jsonl');
    const r2 = await run(
      'niah',
      'prompts',
      '--chunks',
      chunks,
      '--manifest',
      manifestPath,
      '--strategies',
      'none,reverse_rank',
      '--scoring',
      'position',
      '--out',
      two,
    );
    expect(r2.code).toBe(0);
    const twoLines = await readJsonl<NiahPrompt>(two);
    expect(twoLines).toHaveLength(12);
    expect(new Set(twoLines.map((p) => p.strategy))).toEqual(new Set(['none', 'reverse_rank']));
    expect(twoLines.every((p) => p.scoring === 'position')).toBe(true);
  });

  it('prompts exits 1 and names the documents that have no chunks', async () => {
    const partial = path.join(dir, 'partial.jsonl');
    const chunked = await run('chunk', path.join(out, 'niah-len1000-depth0.txt'), '--out', partial);
    expect(chunked.code).toBe(0);
    const prompts = path.join(dir, 'partial-prompts.jsonl');
    const r = await run('niah', 'prompts', '--chunks', partial, '--manifest', manifestPath, '--out', prompts);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('niah-len4000-depth100: no chunk has doc_id');
    expect(await readJsonl(prompts)).toHaveLength(3);
  });
});

describe('resolveDocIdRule', () => {
  const entries = [{ id: 'a' }, { id: 'b' }] as NiahManifestEntry[];

  it('prefers --doc-id-prefix, then the id, then the folder of the manifest, then one common prefix', () => {
    const ids = (rule: { docIdOf: (e: NiahManifestEntry) => string }): string[] => entries.map(rule.docIdOf);
    expect(ids(resolveDocIdRule('p/', 'x/manifest.jsonl', entries, new Set(['a'])))).toEqual(['p/a.txt', 'p/b.txt']);
    expect(ids(resolveDocIdRule(null, 'x/manifest.jsonl', entries, new Set(['a', 'x/b.txt'])))).toEqual(['a', 'b']);
    expect(ids(resolveDocIdRule(null, './x/manifest.jsonl', entries, new Set(['x/b.txt'])))).toEqual([
      'x/a.txt',
      'x/b.txt',
    ]);
    expect(ids(resolveDocIdRule(null, 'manifest.jsonl', entries, new Set(['a.txt'])))).toEqual(['a.txt', 'b.txt']);
    const common = resolveDocIdRule(null, 'x/manifest.jsonl', entries, new Set(['/abs/x/a.txt', 'other.md']));
    expect(ids(common)).toEqual(['/abs/x/a.txt', '/abs/x/b.txt']);
    expect(common.matched).toBe(true);
    const none = resolveDocIdRule(null, 'x/manifest.jsonl', entries, new Set(['other.md']));
    expect(none.matched).toBe(false);
  });

  it('refuses to guess between two folders holding the documents', () => {
    expect(() => resolveDocIdRule(null, 'x/m.jsonl', entries, new Set(['/one/a.txt', '/two/b.txt']))).toThrow(
      /several folders.*--doc-id-prefix/,
    );
  });
});

describe('needle commands: bad input', () => {
  it('names a manifest line that is not an entry (exit 1)', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const manifest = path.join(dir, 'manifest.jsonl');
      const chunks = path.join(dir, 'chunks.jsonl');
      await writeFile(manifest, '{"id": "a"}\n');
      await writeFile(chunks, '');
      const r = await run('niah', 'check', '--chunks', chunks, '--manifest', manifest);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`--manifest ${manifest} line 1: not a needle manifest entry`);
    } finally {
      await cleanup();
    }
  });

  it('fails generate on a missing haystack (exit 1) and on a length too short for the needle (exit 2)', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const base = ['niah', 'generate', '--needle', NEEDLE, '--question', QUESTION, '--answer', ANSWER];
      const missing = await run(
        ...base,
        '--haystack',
        path.join(dir, 'nope'),
        '--lengths',
        '100',
        '--depths',
        '0',
        '--out',
        dir,
      );
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain(`--haystack ${path.join(dir, 'nope')}`);
      const short = await run(...base, '--haystack', PROSE, '--lengths', '1000,20', '--depths', '0', '--out', dir);
      expect(short.code).toBe(2);
      expect(short.stderr).toMatch(/--lengths: 20 tokens leave no room/);
      expect(await readdir(dir)).toEqual([]);
    } finally {
      await cleanup();
    }
  });
});
