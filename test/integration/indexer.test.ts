/**
 * Files → `chunkline ingest` → the worker → `chunkline-indexer` → SQLite, on a real broker: after the
 * first pass, after an update that shrinks a document and a deletion (published by `ingest --watch`), and
 * after an indexer restart, the index holds exactly the chunks `createChunker` gives in-process for the
 * files as they are, with the ids and versions ingest sends. `chunkline search` verifies its hits.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChunker, type Chunker } from '@chunkline/chunking';
import { IndexStore, loadIndexerConfig, startIndexer, type RunningIndexer } from '@chunkline/indexer';
import { loadTokenizer } from '@chunkline/tokenizers';
import {
  brokers,
  createTopics,
  ROOT,
  startWorker,
  stopWorker,
  unique,
  waitFor,
  type Topics,
  type WorkerProcess,
} from './harness.js';

const CLI = path.join(ROOT, 'services', 'cli', 'dist', 'main.js');
/** The worker's settings in the harness (CHUNKLINE_MAX_TOKENS=128), for the in-process chunker. */
const LIMITS = { maxTokens: 128, reservedTokens: 2, overlapTokens: 0, strategy: 'semantic' } as const;

let chunker: Chunker;
let work: string;
const workers: WorkerProcess[] = [];
const indexers: RunningIndexer[] = [];

beforeAll(async () => {
  chunker = createChunker(await loadTokenizer('bert-base-uncased'), LIMITS);
  work = mkdtempSync(path.join(os.tmpdir(), 'chunkline-indexer-it-'));
});

afterAll(async () => {
  for (const i of indexers) await i.stop().catch(() => undefined);
  for (const w of workers) await stopWorker(w);
  rmSync(work, { recursive: true, force: true });
});

/** Runs the CLI binary in `cwd`: its exit, its output lines, and SIGTERM. */
function runCli(args: string[], cwd: string): { exited: Promise<number | string>; lines: string[]; kill(): void } {
  const proc = spawn(process.execPath, [CLI, ...args], { cwd, env: { PATH: process.env.PATH ?? '' } });
  const lines: string[] = [];
  const onData = (d: Buffer): void => {
    lines.push(...d.toString('utf8').split('\n').filter(Boolean));
  };
  proc.stdout.on('data', onData);
  proc.stderr.on('data', onData);
  const exited = new Promise<number | string>((resolve) => proc.on('exit', (code, sig) => resolve(code ?? sig ?? -1)));
  return { exited, lines, kill: () => proc.kill('SIGTERM') };
}

/** The files under `dir` (relative to `work`, `/`-joined, sorted, no dotfiles): the doc_ids ingest sends. */
function docIds(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const name of readdirSync(path.join(work, rel))) {
      if (name.startsWith('.')) continue;
      const child = path.posix.join(rel, name);
      if (statSync(path.join(work, child)).isDirectory()) walk(child);
      else out.push(child);
    }
  };
  walk(dir);
  return out.sort();
}

/** What the index must hold: every chunk of every file as it is now, chunked in-process. */
function expectedChunks(dir: string): string[] {
  const out: string[] = [];
  for (const id of docIds(dir)) {
    const bytes = readFileSync(path.join(work, id));
    const result = chunker.chunk({
      docId: id,
      version: `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
      text: new TextDecoder('utf-8', { fatal: true }).decode(bytes),
      contentType: id.endsWith('.md') ? 'text/markdown' : 'text/plain',
      source: id,
    });
    for (const c of result.chunks) out.push(`${c.doc_id} ${c.doc_version} ${c.chunk_index} ${c.chunk_id}`);
  }
  return out.sort();
}

function indexedChunks(db: string): string[] {
  const store = IndexStore.open(db, { readonly: true });
  try {
    return store
      .visibleChunks()
      .map((c) => `${c.docId} ${c.docVersion} ${c.chunkIndex} ${c.chunkId}`)
      .sort();
  } finally {
    store.close();
  }
}

async function indexer(topics: Topics, db: string, groupId: string): Promise<RunningIndexer> {
  const running = await startIndexer(
    loadIndexerConfig({
      KAFKA_BROKERS: brokers(),
      CHUNKLINE_INDEXER_GROUP_ID: groupId,
      CHUNKLINE_CHUNK_TOPIC: topics.chunks,
      CHUNKLINE_MANIFEST_TOPIC: topics.manifests,
      CHUNKLINE_INDEX_DB: db,
      CHUNKLINE_LOG_LEVEL: 'warn',
    }),
  );
  indexers.push(running);
  await waitFor('the indexer to join its group', () => running.indexer.ready, { maxWaitMs: 60_000 });
  return running;
}

/**
 * Waits until the index holds exactly the expected chunks and nothing pending; returns the milliseconds
 * since `sinceMs`.
 */
async function converged(db: string, dir: string, what: string, sinceMs = Date.now()): Promise<number> {
  const want = expectedChunks(dir);
  let got: string[] = [];
  let elapsedMs = 0;
  try {
    await waitFor(
      what,
      () => {
        got = indexedChunks(db);
        return got.length === want.length && got.every((c, i) => c === want[i]);
      },
      { maxWaitMs: 120_000, intervalMs: 20 },
    );
    elapsedMs = Date.now() - sinceMs;
  } catch (err) {
    expect(got, `${what}: index vs in-process chunks`).toEqual(want);
    throw err;
  }
  const store = IndexStore.open(db, { readonly: true });
  try {
    expect(store.stats()).toMatchObject({
      documents: docIds(dir).length,
      pendingChunks: 0,
      incompleteDocuments: 0,
      chunks: want.length,
    });
  } finally {
    store.close();
  }
  return elapsedMs;
}

describe('ingest → worker → indexer on a real broker', () => {
  it('holds exactly the chunks of the current versions after a shrinking update, a deletion and a restart', async () => {
    const topics = await createTopics(3);
    const docs = path.join(work, 'docs');
    cpSync(path.join(ROOT, 'test', 'fixtures', 'corpus'), docs, { recursive: true });
    writeFileSync(path.join(docs, 'bom.txt'), `\uFEFFA byte-order mark first. ${'Then words. '.repeat(80)}`);
    writeFileSync(path.join(docs, 'empty.txt'), '');
    const db = path.join(work, 'index.db');
    const state = path.join(work, 'state.json');
    const groupId = unique('indexer');
    const ingestArgs = ['ingest', 'docs', '--brokers', brokers(), '--topic', topics.input, '--state', state];

    const w = startWorker(topics);
    workers.push(w);
    await w.ready();
    const first = await indexer(topics, db, groupId);

    const once = runCli([...ingestArgs, '--quiet'], work);
    expect(await once.exited, once.lines.join('\n')).toBe(0);
    expect(once.lines.join('\n')).toMatch(/sent \d+ documents .* failed 0/);
    await converged(db, 'docs', 'the first pass');

    // Search through the CLI: every hit's offsets point at its text in the file.
    const search = runCli(['search', 'license warranty', '--db', db, '--k', '20', '--json'], work);
    expect(await search.exited).toBe(0);
    const hits = search.lines.map((l) => JSON.parse(l) as { verification: string; docId: string });
    expect(hits.length).toBe(20);
    expect(hits.filter((h) => h.verification !== 'verified')).toEqual([]);

    // An update that shrinks the largest document, and a deletion, while `ingest --watch` runs.
    const watch = runCli([...ingestArgs, '--watch', '--quiet'], work);
    await waitFor('the watcher', () => watch.lines.some((l) => l.includes('watching')));
    const ids = docIds('docs');
    const largest = ids.reduce((a, b) =>
      statSync(path.join(work, b)).size > statSync(path.join(work, a)).size ? b : a,
    );
    const removed = ids.find((id) => id !== largest && id.endsWith('.md'))!;
    const text = readFileSync(path.join(work, largest), 'utf8');
    const chunksBefore = expectedChunks('docs').filter((c) => c.startsWith(`${largest} `)).length;
    const changedMs = Date.now();
    writeFileSync(path.join(work, largest), text.slice(0, text.indexOf('\n', text.length / 10) + 1));
    unlinkSync(path.join(work, removed));
    const latencyMs = await converged(db, 'docs', 'the update and the deletion', changedMs);
    const chunksAfter = expectedChunks('docs').filter((c) => c.startsWith(`${largest} `)).length;
    expect(chunksAfter).toBeLessThan(chunksBefore);
    console.log(
      `change → index: ${latencyMs} ms (--watch polls every 1000 ms); ${largest}: ${chunksBefore} → ${chunksAfter} chunks`,
    );
    watch.kill();
    expect(await watch.exited, watch.lines.join('\n')).toBe(0);

    // Stop the indexer, change a file while it is down, start another on the same index and group: it
    // resumes from the committed offsets and converges.
    const consumedBefore = first.indexer.counters.records;
    await first.stop();
    expect(first.indexer.state).toBe('STOPPED');
    const third = ids.find((id) => id !== largest && id !== removed && id.endsWith('.txt'))!;
    writeFileSync(path.join(work, third), 'Rewritten while the indexer was down.\n');
    const again = runCli([...ingestArgs, '--quiet'], work);
    expect(await again.exited).toBe(0);
    expect(again.lines.join('\n')).toMatch(/sent 1 documents .* deleted 0 \| failed 0/);
    const second = await indexer(topics, db, groupId);
    await converged(db, 'docs', 'the restart');
    expect(second.indexer.counters.records).toBeLessThan(consumedBefore);
  });
});
