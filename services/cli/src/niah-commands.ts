/**
 * `chunkline niah generate | check | prompts`: needle-in-a-haystack documents written as files,
 * checked against the chunks `chunkline chunk` made of them, and turned into prompts. Thin: files in,
 * @chunkline/context, files out.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  buildNiahPrompts,
  checkNiah,
  generateNiah,
  isContextError,
  type NiahChunk,
  type NiahDocument,
  type NiahManifestEntry,
} from '@chunkline/context';
import { isTokenizerLoadError, loadTokenizer } from '@chunkline/tokenizers';
import type {
  CompiledNiahCheckOptions,
  CompiledNiahGenerateOptions,
  CompiledNiahPromptsOptions,
} from './context-args.js';
import { listInputFiles, readTextFile } from './files.js';
import type { CliIo } from './io.js';
import { JsonlFileWriter } from './jsonl-writer.js';
import { readChunks, readJsonlRecords } from './record-files.js';
import { EXIT_FAILED, FileError, UsageError } from './usage.js';

/** The manifest's file name inside the `--out` folder of `niah generate`. */
export const NIAH_MANIFEST = 'manifest.jsonl';

/** Files of the haystack are joined with this, as the context package's tests join them. */
const HAYSTACK_SEPARATOR = '\n\n';

/** The flag of each `NiahOptions` field, so an error of the core names what the user typed. */
const NIAH_FLAG_OF_FIELD: Readonly<Record<string, string>> = {
  needle: '--needle',
  question: '--question',
  answer: '--answer',
  lengthsTokens: '--lengths',
  depthsPercent: '--depths',
  idPrefix: '--id-prefix',
};

/** Reads the haystack files (sorted as `chunk` reads a folder) and joins them; any unreadable file fails. */
async function readHaystack(haystackPath: string): Promise<{ text: string; files: number }> {
  const listing = await listInputFiles([haystackPath]);
  const failure = listing.failures[0];
  if (failure !== undefined) throw new FileError(`--haystack ${failure.path}: ${failure.reason}`);
  const texts: string[] = [];
  for (const file of listing.files) {
    const read = await readTextFile(file.fsPath);
    // A haystack that silently loses a file would give other documents than the same command elsewhere.
    if (!read.ok) throw new FileError(`--haystack ${file.docId}: ${read.reason}`);
    texts.push(read.text);
  }
  if (texts.length === 0) throw new FileError(`--haystack ${haystackPath}: no files to read`);
  return { text: texts.join(HAYSTACK_SEPARATOR), files: texts.length };
}

/** The document without its text: its manifest line. */
function manifestEntry(doc: NiahDocument): NiahManifestEntry {
  return {
    id: doc.id,
    targetLengthTokens: doc.targetLengthTokens,
    lengthTokens: doc.lengthTokens,
    depthPercent: doc.depthPercent,
    needleCharStart: doc.needleCharStart,
    needleCharEnd: doc.needleCharEnd,
    needle: doc.needle,
    question: doc.question,
    answer: doc.answer,
  };
}

/**
 * Generates the documents one length at a time (the same documents `generateNiah` makes for all
 * lengths at once: each length is cut from the haystack independently), writes `OUT/<id>.txt` for
 * each and then `OUT/manifest.jsonl`, with a line on stderr per length. Returns 0.
 */
export async function runNiahGenerateCommand(options: CompiledNiahGenerateOptions, io: CliIo): Promise<number> {
  let tokenizer;
  try {
    tokenizer = await loadTokenizer(options.tokenizer);
  } catch (err) {
    if (!isTokenizerLoadError(err)) throw err;
    throw new UsageError(`--tokenizer ${options.tokenizer}: ${err.message}`);
  }
  const needleTokens = tokenizer.count(options.needle);
  for (const length of options.lengthsTokens) {
    if (length <= needleTokens + 1) {
      throw new UsageError(
        `--lengths: ${length} tokens leave no room for haystack around the needle (${needleTokens} tokens); ` +
          `use at least ${needleTokens * 4}`,
      );
    }
  }
  const haystack = await readHaystack(options.haystackPath);
  try {
    await mkdir(options.outDir, { recursive: true });
  } catch (err) {
    throw new FileError(`cannot create --out ${options.outDir}: ${(err as Error).message}`);
  }

  const total = options.lengthsTokens.length * options.depthsPercent.length;
  const entries: NiahManifestEntry[] = [];
  for (const length of options.lengthsTokens) {
    let docs: NiahDocument[];
    try {
      docs = generateNiah({
        haystack: haystack.text,
        needle: options.needle,
        question: options.question,
        answer: options.answer,
        lengthsTokens: [length],
        depthsPercent: options.depthsPercent,
        tokenizer,
        idPrefix: options.idPrefix,
      });
    } catch (err) {
      if (!isContextError(err)) throw err;
      if (err.field === 'haystack') throw new FileError(`--haystack ${options.haystackPath}: ${err.message}`);
      const flag = NIAH_FLAG_OF_FIELD[err.field.replace(/\[\d+\]$/, '')];
      throw new UsageError(`${flag === undefined ? '' : `${flag}: `}${err.message}`);
    }
    for (const doc of docs) {
      const file = path.join(options.outDir, `${doc.id}.txt`);
      try {
        await writeFile(file, doc.text);
      } catch (err) {
        throw new FileError(`cannot write ${file}: ${(err as Error).message}`);
      }
      entries.push(manifestEntry(doc));
    }
    const sizes = docs.map((d) => d.lengthTokens);
    io.stderr.write(
      `niah: ${entries.length}/${total} documents | length ${length}: ${docs.length} written, ` +
        `${Math.min(...sizes)}-${Math.max(...sizes)} tokens\n`,
    );
  }

  const manifestPath = path.join(options.outDir, NIAH_MANIFEST);
  const manifest = await JsonlFileWriter.open(manifestPath).catch((err: unknown) => {
    throw new FileError(`cannot write ${manifestPath}: ${(err as Error).message}`);
  });
  try {
    for (const entry of entries) await manifest.write(entry);
    await manifest.commit();
  } catch (err) {
    await manifest.abort();
    throw err;
  }
  io.stderr.write(
    `niah: wrote ${entries.length} documents and ${NIAH_MANIFEST} to ${options.outDir} ` +
      `(haystack: ${haystack.files} file(s), tokenizer ${tokenizer.id})\n`,
  );
  return 0;
}

function isNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** The entries of a needle manifest, each checked for the fields `checkNiah` and `buildNiahPrompts` read. */
async function readManifest(file: string): Promise<NiahManifestEntry[]> {
  const entries: NiahManifestEntry[] = [];
  for await (const { record, where } of readJsonlRecords(file, '--manifest')) {
    const r = record as Record<string, unknown> | null;
    const bad = (what: string): FileError =>
      new FileError(`--manifest ${file} ${where}: not a needle manifest entry (${what})`);
    if (typeof r !== 'object' || r === null || Array.isArray(r)) throw bad('expected a JSON object');
    for (const f of ['id', 'needle', 'question', 'answer']) {
      if (typeof r[f] !== 'string') throw bad(`${f} must be a string`);
    }
    for (const f of ['targetLengthTokens', 'lengthTokens', 'depthPercent', 'needleCharStart', 'needleCharEnd']) {
      if (!isNumber(r[f])) throw bad(`${f} must be a number`);
    }
    entries.push(r as unknown as NiahManifestEntry);
  }
  if (entries.length === 0) throw new FileError(`--manifest ${file}: no entries`);
  return entries;
}

/** How chunks are matched to manifest entries, and a description of it for stderr. */
interface DocIdRule {
  readonly docIdOf: (entry: NiahManifestEntry) => string;
  readonly description: string;
  /** False when no rule matched any chunk (every needle will be `missing`). */
  readonly matched: boolean;
}

/** `path` with `/` separators (a no-op on POSIX), as `chunk` writes doc_id. */
function toPosix(p: string): string {
  return path.sep === '/' ? p : p.split(path.sep).join('/');
}

/**
 * The doc_id rule: `--doc-id-prefix` when given; else the first that matches some chunk of
 * `docIds`: the entry id; `<folder of the manifest as given>/<id>.txt` (what `chunkline chunk OUT`
 * writes for `--manifest OUT/manifest.jsonl`); one common prefix before `<id>.txt` in the chunks.
 */
export function resolveDocIdRule(
  prefix: string | null,
  manifestPath: string,
  entries: readonly NiahManifestEntry[],
  docIds: ReadonlySet<string>,
): DocIdRule {
  const withPrefix =
    (p: string): ((e: NiahManifestEntry) => string) =>
    (e) =>
      `${p}${e.id}.txt`;
  if (prefix !== null) {
    const docIdOf = withPrefix(prefix);
    return {
      docIdOf,
      description: `doc_id = ${JSON.stringify(prefix)} + id + ".txt" (--doc-id-prefix)`,
      matched: entries.some((e) => docIds.has(docIdOf(e))),
    };
  }
  const byId = (e: NiahManifestEntry): string => e.id;
  if (entries.some((e) => docIds.has(e.id))) return { docIdOf: byId, description: 'doc_id = id', matched: true };

  const folder = toPosix(path.dirname(manifestPath));
  const inFolder = (e: NiahManifestEntry): string => path.posix.join(folder, `${e.id}.txt`);
  if (entries.some((e) => docIds.has(inFolder(e)))) {
    return { docIdOf: inFolder, description: `doc_id = ${path.posix.join(folder, '<id>.txt')}`, matched: true };
  }

  const names = new Set(entries.map((e) => `${e.id}.txt`));
  const prefixes = new Set<string>();
  for (const docId of docIds) {
    const base = docId.slice(docId.lastIndexOf('/') + 1);
    if (names.has(base)) prefixes.add(docId.slice(0, docId.length - base.length));
  }
  if (prefixes.size > 1) {
    const shown = [...prefixes].slice(0, 3).map((p) => JSON.stringify(p));
    throw new UsageError(
      `the chunks hold the needle documents under several folders (${shown.join(', ')}); choose one with --doc-id-prefix`,
    );
  }
  const [found] = prefixes;
  if (found !== undefined) {
    return { docIdOf: withPrefix(found), description: `doc_id = ${found}<id>.txt`, matched: true };
  }
  return {
    docIdOf: byId,
    description: `doc_id = id (no chunk has doc_id id, ${path.posix.join(folder, '<id>.txt')} or */<id>.txt)`,
    matched: false,
  };
}

/** The manifest, the chunks (the fields the needle functions read) and the doc_id rule. */
async function readNiahInputs(
  options: CompiledNiahCheckOptions,
  io: CliIo,
): Promise<{ entries: NiahManifestEntry[]; chunks: NiahChunk[]; rule: DocIdRule }> {
  const entries = await readManifest(options.manifestPath);
  const chunks: NiahChunk[] = [];
  for await (const c of readChunks(options.chunksPath, '--chunks')) {
    chunks.push({
      doc_id: c.doc_id,
      chunk_index: c.chunk_index,
      char_start: c.char_start,
      char_end: c.char_end,
      text: c.text,
    });
  }
  const rule = resolveDocIdRule(
    options.docIdPrefix,
    options.manifestPath,
    entries,
    new Set(chunks.map((c) => c.doc_id)),
  );
  io.stderr.write(`niah: matching chunks to ${entries.length} manifest entries by ${rule.description}\n`);
  if (!rule.matched) {
    io.stderr.write(
      `niah: no chunk of --chunks ${options.chunksPath} belongs to a manifest entry; see --doc-id-prefix\n`,
    );
  }
  return { entries, chunks, rule };
}

/**
 * Prints the cut/documents table (stdout) and a line per needle that is not whole. Returns 0 when
 * every needle is whole in some chunk, 1 when one is cut, missing, or its chunk text differs.
 */
export async function runNiahCheckCommand(options: CompiledNiahCheckOptions, io: CliIo): Promise<number> {
  const { entries, chunks, rule } = await readNiahInputs(options, io);
  const result = checkNiah(entries, chunks, { docIdOf: rule.docIdOf });
  io.stdout.write(`${result.table}\n`);
  const byId = new Map(entries.map((e) => [e.id, e]));
  for (const d of result.docs) {
    if (d.status === 'whole') continue;
    const entry = byId.get(d.id);
    const docId = entry === undefined ? d.id : rule.docIdOf(entry);
    const detail =
      d.status === 'missing'
        ? `no chunk has doc_id ${JSON.stringify(docId)}`
        : d.status === 'cut'
          ? `needle split across chunk_index ${d.touchingChunks.join(', ')} of ${d.chunkCount}`
          : `the chunk text at the needle's offsets is not the needle (chunks of another text under ${JSON.stringify(docId)})`;
    io.stdout.write(`${d.id}: ${d.status}: ${detail}\n`);
  }
  return result.passed ? 0 : EXIT_FAILED;
}

/**
 * Writes one prompt per document and strategy to `--out` (JSON Lines). Returns 0, or 1 when some
 * documents have no chunks (they are named on stderr; the others are written).
 */
export async function runNiahPromptsCommand(options: CompiledNiahPromptsOptions, io: CliIo): Promise<number> {
  const { entries, chunks, rule } = await readNiahInputs(options, io);
  const prompts = buildNiahPrompts(entries, chunks, {
    strategies: options.strategies,
    scoring: options.scoring,
    docIdOf: rule.docIdOf,
  });
  const withPrompts = new Set(prompts.map((p) => p.docId));
  const skipped = entries.filter((e) => !withPrompts.has(e.id));
  for (const e of skipped)
    io.stderr.write(`${e.id}: no chunk has doc_id ${JSON.stringify(rule.docIdOf(e))}, skipped\n`);

  const out = await JsonlFileWriter.open(options.outPath).catch((err: unknown) => {
    throw new FileError(`cannot write --out ${options.outPath}: ${(err as Error).message}`);
  });
  try {
    for (const p of prompts) await out.write(p);
    await out.commit();
  } catch (err) {
    await out.abort();
    throw err;
  }
  io.stderr.write(
    `niah: wrote ${prompts.length} prompts (${withPrompts.size} documents × ${options.strategies.length} ` +
      `strategies, scoring ${options.scoring}) to ${options.outPath}\n`,
  );
  return skipped.length > 0 ? EXIT_FAILED : 0;
}
