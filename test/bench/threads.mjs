// 1 vs N threads: documents chunked on the worker-thread pool that `chunkline chunk --threads N` uses
// (the thread code of services/cli/dist/chunk-task.js, one tokenizer per thread, through
// lib/bench-thread.mjs, which adds a task that empties the thread's word cache), 8 documents a task,
// results returned to the main thread as records, in order. The documents are the benchmark corpus cut
// into 1-16 KB pieces, so that threads share out the work.
//
// Two figures per thread count, from `pools` fresh pools:
// - cold: the first pass of a fresh pool, after each thread chunked the warm-up documents once. This is
//   what a short `chunkline chunk` run sees: every thread is a new V8 isolate that compiles the
//   tokenizer and chunker itself, and V8's optimizing compiler runs on the same two cores as the chunking.
// - steady: after `settle` untimed passes (the optimizing compiler has then compiled what the text
//   needs), `steady` timed passes, each one starting from the same word cache: emptied, then filled by the
//   warm-up documents, which are not among the timed ones. This is a long-running streaming worker.
// The median of each is reported. The chunk ids of every pass are hashed: every pass and thread count
// must give the same chunks.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ThreadPool } from '@chunkline/runtime';

const THREAD_MODULE = pathToFileURL(path.join(import.meta.dirname, 'lib', 'bench-thread.mjs')).href;

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Documents per task and tasks in flight per thread, as `chunkline chunk` groups files. */
const DOCS_PER_TASK = 8;
const TASKS_IN_FLIGHT_PER_THREAD = 4;

const input = (d) => ({ docId: d.docId ?? d.id, text: d.text, contentType: d.contentType });

/** Chunks `docs` through `pool` with `window` tasks in flight, in order; resolves with the id hash. */
async function pass(pool, docs, window) {
  const hash = createHash('sha256');
  const inFlight = [];
  let next = 0;
  const fill = () => {
    while (inFlight.length < window && next < docs.length) {
      inFlight.push(pool.run({ kind: 'docs', docs: docs.slice(next, next + DOCS_PER_TASK).map(input) }));
      next += DOCS_PER_TASK;
    }
  };
  fill();
  let chunks = 0;
  while (inFlight.length > 0) {
    const reply = await inFlight.shift();
    fill();
    for (const result of reply.results) {
      for (const c of result.chunks) hash.update(c.chunk_id);
      chunks += result.chunks.length;
    }
  }
  return { hash: hash.digest('hex'), chunks };
}

/** Times one pass; returns { seconds, hash, chunks }. */
async function timedPass(pool, docs, threads) {
  const t0 = performance.now();
  const r = await pass(pool, docs, threads * TASKS_IN_FLIGHT_PER_THREAD);
  return { seconds: (performance.now() - t0) / 1000, ...r };
}

/**
 * Times chunking `docs` with each thread count (see the module comment). `warmDocs` should not be among
 * `docs`. Returns { tokenizer, strategy, docs, mb, rows, sameChunks }, one row per count:
 * { threads, cold: { mbPerSecond, passes }, steady: { mbPerSecond, passes }, chunks, hash,
 *   coldSpeedup, steadySpeedup (both against the first count) }.
 */
export async function benchThreads({
  name,
  docs,
  warmDocs,
  maxTokens,
  strategy,
  threadCounts,
  pools = 3,
  settle = 3,
  steady = 3,
  log,
}) {
  const bytes = docs.reduce((s, d) => s + d.bytes, 0);
  const warm = { kind: 'docs', docs: warmDocs.map(input) };
  const hashes = new Set();
  const runs = threadCounts.map((threads) => ({ threads, cold: [], steady: [], chunks: 0, hash: '' }));
  // Pools of the thread counts take turns (1, 2, 1, 2, ...), so that a change in the machine's speed
  // during the benchmark touches every count alike.
  for (let i = 0; i < pools; i++) {
    for (const run of runs) {
      const threads = run.threads;
      const pool = new ThreadPool({
        filename: THREAD_MODULE,
        threads,
        workerData: { tokenizer: name, chunkerOptions: { strategy, maxTokens, reservedTokens: 2 }, verify: false },
      });
      try {
        await pool.ready({ kind: 'probe' });
        await pool.broadcast(warm);
        const first = await timedPass(pool, docs, threads);
        run.cold.push(first.seconds);
        hashes.add(first.hash);
        for (let k = 0; k < settle + steady; k++) {
          await pool.broadcast({ kind: 'clear-cache' });
          await pool.broadcast(warm);
          const r = await timedPass(pool, docs, threads);
          if (k >= settle) run.steady.push(r.seconds);
          hashes.add(r.hash);
          run.chunks = r.chunks;
          run.hash = r.hash;
        }
      } finally {
        await pool.close();
      }
    }
  }
  const rows = runs.map((run) => ({
    threads: run.threads,
    cold: { mbPerSecond: bytes / 1e6 / median(run.cold), passes: run.cold },
    steady: { mbPerSecond: bytes / 1e6 / median(run.steady), passes: run.steady },
    chunks: run.chunks,
    hash: run.hash,
  }));
  for (const row of rows) {
    log?.(
      `threads: ${name} ${strategy} ${row.threads} thread(s): cold ${row.cold.mbPerSecond.toFixed(2)} MB/s, steady ${row.steady.mbPerSecond.toFixed(2)} MB/s`,
    );
  }
  for (const r of rows) {
    r.coldSpeedup = r.cold.mbPerSecond / rows[0].cold.mbPerSecond;
    r.steadySpeedup = r.steady.mbPerSecond / rows[0].steady.mbPerSecond;
  }
  return { tokenizer: name, strategy, docs: docs.length, mb: bytes / 1e6, rows, sameChunks: hashes.size === 1 };
}

export function printThreads(results) {
  console.log(
    'tokenizer          strategy   threads  steady MB/s  speedup  cold MB/s  speedup  steady passes (s) | cold passes (s)',
  );
  for (const r of results) {
    for (const row of r.rows) {
      console.log(
        `${r.tokenizer.padEnd(18)} ${r.strategy.padEnd(10)} ${String(row.threads).padStart(7)}  ${row.steady.mbPerSecond
          .toFixed(2)
          .padStart(11)}  ${row.steadySpeedup.toFixed(2).padStart(6)}x  ${row.cold.mbPerSecond
          .toFixed(2)
          .padStart(9)}  ${row.coldSpeedup.toFixed(2).padStart(6)}x  ${row.steady.passes
          .map((s) => s.toFixed(2))
          .join(' ')} | ${row.cold.passes.map((s) => s.toFixed(2)).join(' ')}`,
      );
    }
    console.log(
      `  same chunk ids for every pass and thread count: ${r.sameChunks ? 'yes' : 'NO'} (${r.rows[0]?.chunks} chunks)`,
    );
  }
}
