// 1 vs N threads: documents chunked on the worker-thread pool that `chunkline chunk --threads N`
// uses (services/cli/dist/chunk-thread.js, one tokenizer per thread), 8 documents a task, results
// returned to the main thread as records, in order. The documents are the benchmark corpus cut into
// 1-16 KB pieces: threads share out documents, and one 4 MB document (the mixed corpus has one) is
// one thread's work. Each pass gets a fresh pool and the same untimed warm-up on every thread; the
// median of the passes is reported. The chunk ids of every pass are hashed: all thread counts must
// give the same chunks.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ThreadPool } from '@chunkline/runtime';

const repoRoot = path.resolve(import.meta.dirname, '..', '..');
const THREAD_MODULE = pathToFileURL(path.join(repoRoot, 'services', 'cli', 'dist', 'chunk-thread.js')).href;

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

/**
 * Times chunking `docs` with each thread count. Returns one row per count:
 * { threads, seconds (median), mbPerSecond, passes, chunks, hash, speedup (vs the first count) }.
 */
export async function benchThreads({ name, docs, warmDocs, maxTokens, strategy, threadCounts, passes, log }) {
  const bytes = docs.reduce((s, d) => s + d.bytes, 0);
  const rows = [];
  for (const threads of threadCounts) {
    const times = [];
    let result;
    for (let i = 0; i < passes; i++) {
      // A fresh pool each pass: a pass is one run over a corpus, as `chunkline chunk` makes, and each
      // thread's word cache starts from the same warm-up rather than from the previous pass.
      const pool = new ThreadPool({
        filename: THREAD_MODULE,
        threads,
        workerData: { tokenizer: name, chunkerOptions: { strategy, maxTokens, reservedTokens: 2 }, verify: false },
      });
      try {
        await pool.ready({ kind: 'probe' });
        // The same warm-up on every thread (tasks without a key go to the least loaded thread, so one
        // task of all warm-up documents per thread, all submitted at once, gives each thread one).
        await Promise.all(Array.from({ length: threads }, () => pool.run({ kind: 'docs', docs: warmDocs.map(input) })));
        const t0 = performance.now();
        result = await pass(pool, docs, threads * TASKS_IN_FLIGHT_PER_THREAD);
        times.push((performance.now() - t0) / 1000);
      } finally {
        await pool.close();
      }
    }
    const seconds = median(times);
    rows.push({ threads, seconds, mbPerSecond: bytes / 1e6 / seconds, passes: times, ...result });
    log?.(`threads: ${name} ${strategy} ${threads} thread(s): ${(bytes / 1e6 / seconds).toFixed(2)} MB/s`);
  }
  for (const r of rows) r.speedup = r.mbPerSecond / rows[0].mbPerSecond;
  return {
    tokenizer: name,
    strategy,
    docs: docs.length,
    mb: bytes / 1e6,
    rows,
    sameChunks: new Set(rows.map((r) => r.hash)).size === 1,
  };
}

export function printThreads(results) {
  console.log('tokenizer          strategy   threads  MB/s    speedup  passes (s)');
  for (const r of results) {
    for (const row of r.rows) {
      console.log(
        `${r.tokenizer.padEnd(18)} ${r.strategy.padEnd(10)} ${String(row.threads).padStart(7)}  ${row.mbPerSecond
          .toFixed(2)
          .padStart(6)}  ${row.speedup.toFixed(2).padStart(6)}x  ${row.passes.map((s) => s.toFixed(2)).join(' ')}`,
      );
    }
    console.log(
      `  same chunk ids for every thread count: ${r.sameChunks ? 'yes' : 'NO'} (${r.rows[0]?.chunks} chunks)`,
    );
  }
}
