/**
 * `chunkline search` on an index built from real chunks of temp files: BM25 hits with their offsets,
 * checked against the files ("verified", "stale", "missing"), and code point slicing.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createChunker, type Chunker } from '@chunkline/chunking';
import { IndexStore, type IndexUpdate } from '@chunkline/indexer';
import { loadTokenizer } from '@chunkline/tokenizers';
import { runCli } from '../src/cli.js';
import { codePointSlice } from '../src/codepoints.js';
import { decodeTextBytes } from '../src/files.js';
import { compileSearchOptions } from '../src/ingest-args.js';
import { runSearchCommand, verifyHit } from '../src/search-command.js';
import { captureIo, tempDir, writeTree } from './helpers.js';

let chunker: Chunker;
beforeAll(async () => {
  chunker = createChunker(await loadTokenizer('bert-base-uncased'), { maxTokens: 32, reservedTokens: 2 });
});

describe('codePointSlice', () => {
  it('slices by code points, astral characters included', () => {
    const text = 'a😀b👩‍👩‍👧c';
    expect(codePointSlice(text, 0, 1)).toBe('a');
    expect(codePointSlice(text, 1, 3)).toBe('😀b');
    expect(codePointSlice(text, 3, 8)).toBe('👩‍👩‍👧');
    expect(codePointSlice(text, 8, 9)).toBe('c');
    expect(codePointSlice(text, 9, 9)).toBe('');
    expect(codePointSlice(text, 0, 10)).toBeUndefined();
    expect(codePointSlice(text, 2, 1)).toBeUndefined();
  });
});

describe('chunkline search', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let db: string;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    db = path.join(dir, 'index.db');
  });
  afterEach(async () => cleanup());

  /** Chunks each file (ids relative to `dir`, as ingest run from `dir` gives) into a fresh index. */
  async function index(files: string[]): Promise<void> {
    const store = IndexStore.open(db);
    const updates: IndexUpdate[] = [];
    let offset = 0;
    for (const rel of files) {
      const read = decodeTextBytes(await readFile(path.join(dir, rel)));
      if (!read.ok) throw new Error(read.reason);
      const r = chunker.chunk({ docId: rel, text: read.text, source: rel, contentType: 'text/markdown' });
      const at = (): { partition: number; offset: number; timestampMs: number } => ({
        partition: 0,
        offset: offset++,
        timestampMs: 1,
      });
      for (const c of r.chunks) updates.push({ kind: 'chunk', record: c, at: at() });
      updates.push({ kind: 'manifest', record: r.manifest, at: at() });
    }
    store.apply(updates);
    store.close();
  }

  it('prints the best chunks with offsets, verified against the files on disk', async () => {
    await writeTree(dir, {
      'notes/kafka.md': '# Kafka\n\nConsumer groups rebalance when members join. 👩‍👩‍👧 Offsets are committed.\n',
      'notes/sqlite.md':
        '\uFEFF# SQLite\n\nFTS5 ranks with BM25. Émile’s naïve café query still matches.\n\nAnother paragraph about nothing.\n',
    });
    await index(['notes/kafka.md', 'notes/sqlite.md']);
    const search = async (query: string, k = 3): Promise<string> => {
      const cap = captureIo();
      expect(await runSearchCommand(compileSearchOptions(query, { db, k }), cap.io, dir)).toBe(0);
      return cap.stdout();
    };
    const out = await search('bm25 café');
    expect(out).toMatch(
      /^1\. notes\/sqlite\.md {2}chunk 1\/\d+ {2}code points \[0, \d+\) {2}bm25 -\d+\.\d{3} {2}verified {2}§ SQLite\n/,
    );
    expect(out).toContain('    FTS5 ranks with BM25.');

    const json = captureIo();
    expect(await runSearchCommand(compileSearchOptions('consumer', { db, json: true }), json.io, dir)).toBe(0);
    const hits = json
      .stdout()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(hits).toHaveLength(1);
    expect(hits[0]).toMatchObject({
      rank: 1,
      docId: 'notes/kafka.md',
      source: 'notes/kafka.md',
      verification: 'verified',
    });

    await writeFile(path.join(dir, 'notes/kafka.md'), '# Kafka\n\nRewritten.\n');
    expect(await search('consumer')).toMatch(/ stale {2}§ Kafka/);
    await rm(path.join(dir, 'notes/kafka.md'));
    expect(await search('consumer')).toMatch(/ missing {2}§ Kafka/);
  });

  it('verifies every chunk of a file with a byte-order mark and astral characters', async () => {
    await writeTree(dir, {
      'u.txt': `\uFEFF${'Emoji 👩‍👩‍👧 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 words repeat here. '.repeat(20)}`,
    });
    await index(['u.txt']);
    const store = IndexStore.open(db, { readonly: true });
    const hits = store.search('words', { k: 100 });
    store.close();
    expect(hits.length).toBeGreaterThan(3);
    const text = (decodeTextBytes(await readFile(path.join(dir, 'u.txt'))) as { text: string }).text;
    for (const h of hits) expect(await verifyHit(h, async () => text)).toBe('verified');
  });

  it('says so when nothing matches, and fails on a missing index or an empty query', async () => {
    await writeTree(dir, { 'a.txt': 'alpha beta' });
    await index(['a.txt']);
    const none = captureIo();
    expect(await runCli(['search', 'zebra', '--db', db], none.io)).toBe(0);
    expect(none.stdout()).toMatch(/no matches for "zebra"/);
    const missing = captureIo();
    expect(await runCli(['search', 'x', '--db', path.join(dir, 'nope.db')], missing.io)).toBe(1);
    expect(missing.stderr()).toMatch(/--db .*nope\.db/);
    const empty = captureIo();
    expect(await runCli(['search', '  ', '--db', db], empty.io)).toBe(2);
    const badFts = captureIo();
    expect(await runCli(['search', 'AND OR', '--fts', '--db', db], badFts.io)).toBe(2);
    expect(badFts.stderr()).toMatch(/--fts query/);
    const env = captureIo();
    expect(await runCli(['search', 'alpha'], { ...env.io, env: { CHUNKLINE_INDEX_DB: db } })).toBe(0);
    expect(env.stdout()).toMatch(/^1\. a\.txt/);
  });
});
