#!/usr/bin/env node
// Fast encoders vs transformers.js: tokenize-only MB/s (encodeBaseline), the reference encode with
// offsets, the fast encode with offsets (1st pass: a freshly loaded tokenizer, empty word cache; 2nd
// pass: the same texts again), and semantic chunking with each encoder, on the same texts. The target
// (fast >= 3x tokenize-only) is checked on the 1st pass.
// The fast rows are checked against the reference: same ids as encodeBaseline, same spans and wordStart
// as the reference encode (checks outside the timed region). Run by bench.mjs, or alone after a build:
// `BENCH_MB=5 node test/bench/fast.mjs`.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { ensureCorpus, listCorpusFiles, loadDocs } from './lib/corpus.mjs';
import { fmt, table } from './lib/report.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..');
const TARGET = 3;

function time(docs, fn) {
  let ms = 0;
  let bytes = 0;
  for (const d of docs) {
    const t0 = performance.now();
    fn(d);
    ms += performance.now() - t0;
    bytes += d.bytes;
  }
  return bytes / 1e6 / (ms / 1000);
}

const same = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);

/**
 * Measures one tokenizer. Returns MB/s per row and the ratios; `mismatches` counts documents whose fast
 * ids differ from encodeBaseline or whose spans/wordStart differ from the reference encode.
 */
export async function benchFast({ name, docs, maxTokens = 512, gc = () => {}, log = () => {} }) {
  const { loadTokenizer } = await import('@chunkline/tokenizers');
  const { createChunker } = await import('@chunkline/chunking');
  const fast = await loadTokenizer(name, { encoder: 'fast' });
  const ref = await loadTokenizer(name, { encoder: 'reference' });
  const warm = docs.slice(0, 20);
  for (const d of warm) {
    fast.encode(d.text);
    ref.encode(d.text);
    ref.encodeBaseline(d.text);
  }
  let mismatches = 0;
  let firstMismatch;
  for (const d of docs) {
    const f = fast.encode(d.text);
    const r = ref.encode(d.text);
    const ok =
      same(Array.from(f.ids), ref.encodeBaseline(d.text)) &&
      same(f.start16, r.start16) &&
      same(f.end16, r.end16) &&
      same(f.wordStart, r.wordStart);
    if (!ok) {
      mismatches++;
      firstMismatch ??= d.docId;
    }
  }
  gc();
  log(`${name}: tokenize-only`);
  const baseline = time(docs, (d) => ref.encodeBaseline(d.text));
  gc();
  log(`${name}: reference encode`);
  const refEnc = time(docs, (d) => ref.encode(d.text));
  gc();
  // A fresh fast tokenizer, so that its word cache starts empty on the timed text.
  const cold = await loadTokenizer(name, { encoder: 'fast' });
  log(`${name}: fast encode (cold cache)`);
  const fastCold = time(docs, (d) => cold.encode(d.text));
  gc();
  log(`${name}: fast encode (warm cache)`);
  const fastEnc = time(docs, (d) => fast.encode(d.text));
  gc();
  const opts = { strategy: 'semantic', maxTokens, overlapTokens: 0, reservedTokens: 2 };
  const semRefChunker = createChunker(ref, opts);
  const semFastChunker = createChunker(fast, opts);
  log(`${name}: semantic chunking (reference)`);
  const semRef = time(docs, (d) => semRefChunker.chunk({ docId: d.docId, text: d.text, contentType: d.contentType }));
  gc();
  log(`${name}: semantic chunking (fast)`);
  const semFast = time(docs, (d) => semFastChunker.chunk({ docId: d.docId, text: d.text, contentType: d.contentType }));
  gc();
  return {
    name,
    kind: fast.encoderKind,
    mbPerS: { baseline, refEnc, fastCold, fastEnc, semRef, semFast },
    ratios: {
      fastOverBaseline: fastEnc / baseline,
      fastColdOverBaseline: fastCold / baseline,
      fastOverReference: fastEnc / refEnc,
      semFastOverSemRef: semFast / semRef,
      semFastOverBaseline: semFast / baseline,
    },
    mismatches,
    firstMismatch,
  };
}

export function printFast(results) {
  const n = (get) => (r) => fmt(get(r));
  console.log(
    table(results, [
      ['tokenizer', (r) => r.name],
      ['fast encoder', (r) => r.kind],
      ['tokenize-only MB/s', n((r) => r.mbPerS.baseline), 'right'],
      ['reference encode MB/s', n((r) => r.mbPerS.refEnc), 'right'],
      ['fast encode 1st pass MB/s', n((r) => r.mbPerS.fastCold), 'right'],
      ['fast encode 2nd pass MB/s', n((r) => r.mbPerS.fastEnc), 'right'],
      ['semantic (ref) MB/s', n((r) => r.mbPerS.semRef), 'right'],
      ['semantic (fast) MB/s', n((r) => r.mbPerS.semFast), 'right'],
      ['fast 1st pass/tok-only', (r) => `${fmt(r.ratios.fastColdOverBaseline)}x`, 'right'],
      ['docs differing', (r) => String(r.mismatches), 'right'],
    ]),
  );
  for (const r of results) {
    const x = r.ratios;
    const below = x.fastColdOverBaseline < TARGET ? '  BELOW TARGET' : '';
    console.log(
      `${r.name}: fast (1st pass, empty word cache)/tokenize-only ${fmt(x.fastColdOverBaseline)} (target >= ${TARGET})${below}, ` +
        `fast (2nd pass)/tokenize-only ${fmt(x.fastOverBaseline)}, ` +
        `fast/reference encode ${fmt(x.fastOverReference)}, semantic fast/reference ${fmt(x.semFastOverSemRef)}, ` +
        `semantic fast/tokenize-only ${fmt(x.semFastOverBaseline)}; ${r.mismatches} docs with ids or offsets differing` +
        (r.firstMismatch ? ` (first: ${r.firstMismatch})` : ''),
    );
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const log = (msg) => process.stderr.write(`[fast] ${msg}\n`);
  const mb = Number(process.env.BENCH_MB ?? 10);
  const corpusDir = ensureCorpus(repoRoot, process.env, log);
  const docs = loadDocs(corpusDir, listCorpusFiles(corpusDir), mb * 1e6, process.env.BENCH_ORDER ?? 'mixed');
  const names = (process.env.BENCH_TOKENIZERS ?? 'bert-base-uncased,qwen3').split(',').filter(Boolean);
  const results = [];
  for (const name of names) results.push(await benchFast({ name, docs, log }));
  console.log(`fast encoders on ${docs.length} files, ${fmt(docs.reduce((s, d) => s + d.bytes, 0) / 1e6)} MB`);
  printFast(results);
  if (results.some((r) => r.mismatches > 0)) process.exitCode = 1;
}
