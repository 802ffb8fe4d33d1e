// 1 vs N threads: documents chunked on the worker-thread pool that `chunkline chunk --threads N` uses
// (the thread code of services/cli/dist/chunk-task.js, one tokenizer per thread, through
// lib/bench-thread.mjs, which adds a task that empties the thread's word cache), in groups of 8 files. As
// in `chunkline chunk DIR --out FILE.jsonl` (through its chunkOnPool), each thread takes the next group
// from a shared counter, reads its files, chunks them, encodes the chunk records as JSON lines, places the
// groups in input order with the other threads and writes them into the output file itself; the main
// thread takes the file summaries a few times a second. The files are
// the benchmark corpus cut into 1-16 KB documents (so that threads share out the work), written to a
// temporary folder first (read from the page cache in the passes).
//
// Two figures per thread count, from `pools` rounds, each with a fresh pool of every count:
// - cold: the first pass of a fresh pool, after each thread chunked the warm-up documents once. This is
//   what a short `chunkline chunk` run sees: every thread is a new V8 isolate that compiles the
//   tokenizer and chunker itself, and V8's optimizing compiler runs on the same two cores as the chunking.
// - steady: after `settle` untimed passes (the optimizing compiler has then compiled what the text
//   needs), `steady` timed passes, each one starting from the same word cache: emptied, then filled by the
//   warm-up documents, which are not among the timed ones. This is a long-running process.
// MB/s is the median of the passes; the speedup the median of the ratios of passes made one after the
// other. The output file of every pass is hashed (after its clock stops): every pass and thread count
// must give the same bytes.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ThreadPool } from '@chunkline/runtime';
import { openRecordWriter } from '../../services/cli/dist/avro-writer.js';
import { chunkOnPool, groupFiles, TASKS_IN_FLIGHT_PER_THREAD } from '../../services/cli/dist/chunk-command.js';
import { createSharedPieceCache } from '@chunkline/tokenizers';

const THREAD_MODULE = pathToFileURL(path.join(import.meta.dirname, 'lib', 'bench-thread.mjs')).href;

/** The median (of an even count, the mean of the two middle values). */
function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * Writes documents as files under `dir`, named so that `chunkline chunk` gives them their content type
 * (.md: Markdown); returns the file tasks' entries, { fsPath, docId }.
 */
function writeFiles(dir, prefix, docs) {
  mkdirSync(path.join(dir, prefix), { recursive: true });
  return docs.map((d, i) => {
    const docId = `${prefix}/${String(i).padStart(6, '0')}${d.contentType === 'text/markdown' ? '.md' : '.txt'}`;
    const fsPath = path.join(dir, docId);
    writeFileSync(fsPath, d.text);
    return { fsPath, docId };
  });
}

/**
 * Chunks `groups` through `pool` into a new JSON Lines file `out` as `chunkline chunk` does (its
 * chunkOnPool: the threads take the groups and write the records themselves, in input order; the main
 * thread takes the file summaries), with TASKS_IN_FLIGHT_PER_THREAD groups in flight per thread; times
 * it (opening and committing the file included) and returns { seconds, hash (of the file, taken after
 * the clock stops), chunks }.
 */
async function timedPass(pool, groups, threads, out) {
  const t0 = performance.now();
  const writer = await openRecordWriter(out, 'chunk');
  let chunks = 0;
  await chunkOnPool(pool, groups, [writer, null, null], threads * TASKS_IN_FLIGHT_PER_THREAD, (_, summaries) => {
    for (const file of summaries) {
      if (!file.ok) throw new Error(`a benchmark file failed: ${file.reason}`);
      chunks += file.chunks;
    }
  });
  await writer.commit();
  const seconds = (performance.now() - t0) / 1000;
  const hash = createHash('sha256').update(readFileSync(out)).digest('hex');
  rmSync(out);
  return { seconds, hash, chunks };
}

/**
 * Times chunking `docs` with each thread count (see the module comment). `warmDocs` should not be among
 * `docs`. Returns { tokenizer, strategy, docs, mb, rows, sameOutput }, one row per count:
 * { threads, cold: { mbPerSecond, passes }, steady: { mbPerSecond, passes }, chunks, hash,
 *   coldSpeedup, steadySpeedup (both against the first count: the median of the ratios of passes made
 *   one after the other), steadyRatios (those ratios, sorted: their spread is the machine's noise) }.
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
  steady = 6,
  log,
}) {
  const bytes = docs.reduce((s, d) => s + d.bytes, 0);
  const dir = mkdtempSync(path.join(tmpdir(), 'chunkline-bench-threads-'));
  try {
    const files = writeFiles(dir, 'timed', docs);
    const warm = { kind: 'files', files: writeFiles(dir, 'warm', warmDocs) };
    const spec = { name, bytes, files, warm, maxTokens, strategy, threadCounts, pools, settle, steady };
    const specPath = path.join(dir, 'spec.json');
    writeFileSync(specPath, JSON.stringify(spec));
    // In a process of its own, as `chunkline chunk` runs: this process holds the corpus and the other
    // parts' results, and its garbage collector's work (on helper threads) would take CPU from two
    // chunking threads, not from one.
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), specPath], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (text) => (stdout += text));
    createInterface({ input: child.stderr }).on('line', (line) => log?.(line));
    const [code, signal] = await once(child, 'close');
    if (code !== 0) throw new Error(`the thread benchmark process failed (exit ${code ?? signal})`);
    return JSON.parse(stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function measure({ name, bytes, files, warm, maxTokens, strategy, threadCounts, pools, settle, steady, log }) {
  const hashes = new Set();
  const runs = threadCounts.map((threads) => ({ threads, cold: [], steady: [], chunks: 0, hash: '' }));
  const groups = groupFiles(files);
  const out = path.join(path.dirname(files[0]?.fsPath ?? tmpdir()), '..', 'out.jsonl');
  const timed = async (run, pool, into) => {
    const r = await timedPass(pool, groups, run.threads, out);
    into?.push(r.seconds);
    hashes.add(r.hash);
    run.chunks = r.chunks;
    run.hash = r.hash;
  };
  // Every round has a fresh pool of each count, all started before the first pass, and the counts take
  // turns pass by pass (1, 2, 1, 2, ...): the passes compared are made one after the other, so that a
  // change in the machine's speed touches every count alike. A pool waiting for its turn sleeps.
  for (let i = 0; i < pools; i++) {
    const started = runs.map((run) => ({
      run,
      pool: new ThreadPool({
        filename: THREAD_MODULE,
        threads: run.threads,
        workerData: {
          tokenizer: name,
          chunkerOptions: { strategy, maxTokens, reservedTokens: 2 },
          verify: false,
          outputs: { chunks: 'jsonl', sections: null, manifests: null },
          // As `chunkline chunk` does: one piece cache for the pool's threads.
          pieceCache: createSharedPieceCache(),
        },
      }),
    }));
    try {
      for (const { pool } of started) await pool.ready({ kind: 'probe' });
      for (const { run, pool } of started) {
        await pool.broadcast(warm);
        await timed(run, pool, run.cold);
      }
      for (let k = 0; k < settle + steady; k++) {
        for (const { run, pool } of started) {
          await pool.broadcast({ kind: 'clear-cache' });
          await pool.broadcast(warm);
          await timed(run, pool, k >= settle ? run.steady : undefined);
        }
      }
    } finally {
      for (const { pool } of started) await pool.close();
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
  const pairedRatios = (base, passes) => passes.map((seconds, k) => base[k] / seconds).sort((a, b) => a - b);
  for (const r of rows) {
    r.coldSpeedup = median(pairedRatios(rows[0].cold.passes, r.cold.passes));
    r.steadyRatios = pairedRatios(rows[0].steady.passes, r.steady.passes);
    r.steadySpeedup = median(r.steadyRatios);
  }
  return { tokenizer: name, strategy, docs: files.length, mb: bytes / 1e6, rows, sameOutput: hashes.size === 1 };
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
    for (const row of r.rows.slice(1)) {
      const ratios = row.steadyRatios;
      console.log(
        `  ${row.threads} threads, steady: the ${ratios.length} paired ratios range from ${ratios[0].toFixed(2)} to ${ratios[ratios.length - 1].toFixed(2)} (quartiles ${ratios[Math.floor(ratios.length / 4)].toFixed(2)} and ${ratios[Math.floor((3 * ratios.length) / 4)].toFixed(2)})`,
      );
    }
    console.log(
      `  same output for every pass and thread count: ${r.sameOutput ? 'yes' : 'NO'} (${r.rows[0]?.chunks} chunks)`,
    );
  }
}

// `node threads.mjs SPEC.json`: the measuring process benchThreads starts; the result as JSON on stdout.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const spec = JSON.parse(readFileSync(process.argv[2], 'utf8'));
  const result = await measure({ ...spec, log: (line) => process.stderr.write(`${line}\n`) });
  process.stdout.write(JSON.stringify(result));
}
