/**
 * `chunkline chunk`: files and folders → Chunk records (and optionally DocumentManifest records) as
 * JSON Lines. Files are read and chunked one at a time and records are streamed out, so memory holds
 * one document, not the corpus.
 */
import path from 'node:path';
import { createChunker, isChunkingError, verifyChunks, verifySections } from '@chunkline/chunking';
import type { Chunker, DocumentInput } from '@chunkline/chunking';
import { isTokenizerLoadError, loadTokenizer } from '@chunkline/tokenizers';
import type { CompiledChunkOptions } from './args.js';
import { contentTypeOf, listInputFiles, readTextFile } from './files.js';
import type { CliIo } from './io.js';
import { openRecordWriter, type RecordFileWriter } from './avro-writer.js';
import { readModelPlan } from './model-config.js';
import { createProgress, formatMbPerSecond, type Progress } from './progress.js';
import { EXIT_USAGE } from './usage.js';

/** Exit code when some files failed (the others are still chunked and written). */
export const EXIT_FILES_FAILED = 1;

/** Violations printed per file by --verify; the rest are counted. */
const MAX_VIOLATIONS_SHOWN = 5;

/** Totals of one run, printed as the summary. */
export interface ChunkRunStats {
  documents: number;
  chunks: number;
  /** Sum of the manifests' `total_tokens`. */
  tokens: number;
  overCapGraphemes: number;
  failedFiles: number;
  /** UTF-8 bytes of the documents chunked. */
  bytes: number;
}

/** The command-line flag of each core option, so a core error names what the user typed. */
const FLAG_OF_FIELD: Readonly<Record<string, string>> = {
  strategy: '--strategy',
  maxTokens: '--max-tokens',
  overlapTokens: '--overlap',
  reservedTokens: '--reserved',
  parentMaxTokens: '--parent-max-tokens',
  hierarchy: '--hierarchy',
};

function messageOf(err: unknown): string {
  if (isChunkingError(err)) return err.message;
  // An unexpected error is a bug somewhere: keep its class name in the report.
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** The summary line printed to stderr at the end of a run. */
export function formatSummary(stats: ChunkRunStats, seconds: number): string {
  return (
    `chunkline: documents ${stats.documents} | chunks ${stats.chunks} | tokens ${stats.tokens} | ` +
    `over-cap graphemes ${stats.overCapGraphemes} | failed files ${stats.failedFiles} | ` +
    `${seconds.toFixed(2)} s | ${formatMbPerSecond(stats.bytes, seconds)} MB/s`
  );
}

/** Opens --out and --manifests; on failure closes what was opened and returns the message. */
async function openWriters(
  options: CompiledChunkOptions,
): Promise<
  { out: RecordFileWriter; manifests: RecordFileWriter | null; sections: RecordFileWriter | null } | { error: string }
> {
  let out: RecordFileWriter;
  try {
    out = await openRecordWriter(options.outPath, 'chunk');
  } catch (err) {
    return { error: `cannot write --out ${options.outPath}: ${messageOf(err)}` };
  }
  let manifests: RecordFileWriter | null = null;
  if (options.manifestsPath !== null) {
    try {
      manifests = await openRecordWriter(options.manifestsPath, 'manifest');
    } catch (err) {
      await out.abort();
      return { error: `cannot write --manifests ${options.manifestsPath}: ${messageOf(err)}` };
    }
  }
  if (options.sectionsPath === null) return { out, manifests, sections: null };
  try {
    return { out, manifests, sections: await openRecordWriter(options.sectionsPath, 'section') };
  } catch (err) {
    await out.abort();
    await manifests?.abort();
    return { error: `cannot write --sections ${options.sectionsPath}: ${messageOf(err)}` };
  }
}

/**
 * Runs `chunkline chunk` and returns the exit code: 0 when every file was chunked, 1 when some files
 * failed (each is named on stderr; the others are still written), 2 for a bad configuration
 * (unknown tokenizer, options the core rejects). A `--whole-if-fits` config that cannot be read or
 * planned is a `UsageError` (exit 2), thrown before any output file is created. Throws only on those
 * and on unexpected errors.
 */
export async function runChunkCommand(options: CompiledChunkOptions, io: CliIo): Promise<number> {
  const startMs = performance.now();
  const wholeIfFitsTokens =
    options.wholeIfFitsConfigPath === null
      ? undefined
      : (await readModelPlan(options.wholeIfFitsConfigPath, '--whole-if-fits')).extendedWindowTokens;

  // Open the outputs first: an unwritable path should fail before the slow work.
  const writers = await openWriters(options);
  if ('error' in writers) {
    io.stderr.write(`error: ${writers.error}\n`);
    return EXIT_FILES_FAILED;
  }
  const { out, manifests, sections } = writers;
  let committed = false;
  try {
    let tokenizer;
    try {
      tokenizer = await loadTokenizer(options.tokenizer);
    } catch (err) {
      if (!isTokenizerLoadError(err)) throw err;
      io.stderr.write(`error: --tokenizer ${options.tokenizer}: ${err.message}\n`);
      return EXIT_USAGE;
    }
    const limits = {
      maxTokens: options.maxTokens,
      overlapTokens: options.overlapTokens,
      reservedTokens: options.reservedTokens,
      ...(wholeIfFitsTokens === undefined ? {} : { wholeIfFitsTokens }),
      hierarchy: options.hierarchy,
      ...(options.parentMaxTokens === null ? {} : { parentMaxTokens: options.parentMaxTokens }),
    };
    let chunker: Chunker;
    try {
      chunker = createChunker(tokenizer, { strategy: options.strategy, ...limits });
    } catch (err) {
      if (!isChunkingError(err)) throw err;
      if (err.field === 'wholeIfFitsTokens' && wholeIfFitsTokens !== undefined) {
        io.stderr.write(
          `error: --whole-if-fits ${options.wholeIfFitsConfigPath ?? ''}: the model window (${wholeIfFitsTokens} ` +
            `tokens) must be greater than --reserved (${options.reservedTokens})\n`,
        );
        return EXIT_USAGE;
      }
      const flag = FLAG_OF_FIELD[err.field];
      io.stderr.write(`error: ${flag === undefined ? '' : `${flag}: `}${err.message}\n`);
      return EXIT_USAGE;
    }

    const exclude = new Set([path.resolve(options.outPath)]);
    if (options.manifestsPath !== null) exclude.add(path.resolve(options.manifestsPath));
    if (options.sectionsPath !== null) exclude.add(path.resolve(options.sectionsPath));
    const listing = await listInputFiles(options.paths, { exclude });
    const stats: ChunkRunStats = { documents: 0, chunks: 0, tokens: 0, overCapGraphemes: 0, failedFiles: 0, bytes: 0 };
    for (const note of listing.skipped) io.stderr.write(`${note.path}: ${note.reason}\n`);
    for (const note of listing.failures) io.stderr.write(`${note.path}: ${note.reason}\n`);
    stats.failedFiles += listing.failures.length;

    const progress: Progress = createProgress(io, listing.files.length, !options.quiet);
    try {
      for (const file of listing.files) {
        const read = await readTextFile(file.fsPath);
        if (!read.ok) {
          progress.log(`${file.docId}: ${read.reason}`);
          stats.failedFiles += 1;
          progress.advance(read.byteLength);
          continue;
        }
        const doc: DocumentInput = {
          docId: file.docId,
          version: null,
          text: read.text,
          contentType: contentTypeOf(file.docId),
          source: file.docId,
        };
        let failure: string | null = null;
        let result;
        try {
          result = chunker.chunk(doc);
          if (options.verify) {
            const violations = verifyChunks(tokenizer, doc, result, limits);
            if (options.hierarchy === 'sections') {
              violations.push(...verifySections(tokenizer, doc, result, chunker.options));
            }
            if (violations.length > 0) {
              const shown = violations.slice(0, MAX_VIOLATIONS_SHOWN).join('; ');
              const more =
                violations.length > MAX_VIOLATIONS_SHOWN
                  ? ` (and ${violations.length - MAX_VIOLATIONS_SHOWN} more)`
                  : '';
              failure = `--verify found ${violations.length} violation(s): ${shown}${more}`;
            }
          }
        } catch (err) {
          failure = `chunking failed: ${messageOf(err)}`;
        }
        if (failure !== null || result === undefined) {
          progress.log(`${file.docId}: ${failure ?? 'chunking failed'}`);
          stats.failedFiles += 1;
          progress.advance(read.byteLength);
          continue;
        }
        for (const chunk of result.chunks) await out.write(chunk);
        if (sections !== null) for (const section of result.sections) await sections.write(section);
        if (manifests !== null) await manifests.write(result.manifest);
        stats.documents += 1;
        stats.chunks += result.chunks.length;
        stats.tokens += result.manifest.total_tokens;
        stats.overCapGraphemes += result.overCapGraphemes;
        stats.bytes += read.byteLength;
        progress.advance(read.byteLength);
      }
    } finally {
      progress.stop();
    }

    await out.commit();
    if (manifests !== null) await manifests.commit();
    if (sections !== null) await sections.commit();
    committed = true;
    io.stderr.write(`${formatSummary(stats, (performance.now() - startMs) / 1000)}\n`);
    return stats.failedFiles > 0 ? EXIT_FILES_FAILED : 0;
  } finally {
    if (!committed) {
      await out.abort();
      await manifests?.abort();
      await sections?.abort();
    }
  }
}
