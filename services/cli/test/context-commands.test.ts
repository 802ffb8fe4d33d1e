/**
 * `chunk --whole-if-fits`, `context plan` and `context pack`, run in-process through runCli, with the
 * model configs of packages/context/test/fixtures/models.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChunkRecord } from '@chunkline/chunking';
import { runCli } from '../src/cli.js';
import { captureIo, readJsonl, sampleCorpus, tempDir, writeTree } from './helpers.js';

const MODELS = path.join(import.meta.dirname, '..', '..', '..', 'packages', 'context', 'test', 'fixtures', 'models');
const LLAMA_31 = path.join(MODELS, 'llama-3.1-8b.config.json');
const QWEN2_YARN = path.join(MODELS, 'qwen2-7b-instruct-yarn.config.json');

/** Runs `chunkline ...args` in-process. */
async function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const cap = captureIo();
  const code = await runCli(args, cap.io);
  return { code, stdout: cap.stdout(), stderr: cap.stderr() };
}

describe('chunkline chunk --whole-if-fits', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    await writeTree(dir, sampleCorpus());
  });
  afterEach(async () => cleanup());

  it("keeps a file that fits Llama 3.1's window whole, which a 64-token cap splits without the flag", async () => {
    const file = path.join(dir, 'guide.md');
    const split = path.join(dir, 'split.jsonl');
    expect((await run('chunk', file, '--max-tokens', '64', '--out', split, '--quiet')).code).toBe(0);
    const parts = await readJsonl<ChunkRecord>(split);
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.every((c) => c.strategy === 'semantic' && c.num_tokens <= 62)).toBe(true);

    const whole = path.join(dir, 'whole.jsonl');
    const r = await run('chunk', file, '--max-tokens', '64', '--whole-if-fits', LLAMA_31, '--verify', '--out', whole);
    expect(r.stderr).toContain('documents 1 | chunks 1 |');
    expect(r.code).toBe(0);
    const [only, ...rest] = await readJsonl<ChunkRecord>(whole);
    expect(rest).toEqual([]);
    expect(only?.strategy).toBe('whole');
    expect(only?.chunk_count).toBe(1);
    expect(only?.num_tokens).toBeGreaterThan(64);
    expect(only?.text).toBe(parts.map((c) => c.text).join(''));
  });

  it('still chunks a document over the window (a config with a 100-token window)', async () => {
    const config = path.join(dir, 'small-window.config.json');
    await writeFile(config, JSON.stringify({ max_position_embeddings: 100 }));
    const out = path.join(dir, 'out.jsonl');
    const r = await run('chunk', dir, '--max-tokens', '64', '--whole-if-fits', config, '--verify', '--out', out);
    expect(r.code).toBe(0);
    const chunks = await readJsonl<ChunkRecord>(out);
    const strategiesOf = (docId: string): string[] => chunks.filter((c) => c.doc_id === docId).map((c) => c.strategy);
    // The big Markdown guide is over 100 tokens: cut at 64. The short z-last.markdown fits: whole.
    expect(new Set(strategiesOf(`${dir}/guide.md`))).toEqual(new Set(['semantic']));
    expect(strategiesOf(`${dir}/z-last.markdown`)).toEqual(['whole']);
  });

  it.each([
    ['a missing file', null, 'cannot read the model config (ENOENT)'],
    ['a file that is not JSON', '{ "max_position', 'not a JSON model config.json'],
    ['an unknown RoPE scaling', '{"max_position_embeddings": 4096, "rope_scaling": {"type": "longrope"}}', 'longrope'],
    ['a window not over --reserved', '{"max_position_embeddings": 2}', 'must be greater than --reserved (2)'],
  ])('refuses %s with exit 2 naming the flag and the file, and writes nothing', async (_, content, expected) => {
    const config = path.join(dir, 'model.config.json');
    if (content !== null) await writeFile(config, content);
    const out = path.join(dir, 'out.jsonl');
    const r = await run('chunk', dir, '--whole-if-fits', config, '--out', out);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--whole-if-fits ${config}`);
    expect(r.stderr).toContain(expected);
    await expect(readJsonl(out)).rejects.toThrow(/ENOENT/);
  });
});

describe('chunkline context plan', () => {
  it('prints the extended window and the notes', async () => {
    const r = await run('context', 'plan', QWEN2_YARN);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^method\s+yarn$/m);
    expect(r.stdout).toMatch(/^trained window\s+32768 tokens$/m);
    expect(r.stdout).toMatch(/^extended window\s+131072 tokens$/m);
    expect(r.stdout).toContain('- Lost in the middle');
  });

  it('prints the plan as JSON with --json', async () => {
    const r = await run('context', 'plan', LLAMA_31, '--json');
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(plan).toMatchObject({ method: 'llama3', trainedWindowTokens: 131072, extendedWindowTokens: 131072 });
  });

  it('exits 2 naming a missing config file', async () => {
    const r = await run('context', 'plan', 'no/such/config.json');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no/such/config.json');
  });
});

interface Packed extends ChunkRecord {
  score: number;
}

describe('chunkline context pack', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let chunksFile: string;
  let scoresFile: string;
  let chunks: ChunkRecord[];
  /** chunk_id → score given in the scores file. */
  const scoreOf = new Map<string, number>();

  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    await writeTree(path.join(dir, 'corpus'), sampleCorpus());
    chunksFile = path.join(dir, 'chunks.jsonl');
    expect((await run('chunk', path.join(dir, 'corpus'), '--max-tokens', '48', '--out', chunksFile)).code).toBe(0);
    chunks = await readJsonl<ChunkRecord>(chunksFile);
    expect(chunks.length).toBeGreaterThan(10);
    // Deterministic scores with ties; the smallest chunk ranked first and listed again lower (a
    // duplicate hit, dropped as duplicate_id whatever the budget), and an id that names no chunk.
    const lines = chunks.map((c, i) => ({ chunk_id: c.chunk_id, score: ((i * 7) % 11) / 10 }));
    const smallestAt = chunks.reduce((best, c, i) => (c.num_tokens < chunks[best]!.num_tokens ? i : best), 0);
    expect(chunks[smallestAt]!.num_tokens).toBeLessThan(30);
    const smallest = lines[smallestAt]!;
    smallest.score = 2;
    scoreOf.clear();
    for (const l of lines) scoreOf.set(l.chunk_id, l.score);
    lines.push({ chunk_id: smallest.chunk_id, score: 1.5 }, { chunk_id: 'not-a-chunk', score: 5 });
    scoresFile = path.join(dir, 'scores.jsonl');
    await writeFile(scoresFile, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  });
  afterEach(async () => cleanup());

  it.each([60, 150, 400, 100_000])('never exceeds a budget of %i tokens minus --reserved', async (budget) => {
    const out = path.join(dir, 'packed.jsonl');
    const reserved = 20;
    const r = await run(
      'context',
      'pack',
      '--chunks',
      chunksFile,
      '--scores',
      scoresFile,
      '--budget',
      String(budget),
      '--reserved',
      String(reserved),
      '--overhead',
      '3',
      '--out',
      out,
    );
    expect(r.code).toBe(0);
    const packed = await readJsonl<Packed>(out);
    const used = packed.reduce((sum, p) => sum + p.num_tokens + 3, 0);
    expect(used).toBeLessThanOrEqual(budget - reserved);
    expect(new Set(packed.map((p) => p.chunk_id)).size).toBe(packed.length);
    expect(r.stderr).toContain(
      `packed ${packed.length} of ${chunks.length + 1} passages | ${used} of ${budget - reserved} tokens`,
    );
    expect(r.stderr).toMatch(/dropped duplicate_id 1, duplicate_text \d+, overlap 0, over_budget \d+/);
    expect(r.stderr).toContain('1 score(s) name no chunk');
    // Every chunk keeps its record fields and gets its score.
    for (const p of packed) expect(p.score).toBe(scoreOf.get(p.chunk_id));
    if (budget === 100_000)
      expect(packed.length).toBe(chunks.length - Number(r.stderr.match(/duplicate_text (\d+)/)?.[1]));
  });

  async function packWith(strategy: string): Promise<Packed[]> {
    const r = await run(
      'context',
      'pack',
      '--chunks',
      chunksFile,
      '--scores',
      scoresFile,
      '--budget',
      '300',
      '--strategy',
      strategy,
    );
    expect(r.code).toBe(0);
    return r.stdout === ''
      ? []
      : r.stdout
          .trimEnd()
          .split('\n')
          .map((l) => JSON.parse(l) as Packed);
  }

  it('orders the chosen chunks by --strategy (written to stdout without --out)', async () => {
    const first = await packWith('important_first_last');
    const reverse = await packWith('reverse_rank');
    const none = await packWith('none');
    expect(first.length).toBeGreaterThan(3);
    // The same chunks are chosen whatever the order.
    const ids = (ps: Packed[]): string[] => ps.map((p) => p.chunk_id).sort();
    expect(ids(reverse)).toEqual(ids(first));
    expect(ids(none)).toEqual(ids(first));

    const byRank = [...first].map((p) => p.score).sort((a, b) => b - a);
    // important_first_last: ranks 0, 2, 4, … from the start and 1, 3, 5, … from the end.
    const expected: number[] = new Array<number>(byRank.length);
    byRank.forEach((s, rank) => {
      expected[rank % 2 === 0 ? rank / 2 : byRank.length - 1 - (rank - 1) / 2] = s;
    });
    expect(first.map((p) => p.score)).toEqual(expected);
    // reverse_rank: least relevant first.
    expect(reverse.map((p) => p.score)).toEqual([...byRank].reverse());
    // none: the order of the scores file (here, the order of the chunks).
    const position = new Map(chunks.map((c, i) => [c.chunk_id, i]));
    const order = none.map((p) => position.get(p.chunk_id) ?? -1);
    expect(order).toEqual([...order].sort((a, b) => a - b));
  });

  it('names a bad scores line and a bad chunk record (exit 1)', async () => {
    await writeFile(scoresFile, '{"chunk_id": "a", "score": 1}\n{"chunk_id": "b"}\n');
    const bad = await run('context', 'pack', '--chunks', chunksFile, '--scores', scoresFile, '--budget', '100');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`--scores ${scoresFile} line 2`);

    const notChunks = path.join(dir, 'not-chunks.jsonl');
    await writeFile(notChunks, '{"chunk_id": "a"}\n');
    await writeFile(scoresFile, '{"chunk_id": "a", "score": 1}\n');
    const r = await run('context', 'pack', '--chunks', notChunks, '--scores', scoresFile, '--budget', '100');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`--chunks ${notChunks} line 1: not a Chunk record`);
  });

  it('reads Chunk records from an Avro container file', async () => {
    const avro = path.join(dir, 'chunks.avro');
    expect((await run('chunk', path.join(dir, 'corpus'), '--max-tokens', '48', '--out', avro)).code).toBe(0);
    const fromAvro = await run('context', 'pack', '--chunks', avro, '--scores', scoresFile, '--budget', '300');
    const fromJsonl = await run('context', 'pack', '--chunks', chunksFile, '--scores', scoresFile, '--budget', '300');
    expect(fromAvro.code).toBe(0);
    const ids = (stdout: string): string[] =>
      stdout
        .trimEnd()
        .split('\n')
        .map((l) => (JSON.parse(l) as Packed).chunk_id);
    expect(ids(fromAvro.stdout)).toEqual(ids(fromJsonl.stdout));
  });
});
