#!/usr/bin/env node
// chunkline throughput benchmark: tokenize-only vs tokenize-with-offsets vs window and semantic
// chunking, with the same tokenizer and the same texts, plus LangChain and Chonkie as peers.
// Run from the repo root with `npm run bench` (builds first). See test/bench/README.md.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';

import { checkChunkline, describeCheckAcc, hashIds, newCheckAcc } from './lib/checks.mjs';
import { describeDocs, ensureCorpus, listCorpusFiles, loadDocs, subsetDocs } from './lib/corpus.mjs';
import { makeChonkie, makeLangchain, measurePeer } from './lib/peers.mjs';
import { benchTable, fmt } from './lib/report.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..');
const RESERVED_TOKENS = 2;
const SEMANTIC_OFFSETS_TARGET = 0.85;

const log = (msg) => process.stderr.write(`[bench] ${msg}\n`);

function positiveNumber(env, name, dflt) {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, not '${raw}'`);
  return n;
}

/** '0': no checks; '1' (default): own checks everywhere, package verifier on the subset; 'full': both everywhere. */
function verifyMode(raw) {
  const v = raw === undefined || raw === '' ? '1' : raw;
  if (!['0', '1', 'full'].includes(v)) throw new Error(`BENCH_VERIFY must be 0, 1 or full, not '${raw}'`);
  return v;
}

function readConfig(env) {
  const maxTokens = Math.floor(positiveNumber(env, 'BENCH_MAX_TOKENS', 512));
  if (maxTokens <= RESERVED_TOKENS) throw new Error(`BENCH_MAX_TOKENS must be > ${RESERVED_TOKENS}`);
  return {
    mb: positiveNumber(env, 'BENCH_MB', 10),
    peerMb: positiveNumber(env, 'BENCH_PEER_MB', 2),
    warmupMb: env.BENCH_WARMUP_MB === '0' ? 0 : positiveNumber(env, 'BENCH_WARMUP_MB', 0.5),
    maxTokens,
    tokenizers: (env.BENCH_TOKENIZERS ?? 'bert-base-uncased,qwen3')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    order: env.BENCH_ORDER ?? 'mixed',
    peers: (env.BENCH_PEERS ?? 'langchain,chonkie')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s && s !== 'none'),
    verify: verifyMode(env.BENCH_VERIFY),
    peerCounts: (env.BENCH_PEER_COUNTS ?? 'transformers.js,chunkline')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s === 'transformers.js' || s === 'chunkline'),
    longRuns: env.BENCH_LONG_RUNS !== '0',
    fast: env.BENCH_FAST !== '0',
    threads: (env.BENCH_THREADS ?? '1,2')
      .split(',')
      .map((s) => Number(s.trim()))
      .filter((n) => Number.isInteger(n) && n > 0),
    e2e: env.BENCH_E2E !== '0',
    e2eMb: positiveNumber(env, 'E2E_MB', 40),
  };
}

/**
 * A full garbage collection between measurements, so that one measurement's garbage is not collected on
 * the next one's clock. `npm run bench` runs plain `node`, so --expose-gc is turned on here.
 */
const gc = (() => {
  if (typeof globalThis.gc === 'function') return globalThis.gc;
  try {
    v8.setFlagsFromString('--expose-gc');
    const fn = vm.runInNewContext('gc');
    if (typeof fn === 'function') return fn;
  } catch {
    // Not available: measurements just run without a forced collection in between.
  }
  return () => {};
})();

/**
 * Times `fn(doc)` over every document, one call at a time, so that the checks in `after(doc, result)`
 * stay outside the timed region. Warms `fn` up once on `warmDoc` first.
 */
function timeDocs(docs, warmDoc, fn, after) {
  fn(warmDoc);
  gc();
  let ms = 0;
  let bytes = 0;
  for (const doc of docs) {
    const t0 = performance.now();
    const result = fn(doc);
    ms += performance.now() - t0;
    bytes += doc.bytes;
    if (after) after(doc, result);
  }
  return { seconds: ms / 1000, bytes };
}

function row(tokenizer, what, t, extra = {}) {
  return { tokenizer, what, mb: t.bytes / 1e6, seconds: t.seconds, mbPerS: t.bytes / 1e6 / t.seconds, ...extra };
}

function pickWarmDoc(docs) {
  const small = docs.find((d) => d.bytes >= 2000 && d.bytes <= 20000);
  if (small) return small;
  const d = docs[0];
  const text = d.text.slice(0, 5000);
  return { docId: `${d.docId}#warmup`, text, contentType: d.contentType, bytes: Buffer.byteLength(text, 'utf8') };
}

/**
 * A decoder for Chonkie's last level: the tokenizer's own decode if it has one, else transformers.js's
 * tokenizer class named in tokenizer_config.json, built from the directory the tokenizer was loaded from.
 */
async function makeDecoder(tok, name) {
  if (typeof tok.decode === 'function') return { decode: (ids) => tok.decode(ids), how: 'tok.decode' };
  let dir = tok.dir;
  if (!dir) {
    dir =
      fs.existsSync(name) && fs.statSync(name).isDirectory()
        ? path.resolve(name)
        : path.join(repoRoot, 'packages', 'tokenizers', 'assets', name);
  }
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer.json'), 'utf8'));
  const configPath = path.join(dir, 'tokenizer_config.json');
  const config = fs.existsSync(configPath) ? JSON.parse(fs.readFileSync(configPath, 'utf8')) : {};
  const transformers = await import('@huggingface/transformers');
  const Cls = transformers[config.tokenizer_class] ?? transformers.PreTrainedTokenizer;
  const hf = new Cls(json, config);
  return {
    decode: (ids) => hf.decode(ids, { skip_special_tokens: true }),
    how: `decode: transformers.js ${Cls.name || 'PreTrainedTokenizer'}`,
  };
}

/**
 * Records a measurement that threw: pushed to `errors` (the JSON report's "errors"), its stack on
 * stderr. Returns the entry.
 */
function failure(errors, tokenizer, what, err) {
  const e = { tokenizer, what, message: String(err?.message ?? err), stack: String(err?.stack ?? err) };
  errors.push(e);
  log(`ERROR in ${tokenizer === '-' ? '' : `${tokenizer} `}${what}:\n${e.stack}`);
  return e;
}

async function benchTokenizer(name, ctx) {
  const { cfg, docs, peerDocs, warmDoc, loadTokenizer, createChunker, verifyChunks, rows, errors } = ctx;
  const t0 = performance.now();
  const tok = await loadTokenizer(name);
  const loadSeconds = (performance.now() - t0) / 1000;
  const label = tok.id ?? name;
  log(`${label}: tokenizer loaded in ${fmt(loadSeconds)} s`);
  const result = { name, id: label, loadSeconds, measurements: {} };
  const opts = { maxTokens: cfg.maxTokens, reservedTokens: RESERVED_TOKENS };

  // JIT warm-up of the tokenizer itself (untimed), on about BENCH_WARMUP_MB of the corpus: one 12 KB
  // document is not enough, and without it the first row (tokenize-only, the baseline) pays for
  // compiling the tokenizer's code, about 15% with qwen3.
  const warmSet = subsetDocs(docs, cfg.warmupMb * 1e6);
  for (const d of warmSet) {
    tok.encodeBaseline(d.text);
    tok.encode(d.text);
  }
  const warmMb = warmSet.reduce((s, d) => s + d.bytes, 0) / 1e6;
  log(`${label}: warmed up encodeBaseline and encode on ${fmt(warmMb)} MB (untimed)`);
  result.warmupMb = warmMb;

  const attempt = async (key, what, fn) => {
    log(`${label}: ${what}`);
    try {
      const r = await fn();
      rows.push(r);
      result.measurements[key] = r;
      return r;
    } catch (err) {
      const e = failure(errors, label, what, err);
      rows.push({ tokenizer: label, what, notes: `ERROR: ${e.message}` });
      return undefined;
    } finally {
      gc();
    }
  };

  // 1. tokenize-only: plain transformers.js ids, no offsets.
  const baseline = new Map();
  let baseTokens = 0;
  await attempt('tokenizeOnly', 'tokenize-only (encodeBaseline)', async () => {
    const t = timeDocs(
      docs,
      warmDoc,
      (d) => tok.encodeBaseline(d.text),
      (d, ids) => {
        baseTokens += ids.length;
        baseline.set(d.docId, { n: ids.length, h: hashIds(ids) });
      },
    );
    return row(label, 'tokenize-only (encodeBaseline)', t, { tokens: baseTokens, notes: `${baseTokens} tokens` });
  });

  // 2. tokenize with per-token UTF-16 offsets; the ids must equal the baseline's.
  await attempt('tokenizeWithOffsets', 'tokenize-with-offsets (encode)', async () => {
    let tokens = 0;
    let idMismatch = 0;
    let badOffsets = 0;
    const t = timeDocs(
      docs,
      warmDoc,
      (d) => tok.encode(d.text),
      (d, enc) => {
        const n = enc.ids.length;
        tokens += n;
        const b = baseline.get(d.docId);
        if (b && (b.n !== n || b.h !== hashIds(enc.ids))) idMismatch += 1;
        let prev = 0;
        for (let i = 0; i < n; i++) {
          const s = enc.start16[i];
          const e = enc.end16[i];
          if (s < prev || e < s || e > d.text.length) {
            badOffsets += 1;
            break;
          }
          prev = s;
        }
      },
    );
    const notes = [`${tokens} tokens`];
    if (baseline.size) notes.push(`${idMismatch} docs with ids != encodeBaseline`);
    notes.push(`${badOffsets} docs with offsets out of order or range`);
    return row(label, 'tokenize-with-offsets (encode)', t, { tokens, idMismatch, badOffsets, notes: notes.join(', ') });
  });

  // 3. chunkline's own strategies over every document, with checks outside the timed region.
  // `useVerifier`: also run the package's own G1-G6 verifier (verifyChunks), which re-tokenizes the
  // document and every chunk; it is slow, so by default only on the peer subset.
  const chunkWith = (strategy, set, what, useVerifier) => async () => {
    const chunker = createChunker(tok, {
      strategy,
      maxTokens: cfg.maxTokens,
      overlapTokens: 0,
      reservedTokens: RESERVED_TOKENS,
    });
    let chunks = 0;
    let overCapGraphemes = 0;
    const acc = newCheckAcc();
    const recount = (text) => tok.count(text);
    const limits = { maxTokens: cfg.maxTokens, reservedTokens: RESERVED_TOKENS, overlapTokens: 0 };
    let verifierViolations = 0;
    const verifierExamples = [];
    const t = timeDocs(
      set,
      warmDoc,
      (d) => chunker.chunk({ docId: d.docId, text: d.text, contentType: d.contentType }),
      (d, r) => {
        chunks += r.chunks.length;
        overCapGraphemes += r.overCapGraphemes ?? 0;
        if (cfg.verify !== '0') checkChunkline(d, r, { ...opts, recount }, acc);
        if (useVerifier) {
          const v = verifyChunks(tok, d, r, limits);
          verifierViolations += v.length;
          for (const m of v.slice(0, 5 - verifierExamples.length)) verifierExamples.push(`${d.docId}: ${m}`);
        }
      },
    );
    const notes = [];
    if (cfg.verify !== '0') notes.push(describeCheckAcc(acc, true));
    notes.push(`${overCapGraphemes} over-cap graphemes`);
    if (useVerifier) notes.push(`verifyChunks: ${verifierViolations} violations`);
    const extra = { chunks, overCapGraphemes, notes: notes.join(', ') };
    if (cfg.verify !== '0') extra.checks = acc;
    if (useVerifier) extra.verifier = { violations: verifierViolations, examples: verifierExamples };
    return row(label, what, t, extra);
  };
  const verifyAll = cfg.verify === 'full';
  const verifySubset = cfg.verify !== '0';
  await attempt('window', 'window chunking', chunkWith('window', docs, 'window chunking', verifyAll));
  await attempt('semantic', 'semantic chunking', chunkWith('semantic', docs, 'semantic chunking', verifyAll));

  // 4. Peers on the subset, next to chunkline on the same subset.
  if (cfg.peers.length > 0) {
    const peerMb = fmt(peerDocs.reduce((s, d) => s + d.bytes, 0) / 1e6);
    const tag = `[peer subset ${peerMb} MB]`;
    await attempt(
      'subsetWindow',
      `window chunking ${tag}`,
      chunkWith('window', peerDocs, `window chunking ${tag}`, verifySubset),
    );
    await attempt(
      'subsetSemantic',
      `semantic chunking ${tag}`,
      chunkWith('semantic', peerDocs, `semantic chunking ${tag}`, verifySubset),
    );
    // How a peer counts tokens: `transformers.js` (the tokenizer as the Hugging Face library gives it,
    // ids only: what a LangChain or Chonkie user plugs in) or `chunkline` (our fast encoder's count).
    const counters = {
      'transformers.js': (t) => tok.encodeBaseline(t).length,
      chunkline: (t) => tok.count(t),
    };
    for (const counter of cfg.peerCounts) {
      const count = counters[counter];
      const how = `count: ${counter}`;
      if (cfg.peers.includes('langchain')) {
        await attempt(`langchain-${counter}`, `langchain ${tag} (${how})`, async () => {
          const peer = await makeLangchain(tok, opts, count);
          const r = await measurePeer(peer, peerDocs, tok, opts, warmDoc);
          return { tokenizer: label, ...r, what: `${r.what} ${tag} (${how})`, mbPerS: r.mb / r.seconds };
        });
      }
      if (cfg.peers.includes('chonkie')) {
        await attempt(`chonkie-${counter}`, `chonkie ${tag} (${how})`, async () => {
          const dec = await makeDecoder(tok, name);
          const peer = await makeChonkie(tok, dec.decode, opts, count);
          const r = await measurePeer(peer, peerDocs, tok, opts, warmDoc);
          return {
            tokenizer: label,
            ...r,
            what: `${r.what} ${tag} (${how})`,
            mbPerS: r.mb / r.seconds,
            notes: `${r.notes}; custom tokenizer (countTokens: ${counter}, encode: tok.encodeBaseline, ${dec.how})`,
          };
        });
      }
    }
  }

  const m = result.measurements;
  const ratio = (a, b) => (m[a] && m[b] ? m[a].mbPerS / m[b].mbPerS : undefined);
  result.ratios = {
    semanticOverTokenizeOnly: ratio('semantic', 'tokenizeOnly'),
    semanticOverOffsets: ratio('semantic', 'tokenizeWithOffsets'),
    windowOverTokenizeOnly: ratio('window', 'tokenizeOnly'),
    windowOverOffsets: ratio('window', 'tokenizeWithOffsets'),
    offsetsOverTokenizeOnly: ratio('tokenizeWithOffsets', 'tokenizeOnly'),
  };
  return result;
}

function memorySnapshot() {
  const mu = process.memoryUsage();
  return {
    peakRssMB: (process.resourceUsage().maxRSS * 1024) / 1e6,
    rssMB: mu.rss / 1e6,
    heapUsedMB: mu.heapUsed / 1e6,
    heapTotalMB: mu.heapTotal / 1e6,
  };
}

/**
 * Warm-up documents for the thread benchmark that are not among the timed ones: about BENCH_WARMUP_MB
 * (at least 1 MB) of the files that come after the benchmark's in the corpus, cut like the timed ones.
 * Falls back to a part of the timed documents when the corpus has nothing more (it is then said).
 */
function threadWarmDocs(corpusDir, docs, cfg, cutDocs) {
  const mb = Math.max(1, cfg.warmupMb);
  const taken = new Set(docs.map((d) => d.docId));
  const more = loadDocs(corpusDir, listCorpusFiles(corpusDir), (cfg.mb + mb) * 1e6, cfg.order).filter(
    (d) => !taken.has(d.docId),
  );
  if (more.length > 0) return cutDocs(more, mb * 1e6);
  console.log('  note: no corpus files beyond the timed ones; the thread warm-up reuses some of them');
  return cutDocs(subsetDocs(docs, mb * 1e6), mb * 1e6);
}

/** The throughput targets of issue 9, checked against this run's figures. */
function throughputTargets({ rows, fast, threads, e2e }) {
  const out = [];
  for (const r of fast ?? []) {
    const x = r.ratios.fastColdOverBaseline;
    out.push({
      what: `${r.name}: fast encoder (1st pass, empty word cache) / transformers.js tokenize-only, ids and offsets identical (${r.mismatches} mismatching docs)`,
      value: `${fmt(x)}x`,
      target: '>= 3x, 0 mismatches',
      ok: x >= 3 && r.mismatches === 0,
    });
  }
  for (const name of new Set(rows.map((r) => r.tokenizer))) {
    const mine = rows.filter((r) => r.tokenizer === name && r.mbPerS !== undefined);
    const ours = mine.find((r) => r.what.startsWith('semantic chunking [peer subset'));
    if (ours === undefined) continue;
    for (const counter of ['transformers.js', 'chunkline']) {
      const peers = mine.filter((r) => /^(langchain|chonkie)/.test(r.what) && r.what.endsWith(`(count: ${counter})`));
      if (peers.length === 0) continue;
      const best = peers.reduce((a, b) => (b.mbPerS > a.mbPerS ? b : a));
      const x = ours.mbPerS / best.mbPerS;
      out.push({
        what:
          `${name}: semantic chunking, one thread / fastest peer (${best.what.split(' ')[0]}, counting with ${counter})` +
          (counter === 'chunkline' ? ' [not the target: the peer uses our fast encoder]' : ''),
        value: `${fmt(x)}x (${fmt(ours.mbPerS)} vs ${fmt(best.mbPerS)} MB/s)`,
        target: counter === 'chunkline' ? 'for information' : '>= 2x',
        ok: counter === 'chunkline' ? true : x >= 2,
        info: counter === 'chunkline',
      });
    }
  }
  for (const r of threads ?? []) {
    const two = r.rows.find((x) => x.threads === 2);
    if (two === undefined) continue;
    const one = r.rows[0];
    out.push({
      what: `${r.tokenizer}: semantic chunking to JSON lines, 2 threads / 1 thread (steady state)`,
      value: `${fmt(two.steadySpeedup)}x (${fmt(two.steady.mbPerSecond)} vs ${fmt(one.steady.mbPerSecond)} MB/s)`,
      target: '>= 1.8x',
      ok: two.steadySpeedup >= 1.8,
    });
    out.push({
      what: `${r.tokenizer}: semantic chunking to JSON lines, 2 threads / 1 thread (cold: first pass of fresh threads)`,
      value: `${fmt(two.coldSpeedup)}x (${fmt(two.cold.mbPerSecond)} vs ${fmt(one.cold.mbPerSecond)} MB/s)`,
      target: 'for information',
      ok: true,
      info: true,
    });
  }
  for (const m of e2e?.modes ?? []) {
    out.push({
      what: `end to end through the broker (${m.delivery}, sustained) / in-process one thread`,
      value: `${fmt(m.ratio)}x (${fmt(m.sustainedMbPerSecond)} vs ${fmt(e2e.inProcess.mbPerSecond)} MB/s)`,
      target: '>= 0.8x',
      ok: m.ratio >= 0.8,
    });
  }
  return out;
}

async function main() {
  const cfg = readConfig(process.env);
  const started = performance.now();
  const corpusDir = ensureCorpus(repoRoot, process.env, log);
  const docs = loadDocs(corpusDir, listCorpusFiles(corpusDir), cfg.mb * 1e6, cfg.order);
  if (docs.length === 0) throw new Error(`no files in the corpus at ${corpusDir}`);
  const totalBytes = docs.reduce((s, d) => s + d.bytes, 0);
  const peerDocs = subsetDocs(docs, cfg.peerMb * 1e6);
  const peerBytes = peerDocs.reduce((s, d) => s + d.bytes, 0);
  const warmDoc = pickWarmDoc(docs);

  console.log(`chunkline benchmark  node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}`);
  console.log(
    `corpus: ${docs.length} files, ${fmt(totalBytes / 1e6)} MB of UTF-8 text from ${path.relative(repoRoot, corpusDir) || corpusDir} (order: ${cfg.order})`,
  );
  if (totalBytes < cfg.mb * 1e6) console.log(`  note: the corpus has less than BENCH_MB=${cfg.mb} MB; using all of it`);
  console.log(
    `  ${describeDocs(docs)
      .map((g) => `${g.folder} ${g.files} files ${fmt(g.mb)} MB`)
      .join('; ')}`,
  );
  if (cfg.peers.length > 0) console.log(`peer subset: ${peerDocs.length} files, ${fmt(peerBytes / 1e6)} MB`);
  console.log(
    `warm-up doc: ${warmDoc.docId} (${warmDoc.bytes} bytes); maxTokens ${cfg.maxTokens}, overlap 0, reserved ${RESERVED_TOKENS}`,
  );
  console.log('');

  let loadTokenizer;
  let createChunker;
  let verifyChunks;
  try {
    ({ loadTokenizer } = await import('@chunkline/tokenizers'));
    ({ createChunker, verifyChunks } = await import('@chunkline/chunking'));
  } catch (err) {
    throw new Error(
      `cannot load @chunkline/tokenizers or @chunkline/chunking (run \`npm run build\` first): ${err?.message ?? err}`,
      {
        cause: err,
      },
    );
  }

  const rows = [];
  const errors = [];
  const tokenizers = [];
  const ctx = { cfg, docs, peerDocs, warmDoc, loadTokenizer, createChunker, verifyChunks, rows, errors };
  for (const name of cfg.tokenizers) {
    try {
      tokenizers.push(await benchTokenizer(name, ctx));
    } catch (err) {
      const e = failure(errors, name, 'load', err);
      rows.push({ tokenizer: name, what: 'loadTokenizer', notes: `ERROR: ${e.message}` });
    }
    gc();
  }
  const memory = memorySnapshot();

  console.log(benchTable(rows));
  console.log('');
  for (const t of tokenizers) {
    const r = t.ratios;
    console.log(
      `${t.id}: semantic/tokenize-only ${fmt(r.semanticOverTokenizeOnly)}, semantic/offsets ${fmt(r.semanticOverOffsets)}, ` +
        `window/tokenize-only ${fmt(r.windowOverTokenizeOnly)}, window/offsets ${fmt(r.windowOverOffsets)}, ` +
        `offsets/tokenize-only ${fmt(r.offsetsOverTokenizeOnly)}`,
    );
  }
  for (const t of tokenizers) {
    const x = t.ratios.semanticOverOffsets;
    const below = x !== undefined && x < SEMANTIC_OFFSETS_TARGET ? '  BELOW TARGET' : '';
    console.log(`semantic/offsets ratio: ${fmt(x)} (target >= ${SEMANTIC_OFFSETS_TARGET}) for ${t.id}${below}`);
  }
  console.log(
    `memory: peak RSS ${fmt(memory.peakRssMB, 1)} MB, heap used ${fmt(memory.heapUsedMB, 1)} MB (of ${fmt(memory.heapTotalMB, 1)} MB), after all corpus measurements`,
  );

  let fast;
  if (cfg.fast) {
    console.log('');
    const { benchFast, printFast } = await import('./fast.mjs');
    fast = [];
    for (const t of tokenizers) {
      try {
        const r = await benchFast({ name: t.name, docs, maxTokens: cfg.maxTokens, gc, log });
        fast.push(r);
        if (r.mismatches > 0) {
          errors.push({
            tokenizer: t.id,
            what: 'fast encoder',
            message: `${r.mismatches} docs where the fast encoder differs (first: ${r.firstMismatch})`,
            stack: '',
          });
        }
      } catch (err) {
        failure(errors, t.id, 'fast encoder', err);
      }
      gc();
    }
    console.log(`fast encoders vs transformers.js on the same ${fmt(totalBytes / 1e6)} MB (see test/bench/fast.mjs):`);
    printFast(fast);
  }

  let longRuns;
  if (cfg.longRuns) {
    console.log('');
    const { runLongRuns, printLongRuns } = await import('./long-runs.mjs');
    try {
      // Only the tokenizers that loaded above; a failed load is already reported.
      const names = tokenizers.map((t) => t.name);
      longRuns = await runLongRuns({ tokenizers: names, maxTokens: cfg.maxTokens, env: process.env, log });
      printLongRuns(longRuns);
      for (const r of longRuns.results) {
        if (r.error)
          errors.push({
            tokenizer: r.tokenizer,
            what: `long run ${r.kind} ${r.size} ${r.op}`,
            message: r.error,
            stack: r.stack ?? r.error,
          });
      }
    } catch (err) {
      failure(errors, '-', 'long runs', err);
    }
  }
  let threads;
  if (cfg.threads.length > 1) {
    console.log('');
    const { benchThreads, printThreads } = await import('./threads.mjs');
    const { cutDocs } = await import('./e2e.mjs');
    threads = [];
    const pieces = cutDocs(docs, totalBytes);
    const warmDocs = threadWarmDocs(corpusDir, docs, cfg, cutDocs);
    for (const t of tokenizers) {
      try {
        const r = await benchThreads({
          name: t.name,
          docs: pieces,
          warmDocs,
          maxTokens: cfg.maxTokens,
          strategy: 'semantic',
          threadCounts: cfg.threads,
          log,
        });
        threads.push(r);
        if (!r.sameOutput) {
          errors.push({ tokenizer: t.id, what: 'threads', message: 'thread counts gave different output', stack: '' });
        }
      } catch (err) {
        failure(errors, t.id, 'threads', err);
      }
      gc();
    }
    console.log(
      `semantic chunking on ${cfg.threads.join(' vs ')} worker threads, the same ${fmt(totalBytes / 1e6)} MB cut into ${pieces.length} documents of 1-16 KB, word caches warmed on ${fmt(warmDocs.reduce((a, d) => a + d.bytes, 0) / 1e6)} MB of other documents (see test/bench/threads.mjs; ${os.availableParallelism()} CPUs):`,
    );
    printThreads(threads);
  }

  let e2e;
  if (cfg.e2e) {
    console.log('');
    const { cutDocs, runE2E, printE2E } = await import('./e2e.mjs');
    try {
      const source = loadDocs(corpusDir, listCorpusFiles(corpusDir), cfg.e2eMb * 1e6, cfg.order);
      e2e = await runE2E({
        docs: cutDocs(source, cfg.e2eMb * 1e6),
        maxTokens: cfg.maxTokens,
        modes: (process.env.E2E_MODES ?? 'exactly-once').split(',').map((m) => m.trim()),
        timeoutS: positiveNumber(process.env, 'E2E_TIMEOUT_S', 300),
        log,
      });
      console.log('end to end through a real Kafka broker (see test/bench/e2e.mjs):');
      printE2E(e2e);
    } catch (err) {
      failure(errors, 'bert-base-uncased', 'e2e', err);
    }
  }

  const memoryEnd = memorySnapshot();
  if (longRuns)
    console.log(
      `memory at the end: peak RSS ${fmt(memoryEnd.peakRssMB, 1)} MB (long runs run in worker threads of this process)`,
    );
  const targets = throughputTargets({ rows, fast, threads, e2e });
  if (targets.length > 0) {
    console.log('');
    console.log('targets (issue 9), all from this run:');
    for (const t of targets) {
      console.log(`  ${t.info ? 'info ' : t.ok ? 'ok   ' : 'BELOW'} ${t.what}: ${t.value} (target ${t.target})`);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(`total time ${fmt(seconds, 1)} s`);

  const outDir = path.join(repoRoot, '.cache', 'bench');
  fs.mkdirSync(outDir, { recursive: true });
  const report = {
    generatedAt: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    config: { ...cfg, reservedTokens: RESERVED_TOKENS, overlapTokens: 0 },
    corpus: {
      dir: corpusDir,
      files: docs.length,
      mb: totalBytes / 1e6,
      folders: describeDocs(docs),
      peerSubset: { files: peerDocs.length, mb: peerBytes / 1e6 },
      warmDoc: warmDoc.docId,
    },
    rows: rows.map(({ checks, ...r }) => (checks ? { ...r, checks } : r)),
    tokenizers: tokenizers.map((t) => ({
      name: t.name,
      id: t.id,
      loadSeconds: t.loadSeconds,
      warmupMb: t.warmupMb,
      ratios: t.ratios,
    })),
    semanticOverOffsetsTarget: SEMANTIC_OFFSETS_TARGET,
    memory,
    memoryEnd,
    fast,
    longRuns,
    threads,
    e2e,
    targets,
    errors,
    seconds,
  };
  const out = path.join(outDir, 'latest.json');
  fs.writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`wrote ${path.relative(repoRoot, out)}`);
  if (errors.length > 0) {
    console.log(`${errors.length} measurement(s) failed; see the stack traces on stderr and "errors" in the JSON`);
    process.exitCode = 1;
  }
}

main().catch((err) => {
  process.stderr.write(`${err?.stack ?? err}\n`);
  process.exitCode = 1;
});
