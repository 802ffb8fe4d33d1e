// Benchmark corpus: build it once with /work/shared/corpus/build.sh (or use CHUNKLINE_CORPUS_DIR),
// then read a deterministic selection of its files as UTF-8 text.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const MANIFEST = 'MANIFEST.tsv';
const DOWNLOADS = '.dl';

/**
 * Returns the corpus directory, building it first when needed.
 * `env.CHUNKLINE_CORPUS_DIR` points at an existing corpus (never built here); otherwise the corpus lives
 * in `<repo>/.cache/corpus` and is built by `<repo>/../shared/corpus/build.sh` when its MANIFEST.tsv is
 * missing.
 */
export function ensureCorpus(repoRoot, env, log) {
  if (env.CHUNKLINE_CORPUS_DIR) {
    const dir = path.resolve(repoRoot, env.CHUNKLINE_CORPUS_DIR);
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
      throw new Error(`CHUNKLINE_CORPUS_DIR=${env.CHUNKLINE_CORPUS_DIR} is not a directory (resolved to ${dir})`);
    }
    return dir;
  }
  const dir = path.join(repoRoot, '.cache', 'corpus');
  if (fs.existsSync(path.join(dir, MANIFEST))) return dir;
  const script = path.resolve(repoRoot, '..', 'shared', 'corpus', 'build.sh');
  if (!fs.existsSync(script)) {
    throw new Error(`no corpus at ${dir} and no build script at ${script}; set CHUNKLINE_CORPUS_DIR`);
  }
  log(`building the corpus: bash ${script} ${dir} (downloads npm and Debian packages, about 26 MB)`);
  // The script's own output goes to stderr so that stdout keeps only the benchmark's results.
  const res = spawnSync('bash', [script, dir], { cwd: repoRoot, stdio: ['ignore', process.stderr, process.stderr] });
  if (res.error) throw res.error;
  if (res.status !== 0) throw new Error(`corpus build failed: bash ${script} ${dir} exited with ${res.status}`);
  if (!fs.existsSync(path.join(dir, MANIFEST))) throw new Error(`corpus build wrote no ${MANIFEST} in ${dir}`);
  return dir;
}

/** Every regular file under `dir` except `.dl/` and `MANIFEST.tsv`, as sorted relative paths ('/'). */
export function listCorpusFiles(dir) {
  const out = [];
  const walk = (rel) => {
    const entries = fs.readdirSync(path.join(dir, rel), { withFileTypes: true });
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (r !== DOWNLOADS) walk(r);
      } else if (e.isFile() && r !== MANIFEST) {
        out.push(r);
      }
    }
  };
  walk('');
  // Plain code-unit order, independent of the locale.
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function contentTypeOf(rel) {
  return /\.(md|markdown)$/i.test(rel) ? 'text/markdown' : 'text/plain';
}

/**
 * Reads files until at least `minBytes` UTF-8 bytes of text are collected.
 *
 * order 'sorted': plain sorted paths. order 'mixed' (default): files stay sorted inside each top-level
 * folder (legal/, prose/, tech-rst/...), and the next file always comes from the folder with the fewest
 * bytes taken so far (ties: folder name). Sorted paths alone would fill 10 MB with legal/ and prose/
 * only, and never reach the Markdown and reStructuredText documents. Both orders are deterministic.
 *
 * Text is decoded like TextDecoder does (a leading byte-order mark is dropped, as DESIGN.md says);
 * `bytes` is the UTF-8 length of that text.
 */
export function loadDocs(dir, files, minBytes, order) {
  const decoder = new TextDecoder('utf-8');
  const read = (rel) => {
    const text = decoder.decode(fs.readFileSync(path.join(dir, rel)));
    return { docId: rel, text, contentType: contentTypeOf(rel), bytes: Buffer.byteLength(text, 'utf8') };
  };
  const docs = [];
  let total = 0;
  if (order === 'sorted') {
    for (const rel of files) {
      if (total >= minBytes) break;
      const d = read(rel);
      docs.push(d);
      total += d.bytes;
    }
    return docs;
  }
  if (order !== 'mixed') throw new Error(`BENCH_ORDER must be 'mixed' or 'sorted', not '${order}'`);
  const groups = new Map();
  for (const rel of files) {
    const top = rel.includes('/') ? rel.slice(0, rel.indexOf('/')) : '';
    if (!groups.has(top)) groups.set(top, { name: top, queue: [], taken: 0 });
    groups.get(top).queue.push(rel);
  }
  const live = [...groups.values()];
  while (total < minBytes) {
    let best = null;
    for (const g of live) {
      if (g.queue.length === 0) continue;
      if (best === null || g.taken < best.taken || (g.taken === best.taken && g.name < best.name)) best = g;
    }
    if (best === null) break;
    const d = read(best.queue.shift());
    best.taken += d.bytes;
    docs.push(d);
    total += d.bytes;
  }
  return docs;
}

/**
 * A deterministic subset for the slower peers: walks `docs` in order and keeps each document that still
 * fits in the budget, until the budget is (nearly) used. Skipping documents larger than what is left
 * keeps one huge file (the 4.3 MB KJV Bible) from taking the whole subset.
 */
export function subsetDocs(docs, budgetBytes) {
  const out = [];
  let total = 0;
  for (const d of docs) {
    if (total >= budgetBytes * 0.99) break;
    if (total + d.bytes <= budgetBytes) {
      out.push(d);
      total += d.bytes;
    }
  }
  return out;
}

/** Bytes per top-level folder, for the printed summary. */
export function describeDocs(docs) {
  const by = new Map();
  for (const d of docs) {
    const top = d.docId.includes('/') ? d.docId.slice(0, d.docId.indexOf('/')) : '.';
    const e = by.get(top) ?? { files: 0, bytes: 0 };
    e.files += 1;
    e.bytes += d.bytes;
    by.set(top, e);
  }
  return [...by.entries()].map(([folder, e]) => ({ folder, files: e.files, mb: e.bytes / 1e6 }));
}
