#!/usr/bin/env node
// Long runs without whitespace: does encode() and chunking stay linear when a "word" is 1 MB long?
// Each case runs in a worker thread with a time limit, so a quadratic case cannot hang the benchmark.
// Run by bench.mjs at the end, or alone: `node test/bench/long-runs.mjs` (after `npm run build`).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

import { benchTable, fmt, table } from './lib/report.mjs';
import { mulberry32 } from '../support/shared.mjs';

const SELF = fileURLToPath(import.meta.url);
const SIZES = [10_000, 100_000, 1_000_000];
const KINDS = ['random', 'repeat'];
const OPS = ['encode', 'window', 'semantic'];
const RESERVED_TOKENS = 2;
const LINEAR_RATIO = 10;
const WARN_RATIO = 30;
// Small cases repeat until this much time is measured (at most MAX_REPS runs), and report the mean.
const MIN_TIMED_SECONDS = 0.5;
const MAX_REPS = 1000;

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/**
 * `size` ASCII characters (= bytes) with no whitespace: 'random' is base64-like letters, digits, '+'
 * and '/' from a fixed seed; 'repeat' is one letter repeated.
 */
export function makeRun(kind, size) {
  if (kind === 'repeat') return 'a'.repeat(size);
  if (kind !== 'random') throw new Error(`unknown run kind ${kind}`);
  const rnd = mulberry32(0x5eed);
  const out = new Array(size);
  for (let i = 0; i < size; i++) out[i] = BASE64[Math.floor(rnd() * 64)];
  return out.join('');
}

const sizeLabel = (n) => (n >= 1e6 ? `${n / 1e6}MB` : `${n / 1e3}KB`);

// ---------------------------------------------------------------- worker side
async function workerMain() {
  const { loadTokenizer } = await import('@chunkline/tokenizers');
  const { createChunker } = await import('@chunkline/chunking');
  const toks = new Map();
  const getTok = async (name) => {
    if (!toks.has(name)) toks.set(name, await loadTokenizer(name));
    return toks.get(name);
  };
  parentPort.on('message', async (c) => {
    try {
      const tok = await getTok(c.tokenizer);
      let fn;
      if (c.op === 'encode') {
        fn = (text) => {
          const e = tok.encode(text);
          return { tokens: e.ids.length };
        };
      } else {
        const chunker = createChunker(tok, {
          strategy: c.op,
          maxTokens: c.maxTokens,
          overlapTokens: 0,
          reservedTokens: RESERVED_TOKENS,
        });
        fn = (text) => {
          const r = chunker.chunk({ docId: `long-${c.kind}-${c.size}`, text, contentType: 'text/plain' });
          return { chunks: r.chunks.length, overCapGraphemes: r.overCapGraphemes };
        };
      }
      fn(makeRun(c.kind, 1000)); // warm-up
      const text = makeRun(c.kind, c.size);
      let reps = 0;
      let ms = 0;
      let out;
      do {
        // The fast encoders cache pieces; every repetition starts with an empty cache, so that a small
        // case repeated many times is not measured warm against a large case measured once.
        tok.clearCache?.();
        const t0 = performance.now();
        out = fn(text);
        ms += performance.now() - t0;
        reps += 1;
      } while (ms < MIN_TIMED_SECONDS * 1000 && reps < MAX_REPS);
      parentPort.postMessage({ ok: true, seconds: ms / 1000 / reps, reps, ...out });
    } catch (err) {
      parentPort.postMessage({ ok: false, error: String(err?.message ?? err), stack: String(err?.stack ?? err) });
    }
  });
  parentPort.postMessage({ ready: true });
}

// ---------------------------------------------------------------- main side
class CaseRunner {
  constructor(timeoutS) {
    this.timeoutS = timeoutS;
    this.worker = null;
    this.ready = null;
  }

  start() {
    this.worker = new Worker(SELF, { workerData: { chunklineLongRuns: true } });
    this.ready = new Promise((resolve, reject) => {
      const onMsg = (m) => {
        if (m?.ready) {
          this.worker.off('message', onMsg);
          resolve();
        }
      };
      this.worker.on('message', onMsg);
      this.worker.once('error', reject);
    });
    return this.ready;
  }

  /** Runs one case; resolves with the worker's answer, or { timedOut } after the time limit. */
  async run(c) {
    if (!this.worker) await this.start();
    const w = this.worker;
    return new Promise((resolve) => {
      let done = false;
      const finish = (r) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        w.off('message', onMsg);
        w.off('error', onErr);
        w.off('exit', onExit);
        resolve(r);
      };
      const onMsg = (m) => finish(m);
      const onErr = (err) => {
        this.worker = null;
        finish({ ok: false, error: String(err?.message ?? err), stack: String(err?.stack ?? err) });
      };
      const onExit = (code) => {
        this.worker = null;
        finish({ ok: false, error: `worker exited with code ${code}` });
      };
      const timer = setTimeout(() => {
        this.worker = null;
        void w.terminate();
        finish({ ok: false, timedOut: true });
      }, this.timeoutS * 1000);
      w.on('message', onMsg);
      w.on('error', onErr);
      w.on('exit', onExit);
      w.postMessage(c);
    });
  }

  async close() {
    if (this.worker) await this.worker.terminate();
    this.worker = null;
  }
}

/**
 * Measures encode(), window and semantic chunking on runs of 10 KB, 100 KB and 1 MB for each
 * tokenizer and kind. A case over `BENCH_LONG_TIMEOUT_S` seconds (default 60) is stopped, and the larger
 * sizes of the same tokenizer, kind and operation are skipped.
 */
export async function runLongRuns({ tokenizers, maxTokens, env = process.env, log = () => {} }) {
  const timeoutS = Number(env.BENCH_LONG_TIMEOUT_S ?? 60);
  if (!Number.isFinite(timeoutS) || timeoutS <= 0) throw new Error(`BENCH_LONG_TIMEOUT_S must be a positive number`);
  const runner = new CaseRunner(timeoutS);
  const results = [];
  const failed = new Set();
  try {
    for (const tokenizer of tokenizers) {
      for (const kind of KINDS) {
        for (const size of SIZES) {
          for (const op of OPS) {
            const key = `${tokenizer}/${kind}/${op}`;
            const base = { tokenizer, kind, size, op };
            if (failed.has(key)) {
              results.push({ ...base, skipped: true });
              continue;
            }
            log(`long run: ${tokenizer} ${kind} ${sizeLabel(size)} ${op}`);
            const r = await runner.run({ ...base, maxTokens });
            if (!r.ok) failed.add(key);
            results.push({
              ...base,
              seconds: r.seconds,
              reps: r.reps,
              tokens: r.tokens,
              chunks: r.chunks,
              overCapGraphemes: r.overCapGraphemes,
              timedOut: r.timedOut,
              error: r.error,
              stack: r.stack,
            });
          }
        }
      }
    }
  } finally {
    await runner.close();
  }
  const ratios = [];
  for (const tokenizer of tokenizers) {
    for (const kind of KINDS) {
      for (const op of OPS) {
        const find = (size) =>
          results.find((r) => r.tokenizer === tokenizer && r.kind === kind && r.op === op && r.size === size);
        const a = find(100_000);
        const b = find(1_000_000);
        let ratio;
        let lowerBound = false;
        if (a?.seconds && b?.seconds) ratio = b.seconds / a.seconds;
        else if (a?.seconds && b?.timedOut) {
          ratio = timeoutS / a.seconds;
          lowerBound = true;
        }
        ratios.push({ tokenizer, kind, op, ratio, lowerBound, warning: ratio !== undefined && ratio > WARN_RATIO });
      }
    }
  }
  return { sizes: SIZES, timeoutS, linearRatio: LINEAR_RATIO, warnRatio: WARN_RATIO, results, ratios };
}

export function printLongRuns(res) {
  const rows = res.results.map((r) => {
    const mb = r.size / 1e6;
    let notes;
    if (r.skipped) notes = 'skipped: a smaller size failed or timed out';
    else if (r.timedOut) notes = `TIMEOUT after ${res.timeoutS} s`;
    else if (r.error) notes = `ERROR: ${r.error}`;
    else if (r.op === 'encode') notes = `${r.tokens} tokens`;
    else notes = `${r.overCapGraphemes ?? 0} over-cap graphemes`;
    if (r.reps > 1) notes += `; mean of ${r.reps} runs`;
    return {
      tokenizer: r.tokenizer,
      what: `long run ${r.kind} ${sizeLabel(r.size)} ${r.op}`,
      mb,
      seconds: r.seconds,
      mbPerS: r.seconds ? mb / r.seconds : undefined,
      chunks: r.chunks,
      notes,
    };
  });
  console.log('long runs without whitespace (random: base64-like, fixed seed; repeat: one letter)');
  console.log(benchTable(rows));
  console.log('');
  console.log(`time ratio 1MB / 100KB (linear ~ ${res.linearRatio}; WARNING above ${res.warnRatio}):`);
  console.log(
    table(res.ratios, [
      ['tokenizer', (r) => r.tokenizer],
      ['run', (r) => r.kind],
      ['op', (r) => r.op],
      ['1MB/100KB', (r) => (r.ratio === undefined ? '-' : `${r.lowerBound ? '>= ' : ''}${fmt(r.ratio, 1)}`), 'right'],
      ['', (r) => (r.warning ? 'WARNING: worse than linear' : '')],
    ]),
  );
  for (const r of res.ratios) {
    if (r.warning) {
      console.log(
        `WARNING: ${r.tokenizer} ${r.kind} ${r.op}: 1MB/100KB time ratio ${r.lowerBound ? '>= ' : ''}${fmt(r.ratio, 1)} (linear ~ ${res.linearRatio})`,
      );
    }
  }
}

if (!isMainThread && workerData?.chunklineLongRuns) {
  await workerMain();
} else if (isMainThread && process.argv[1] && path.resolve(process.argv[1]) === SELF) {
  const env = process.env;
  const tokenizers = (env.BENCH_TOKENIZERS ?? 'bert-base-uncased,qwen3')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const maxTokens = Math.floor(Number(env.BENCH_MAX_TOKENS ?? 512));
  try {
    const res = await runLongRuns({
      tokenizers,
      maxTokens,
      env,
      log: (m) => process.stderr.write(`[long-runs] ${m}\n`),
    });
    printLongRuns(res);
    const outDir = path.resolve(path.dirname(SELF), '..', '..', '.cache', 'bench');
    fs.mkdirSync(outDir, { recursive: true });
    fs.writeFileSync(path.join(outDir, 'long-runs.json'), `${JSON.stringify(res, null, 2)}\n`);
    if (res.results.some((r) => r.error || r.timedOut)) process.exitCode = 1;
  } catch (err) {
    process.stderr.write(`${err?.stack ?? err}\n`);
    process.exitCode = 1;
  }
}
