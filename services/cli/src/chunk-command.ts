/**
 * `chunkline chunk`: files and folders → Chunk records (and optionally DocumentManifest and Section
 * records) as JSON Lines or Avro. Files are chunked on a pool of `--threads` worker threads (default: one
 * per CPU; 0 = in the main thread), each with its own tokenizer, in groups of a few files; each group's
 * records are encoded for the output files where they were made (chunk-task.ts); the threads take the
 * groups themselves, place them in input order and write them into the files (group-output.ts).
 * At most four groups per thread are in flight, so memory holds a few documents, not the corpus, and the
 * output is the same byte for byte whatever the thread count.
 */
import path from 'node:path';
import { compileChunkerOptions, isChunkingError } from '@chunkline/chunking';
import { ThreadPool, threadModuleUrl } from '@chunkline/runtime';
import { createSharedPieceCache, isTokenizerLoadError } from '@chunkline/tokenizers';
import type { CompiledChunkOptions } from './args.js';
import {
  chunkFileGroup,
  createChunkContext,
  type ChunkContext,
  type ChunkedGroup,
  messageOf,
  type ChunkTaskSpec,
  type ChunkThreadReply,
  type ChunkThreadTask,
  type FileSummary,
  type FileTask,
  groupBytes,
} from './chunk-task.js';
import { GroupPlacement } from './group-output.js';
import { shareGroups } from './shared-groups.js';
import { listInputFiles } from './files.js';
import type { CliIo } from './io.js';
import { openRecordWriter, outputFormatOf, type RecordFileWriter } from './avro-writer.js';
import { readModelPlan } from './model-config.js';
import { createProgress, formatMbPerSecond, type Progress } from './progress.js';
import { EXIT_USAGE, FileError } from './usage.js';

/** Exit code when some files failed (the others are still chunked and written). */
export const EXIT_FILES_FAILED = 1;

/** Files a thread gets at a time (one message each way per group, not per file). */
const FILES_PER_TASK = 8;

/** Groups of files in flight per thread (read, chunked, or waiting for their turn to be written). */
export const TASKS_IN_FLIGHT_PER_THREAD = 4;

/**
 * Files in groups of FILES_PER_TASK, the same groups whatever the thread count (Avro blocks end where
 * groups end, so the output is the same byte for byte with --threads 0).
 */
export function groupFiles(files: readonly FileTask[]): FileTask[][] {
  const groups: FileTask[][] = [];
  for (let i = 0; i < files.length; i += FILES_PER_TASK) {
    groups.push(files.slice(i, i + FILES_PER_TASK).map((f) => ({ fsPath: f.fsPath, docId: f.docId })));
  }
  return groups;
}

/** Groups chunked one file at a time, as one group (their bytes one after the other). */
function joinGroups(groups: readonly ChunkedGroup[]): ChunkedGroup {
  const join = (parts: (Uint8Array | null)[]): Uint8Array<ArrayBuffer> =>
    new Uint8Array(Buffer.concat(parts.flatMap((p) => (p === null ? [] : [p]))));
  return {
    files: groups.flatMap((g) => g.files),
    chunks: join(groups.map((g) => g.chunks)),
    sections: join(groups.map((g) => g.sections)),
    manifests: join(groups.map((g) => g.manifests)),
  };
}

/**
 * Starts `start(g)` for groups 0, 1, … with at most `window` of them started and not yet taken, and
 * calls `take(g, result)` strictly in input order.
 */
export async function inOrderWindow<T>(
  count: number,
  window: number,
  start: (g: number) => Promise<T>,
  take: (g: number, result: T) => Promise<void> | void,
): Promise<void> {
  const inFlight: Promise<T>[] = [];
  let next = 0;
  const fill = (): void => {
    while (inFlight.length < window && next < count) {
      const started = start(next++);
      // Awaited in its turn; until then a failure must not count as unhandled (it would end the process).
      started.catch(() => undefined);
      inFlight.push(started);
    }
  };
  fill();
  for (let g = 0; inFlight.length > 0; g++) {
    const result = await (inFlight.shift() as Promise<T>);
    fill();
    await take(g, result);
  }
}

/** How often a claiming thread answers with its file summaries (the progress the main thread shows). */
const CLAIM_REPLY_MS = 200;

/**
 * Chunks `groups` of files on `pool` (the threads of chunk-thread.ts) with at most `window` groups past
 * the last placed one. The threads write the records into the files of `writers` (chunks, sections,
 * manifests; null for an output not asked for) themselves (group-output.ts), so the records never come
 * through this thread, and they take the groups themselves from a shared counter and place them in input
 * order in shared memory, so this thread is not woken for each group: it gets each thread's file
 * summaries about every CLAIM_REPLY_MS and hands them to `onGroup` in input order.
 *
 * When a thread dies, the others stop claiming. The groups before the last placed one that the dead
 * thread held are chunked again (the same bytes) and written from here; the groups after it are then
 * sent to the threads one at a time, placed by this thread in input order. A group whose thread died is
 * chunked again one file at a time (a file that kills a thread alone is reported as failed).
 */
export async function chunkOnPool(
  pool: ThreadPool<ChunkThreadTask, ChunkThreadReply>,
  groups: readonly (readonly FileTask[])[],
  writers: readonly (RecordFileWriter | null)[],
  window: number,
  onGroup: (files: readonly FileTask[], summaries: readonly FileSummary[]) => void,
): Promise<void> {
  const positions = await Promise.all(writers.map((w) => w?.positional() ?? null));
  const placement = new GroupPlacement(
    positions.map((p) => p?.path ?? null),
    positions.map((p) => p?.position ?? 0),
    groups.length,
  );
  // A group's records as bytes, chunked on the pool. When a thread dies on it, its files are chunked one
  // at a time, and a file is reported as failed when a thread died on it twice: a file can also fail
  // once because the thread it was queued at died on another file.
  const bytesOf = async (files: readonly FileTask[], attempt = 1): Promise<ChunkedGroup> => {
    try {
      const reply = await pool.run({ kind: 'files', files });
      if (reply.kind === 'group') return reply.group;
      throw new Error(`unexpected reply ${reply.kind}`);
    } catch (err) {
      if (files.length > 1) {
        const one: ChunkedGroup[] = [];
        for (const f of files) one.push(await bytesOf([f]));
        return joinGroups(one);
      }
      if (attempt < 2) return bytesOf(files, attempt + 1);
      const reason = `chunking failed: the chunking thread failed: ${messageOf(err)}`;
      const empty = new Uint8Array(0);
      return { files: [{ ok: false, reason, byteLength: 0 }], chunks: empty, sections: empty, manifests: empty };
    }
  };
  // Each group's file summaries, handed to onGroup in input order once the group is placed.
  const summaries: (readonly FileSummary[] | undefined)[] = new Array<undefined>(groups.length);
  let reported = 0;
  const report = (placed: number): void => {
    for (let s = summaries[reported]; reported < placed && s !== undefined; s = summaries[reported]) {
      onGroup(groups[reported] as readonly FileTask[], s);
      reported++;
    }
  };
  try {
    await pool.broadcast({ kind: 'outputs', outputs: placement.outputs, groups: shareGroups(groups), window });
    let writeError: string | null = null;
    // Set from the claiming loops (an object: a `let` assigned in a closure is narrowed to null below).
    const failed: { report?: { err: unknown } } = {};
    const claiming = async (thread: number): Promise<void> => {
      for (;;) {
        let reply: ChunkThreadReply;
        try {
          reply = await pool.runAt(thread, {
            kind: 'claim',
            outputsId: placement.outputs.id,
            budgetMs: CLAIM_REPLY_MS,
          });
        } catch {
          // The thread died: the others stop claiming; the groups left are done below.
          placement.stop();
          return;
        }
        if (reply.kind !== 'claimed') {
          placement.stop();
          throw new Error(`unexpected reply ${reply.kind}`);
        }
        for (const [g, files] of reply.groups) summaries[g] = files;
        if (reply.error !== null) {
          writeError ??= reply.error;
          placement.stop();
          return;
        }
        if (failed.report === undefined) {
          try {
            report(placement.frontier);
          } catch (err) {
            // onGroup failed: the run ends with its error once the other threads have stopped.
            failed.report = { err };
            placement.stop();
          }
        }
        if (reply.finished) return;
      }
    };
    const claimed = await Promise.allSettled(Array.from({ length: pool.size }, (_, t) => claiming(t)));
    // A write that failed ends the run (FileError: the message names the file).
    if (writeError !== null) throw new FileError(writeError);
    if (failed.report !== undefined) throw failed.report.err;
    for (const c of claimed) if (c.status === 'rejected') throw c.reason;

    // Every thread has stopped. Without a death, every group is placed and written. Otherwise the groups
    // before the frontier are placed, and those the dead thread held are chunked again and written here.
    const frontier = placement.frontier;
    for (let g = reported; g < frontier; g++) {
      if (summaries[g] !== undefined && !placement.isUnwritten(g)) continue;
      const again = await bytesOf(groups[g] as FileTask[]);
      if (placement.isUnwritten(g)) placement.rewrite(g, groupBytes(again));
      summaries[g] ??= again.files;
    }
    report(frontier);
    // The groups from the frontier on go one at a time, placed here in input order.
    placement.reopenFromFrontier();
    await inOrderWindow(
      groups.length - frontier,
      window,
      async (i) => {
        const g = frontier + i;
        const files = groups[g] as readonly FileTask[];
        let reply: ChunkThreadReply;
        try {
          reply = await pool.run({ kind: 'place', files, group: g, outputsId: placement.outputs.id });
        } catch {
          return bytesOf(files);
        }
        // A thread started in place of one that died has no outputs: it answers with the bytes.
        if (reply.kind === 'group') return reply.group;
        if (reply.kind !== 'sizes') throw new Error(`unexpected reply ${reply.kind}`);
        if (reply.error !== null) throw new FileError(reply.error);
        return reply;
      },
      (i, result) => {
        const g = frontier + i;
        if ('sizes' in result) placement.place(g, result.sizes);
        else placement.placeAndWrite(g, groupBytes(result));
        summaries[g] = result.files;
        report(g + 1);
      },
    );
    // Every group is placed: each thread writes the ones it still holds. A thread that died meanwhile
    // leaves its groups unwritten; they are chunked again below.
    const flushed = await pool.broadcast({ kind: 'flush' }).catch(() => []);
    for (const reply of flushed) if (reply.kind === 'flushed' && reply.error !== null) throw new FileError(reply.error);
    for (const g of placement.unwritten()) placement.rewrite(g, groupBytes(await bytesOf(groups[g] as FileTask[])));
    if (reported !== groups.length) throw new Error(`${groups.length - reported} group(s) were never reported`);
  } finally {
    placement.close();
  }
}

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
    const chunkerOptions = {
      strategy: options.strategy,
      maxTokens: options.maxTokens,
      overlapTokens: options.overlapTokens,
      reservedTokens: options.reservedTokens,
      ...(wholeIfFitsTokens === undefined ? {} : { wholeIfFitsTokens }),
      hierarchy: options.hierarchy,
      ...(options.parentMaxTokens === null ? {} : { parentMaxTokens: options.parentMaxTokens }),
    };
    // The options are checked here, before any tokenizer is loaded, so that their errors name the flags.
    try {
      compileChunkerOptions(chunkerOptions);
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
    const tokenizerError = (message: string): number => {
      io.stderr.write(`error: --tokenizer ${options.tokenizer}: ${message}\n`);
      return EXIT_USAGE;
    };

    const exclude = new Set([path.resolve(options.outPath)]);
    if (options.manifestsPath !== null) exclude.add(path.resolve(options.manifestsPath));
    if (options.sectionsPath !== null) exclude.add(path.resolve(options.sectionsPath));
    const listing = await listInputFiles(options.paths, { exclude });
    const stats: ChunkRunStats = { documents: 0, chunks: 0, tokens: 0, overCapGraphemes: 0, failedFiles: 0, bytes: 0 };
    for (const note of listing.skipped) io.stderr.write(`${note.path}: ${note.reason}\n`);
    for (const note of listing.failures) io.stderr.write(`${note.path}: ${note.reason}\n`);
    stats.failedFiles += listing.failures.length;

    // Chunking runs on the pool's threads, each loading its own tokenizer (the main thread loads none),
    // or with --threads 0 here.
    const spec: ChunkTaskSpec = {
      tokenizer: options.tokenizer,
      chunkerOptions,
      verify: options.verify,
      outputs: {
        chunks: outputFormatOf(options.outPath),
        sections: options.sectionsPath === null ? null : outputFormatOf(options.sectionsPath),
        manifests: options.manifestsPath === null ? null : outputFormatOf(options.manifestsPath),
      },
    };
    const threads = Math.min(options.threads, listing.files.length);
    const groups = groupFiles(listing.files);
    // The progress bar starts once the tokenizer is loaded (a bad tokenizer ends the run before it).
    const withProgress = async (
      chunkAll: (onGroup: (files: readonly FileTask[], summaries: readonly FileSummary[]) => void) => Promise<void>,
    ): Promise<void> => {
      const progress: Progress = createProgress(io, listing.files.length, !options.quiet);
      try {
        await chunkAll((files, summaries) => {
          for (const [i, file] of summaries.entries()) {
            if (!file.ok) {
              progress.log(`${files[i]?.docId ?? '?'}: ${file.reason}`);
              stats.failedFiles += 1;
            } else {
              stats.documents += 1;
              stats.chunks += file.chunks;
              stats.tokens += file.tokens;
              stats.overCapGraphemes += file.overCapGraphemes;
              stats.bytes += file.byteLength;
            }
            progress.advance(file.byteLength);
          }
        });
      } finally {
        progress.stop();
      }
    };
    if (threads === 0) {
      let ctx: ChunkContext;
      try {
        ctx = await createChunkContext(spec);
      } catch (err) {
        if (!isTokenizerLoadError(err)) throw err;
        return tokenizerError(err.message);
      }
      await withProgress((onGroup) =>
        inOrderWindow(
          groups.length,
          1,
          (g) => chunkFileGroup(ctx, groups[g] as FileTask[]),
          async (g, group) => {
            await out.writeEncoded(group.chunks);
            if (sections !== null && group.sections !== null) await sections.writeEncoded(group.sections);
            if (manifests !== null && group.manifests !== null) await manifests.writeEncoded(group.manifests);
            onGroup(groups[g] as FileTask[], group.files);
          },
        ),
      );
    } else {
      const pool = new ThreadPool<ChunkThreadTask, ChunkThreadReply>({
        filename: threadModuleUrl(import.meta.url, 'chunk-thread'),
        threads,
        // One piece cache for all the threads: a word one of them has tokenized is not tokenized again
        // by another (with a cache each, two threads did a third more tokenizing on cache misses).
        workerData: { ...spec, pieceCache: createSharedPieceCache() } satisfies ChunkTaskSpec,
      });
      try {
        try {
          await pool.ready({ kind: 'probe' });
        } catch (err) {
          // An error from a thread arrives as a copy: its name and fields, not its class.
          if (err instanceof Error && err.name === 'TokenizerLoadError') return tokenizerError(err.message);
          throw err;
        }
        await withProgress((onGroup) =>
          chunkOnPool(pool, groups, [out, sections, manifests], threads * TASKS_IN_FLIGHT_PER_THREAD, onGroup),
        );
      } finally {
        await pool.close();
      }
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
