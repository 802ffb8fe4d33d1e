/**
 * `chunkline search`: the best chunks for a query from the index `chunkline-indexer` keeps (SQLite FTS5,
 * BM25), each checked against its source file when that file is on disk: the file's code points
 * `[char_start, char_end)` must equal the chunk's text ("verified"), or the index is behind the file
 * ("stale").
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { IndexStore, type SearchHit } from '@chunkline/indexer';
import { codePointSlice } from './codepoints.js';
import { decodeTextBytes } from './files.js';
import type { CliIo } from './io.js';
import { DEFAULT_INDEX_DB, type CompiledSearchOptions } from './ingest-args.js';
import { FileError, UsageError } from './usage.js';

/**
 * How a hit compares with its source file: `verified` (the file's code points at the chunk's offsets are
 * its text), `stale` (they are not: the file changed after it was indexed), `missing` (no such file
 * relative to the working directory, or no source).
 */
export type Verification = 'verified' | 'stale' | 'missing';

/**
 * Checks `hit` against its source file, read through `readText` (which caches; `undefined`: no file).
 * Offsets count code points of the file's text after a leading byte-order mark, as the chunker's do.
 */
export async function verifyHit(
  hit: Pick<SearchHit, 'source' | 'charStart' | 'charEnd' | 'text'>,
  readText: (file: string) => Promise<string | null | undefined>,
): Promise<Verification> {
  if (hit.source === null) return 'missing';
  const text = await readText(hit.source);
  if (text === undefined) return 'missing';
  if (text === null) return 'stale'; // the file is there but is no longer UTF-8 text
  return codePointSlice(text, hit.charStart, hit.charEnd) === hit.text ? 'verified' : 'stale';
}

/** A reader of source files relative to `cwd`, each read once: text, `null` (not text) or `undefined` (absent). */
export function sourceReader(cwd: string): (file: string) => Promise<string | null | undefined> {
  const cache = new Map<string, Promise<string | null | undefined>>();
  return (file) => {
    const abs = path.resolve(cwd, file);
    let got = cache.get(abs);
    if (got === undefined) {
      got = readFile(abs).then(
        (bytes) => {
          const r = decodeTextBytes(bytes);
          return r.ok ? r.text : null;
        },
        () => undefined,
      );
      cache.set(abs, got);
    }
    return got;
  };
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => (line === '' ? '' : `    ${line}`))
    .join('\n');
}

/**
 * Runs `chunkline search`: prints the `k` best hits (or "no matches") and returns 0.
 * @throws UsageError for an empty query or bad FTS5 syntax; FileError when the index cannot be opened.
 */
export async function runSearchCommand(
  options: CompiledSearchOptions,
  io: CliIo,
  cwd = process.cwd(),
): Promise<number> {
  const dbPath = options.dbPath ?? (io.env?.CHUNKLINE_INDEX_DB || DEFAULT_INDEX_DB);
  let store: IndexStore;
  try {
    store = IndexStore.open(dbPath, { readonly: true });
  } catch (err) {
    throw new FileError(`--db ${dbPath}: ${(err as Error).message}`);
  }
  try {
    let hits: SearchHit[];
    try {
      hits = store.search(options.query, { k: options.k, fts: options.fts });
    } catch (err) {
      if (options.fts) throw new UsageError(`--fts query ${JSON.stringify(options.query)}: ${(err as Error).message}`);
      throw err;
    }
    const read = sourceReader(cwd);
    if (hits.length === 0) {
      if (!options.json) io.stdout.write(`no matches for ${JSON.stringify(options.query)} in ${dbPath}\n`);
      return 0;
    }
    for (const [i, hit] of hits.entries()) {
      const verification = await verifyHit(hit, read);
      if (options.json) {
        io.stdout.write(`${JSON.stringify({ rank: i + 1, ...hit, verification })}\n`);
        continue;
      }
      const heading = hit.headingPath.length > 0 ? `  § ${hit.headingPath.join(' › ')}` : '';
      io.stdout.write(
        `${i + 1}. ${hit.source ?? hit.docId}  chunk ${hit.chunkIndex + 1}/${hit.chunkCount}  ` +
          `code points [${hit.charStart}, ${hit.charEnd})  bm25 ${hit.bm25.toFixed(3)}  ${verification}${heading}\n` +
          `${indent(hit.text)}\n\n`,
      );
    }
    return 0;
  } finally {
    store.close();
  }
}
