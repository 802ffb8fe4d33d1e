/**
 * A group of files to their encoded records, the unit of work of `chunkline chunk`. The same code runs
 * in the main thread (`--threads 0`) and in each thread of the pool (chunk-thread.ts), which builds its
 * own context, and so loads its own tokenizer, once from a {@link ChunkTaskSpec}. Records are encoded
 * where they are made (JSON lines, or Avro container blocks), so the main thread only writes bytes in
 * order: encoding them there, and copying every record object across threads, made the main thread the
 * bottleneck with more than one chunking thread.
 */
import { createChunker, isChunkingError, verifyChunks, verifySections } from '@chunkline/chunking';
import type { Chunker, ChunkedDocument, ChunkerOptions, DocumentInput, Tokenizer } from '@chunkline/chunking';
import { encodeContainerBlocks, type RecordKind } from '@chunkline/records';
import { inOrder, transferring } from '@chunkline/runtime/thread';
import { loadTokenizer, type SharedPieceCacheHandle } from '@chunkline/tokenizers';
import { contentTypeOf, readTextFileSync, type ReadResult } from './files.js';
import { ClaimCursor, type GroupOutputs, ThreadGroupWriter } from './group-output.js';
import { jsonLine } from './jsonl-writer.js';
import { type SharedGroups, SharedGroupsReader } from './shared-groups.js';

/** Violations printed per file by --verify; the rest are counted. */
const MAX_VIOLATIONS_SHOWN = 5;

/** How an output file holds its records. */
export type OutputFormat = 'jsonl' | 'avro';

/** The format of each output file; null for an output not asked for. */
export interface OutputFormats {
  readonly chunks: OutputFormat;
  readonly sections: OutputFormat | null;
  readonly manifests: OutputFormat | null;
}

/** Plain data a chunking thread is built from (structured-clonable). */
export interface ChunkTaskSpec {
  /** Tokenizer id or directory, as given to --tokenizer. */
  readonly tokenizer: string;
  readonly chunkerOptions: ChunkerOptions;
  readonly verify: boolean;
  readonly outputs: OutputFormats;
  /** The piece cache the chunking threads share (the tokenizer's own cache when absent). */
  readonly pieceCache?: SharedPieceCacheHandle;
}

/** A tokenizer and chunker ready to chunk files. */
export interface ChunkContext {
  readonly tokenizer: Tokenizer;
  readonly chunker: Chunker;
  readonly spec: ChunkTaskSpec;
}

/** One input file. */
export interface FileTask {
  readonly fsPath: string;
  readonly docId: string;
}

/** What became of one file: its chunked document, or why it failed. */
export type FileOutcome =
  | { readonly ok: true; readonly result: ChunkedDocument; readonly byteLength: number }
  | { readonly ok: false; readonly reason: string; readonly byteLength: number };

/** One file of a {@link ChunkedGroup}: its counts (its records are in the group's bytes), or why it failed. */
export type FileSummary =
  | {
      readonly ok: true;
      readonly byteLength: number;
      readonly chunks: number;
      /** The manifest's `total_tokens`. */
      readonly tokens: number;
      readonly overCapGraphemes: number;
    }
  | { readonly ok: false; readonly reason: string; readonly byteLength: number };

/**
 * A group of files chunked: a summary per file, in order, and the records of the files that were
 * chunked, in the same order, encoded for each output (null for an output not asked for). Each byte
 * array has an ArrayBuffer of its own (a thread transfers them).
 */
export interface ChunkedGroup {
  readonly files: readonly FileSummary[];
  readonly chunks: Uint8Array<ArrayBuffer>;
  readonly sections: Uint8Array<ArrayBuffer> | null;
  readonly manifests: Uint8Array<ArrayBuffer> | null;
}

/** Loads the tokenizer and builds the chunker of a spec (errors as `loadTokenizer`/`createChunker` throw them). */
export async function createChunkContext(spec: ChunkTaskSpec): Promise<ChunkContext> {
  const tokenizer = await loadTokenizer(spec.tokenizer, { sharedCache: spec.pieceCache });
  return { tokenizer, chunker: createChunker(tokenizer, spec.chunkerOptions), spec };
}

/** An error's message; an unexpected error keeps its class name (it is a bug somewhere). */
export function messageOf(err: unknown): string {
  if (isChunkingError(err)) return err.message;
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/**
 * Reads (blocking), chunks and (with `verify`) checks one file. Never throws for a bad file. Used by a
 * chunking thread and by `--threads 0`, where the main thread has nothing else to do meanwhile: an
 * asynchronous read per small file waited for Node's I/O threads each time (40 MB in 6,725 files took
 * 3.3 s with `--threads 0`, 1.9 s with blocking reads).
 */
export function chunkFileSync(ctx: ChunkContext, file: FileTask): FileOutcome {
  return chunkRead(ctx, file, readTextFileSync(file.fsPath));
}

function chunkRead(ctx: ChunkContext, file: FileTask, read: ReadResult): FileOutcome {
  if (!read.ok) return read;
  const doc: DocumentInput = {
    docId: file.docId,
    version: null,
    text: read.text,
    contentType: contentTypeOf(file.docId),
    source: file.docId,
  };
  try {
    const result = ctx.chunker.chunk(doc);
    if (ctx.spec.verify) {
      const violations = verifyChunks(ctx.tokenizer, doc, result, ctx.chunker.options);
      if (ctx.chunker.options.hierarchy === 'sections') {
        violations.push(...verifySections(ctx.tokenizer, doc, result, ctx.chunker.options));
      }
      if (violations.length > 0) {
        const shown = violations.slice(0, MAX_VIOLATIONS_SHOWN).join('; ');
        const more =
          violations.length > MAX_VIOLATIONS_SHOWN ? ` (and ${violations.length - MAX_VIOLATIONS_SHOWN} more)` : '';
        return {
          ok: false,
          reason: `--verify found ${violations.length} violation(s): ${shown}${more}`,
          byteLength: read.byteLength,
        };
      }
    }
    return { ok: true, result, byteLength: read.byteLength };
  } catch (err) {
    return { ok: false, reason: `chunking failed: ${messageOf(err)}`, byteLength: read.byteLength };
  }
}

/** A string's UTF-8 bytes in an ArrayBuffer of their own (Buffer.from may use Node's shared pool). */
function utf8(text: string): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(Buffer.byteLength(text, 'utf8'));
  Buffer.from(bytes.buffer).write(text, 'utf8');
  return bytes;
}

/** Records encoded for an output file of `format`: JSON lines (key order as in each record), or Avro blocks. */
export function encodeRecords(
  format: OutputFormat,
  kind: RecordKind,
  records: readonly unknown[],
): Promise<Uint8Array<ArrayBuffer>> {
  if (format === 'avro') return encodeContainerBlocks(kind, records);
  let text = '';
  for (const record of records) text += jsonLine(record);
  return Promise.resolve(utf8(text));
}

/** Encodes the records of the files that were chunked, for each output of `outputs`. */
async function encodeGroup(outputs: OutputFormats, outcomes: readonly FileOutcome[]): Promise<ChunkedGroup> {
  const done = outcomes.flatMap((o) => (o.ok ? [o.result] : []));
  const [chunks, sections, manifests] = await Promise.all([
    encodeRecords(
      outputs.chunks,
      'chunk',
      done.flatMap((r) => r.chunks),
    ),
    outputs.sections === null
      ? null
      : encodeRecords(
          outputs.sections,
          'section',
          done.flatMap((r) => r.sections),
        ),
    outputs.manifests === null
      ? null
      : encodeRecords(
          outputs.manifests,
          'manifest',
          done.map((r) => r.manifest),
        ),
  ]);
  const files = outcomes.map((o): FileSummary =>
    o.ok
      ? {
          ok: true,
          byteLength: o.byteLength,
          chunks: o.result.chunks.length,
          tokens: o.result.manifest.total_tokens,
          overCapGraphemes: o.result.overCapGraphemes,
        }
      : o,
  );
  return { files, chunks, sections, manifests };
}

/** Reads, chunks and encodes a group of files (a file that fails is summarised, never thrown). */
export function chunkFileGroup(ctx: ChunkContext, files: readonly FileTask[]): Promise<ChunkedGroup> {
  return encodeGroup(
    ctx.spec.outputs,
    files.map((file) => chunkFileSync(ctx, file)),
  );
}

/**
 * What the pool sends to a chunking thread. Files go several at a time (one message each way per group,
 * so small files do not pay it one by one), and either come back as bytes (`files`) or are written by
 * the thread itself into the output files of `outputs` (sent to every thread once per run, with the
 * run's groups). A thread then takes groups itself (`claim`: it chunks groups from a shared counter and
 * places them in input order with the other threads, answering every `budgetMs` or so with the file
 * summaries), or is sent one once the claiming stopped because a thread died (`place`: the main thread
 * places it; see group-output.ts). A thread without those outputs (started in place of one that died)
 * answers a `place` task with the group's bytes.
 */
export type ChunkThreadTask =
  | { readonly kind: 'probe' }
  | { readonly kind: 'files'; readonly files: readonly FileTask[] }
  | {
      readonly kind: 'outputs';
      readonly outputs: GroupOutputs;
      /** The run's groups of files (shareGroups), one copy for all the threads. */
      readonly groups: SharedGroups;
      /** Groups a thread may claim past the last placed one. */
      readonly window: number;
    }
  | { readonly kind: 'claim'; readonly outputsId: string; readonly budgetMs: number }
  | { readonly kind: 'place'; readonly files: readonly FileTask[]; readonly group: number; readonly outputsId: string }
  | { readonly kind: 'flush' };

/**
 * What a chunking thread answers: for `files` (and `place` without the outputs), their group; for
 * `place`, the file summaries, the group's size in each output (chunks, sections, manifests), and the
 * first write that failed, if one did; for `claim`, the summaries of the groups it chunked, whether it
 * found no group left to claim (then every group it chunked is written, unless the run stopped), and
 * the first write that failed; for `flush`, that failure (every placed group is written then).
 */
export type ChunkThreadReply =
  | { readonly kind: 'probe' }
  | { readonly kind: 'group'; readonly group: ChunkedGroup }
  | {
      readonly kind: 'sizes';
      readonly files: readonly FileSummary[];
      readonly sizes: readonly number[];
      readonly error: string | null;
    }
  | {
      readonly kind: 'claimed';
      readonly groups: readonly (readonly [number, readonly FileSummary[]])[];
      readonly finished: boolean;
      readonly error: string | null;
    }
  | { readonly kind: 'flushed'; readonly error: string | null };

/** Test hooks of {@link serveFiles}: called around each group a thread claims. */
export interface ClaimHooks {
  readonly beforeGroup?: (files: readonly FileTask[]) => void;
  /** After the group's sizes are published (it may be placed), before the thread writes it. */
  readonly afterSized?: (files: readonly FileTask[]) => void;
}

/** A group's bytes per output file, in the order group-output.ts uses (chunks, sections, manifests). */
export function groupBytes(
  group: ChunkedGroup,
): readonly [Uint8Array<ArrayBuffer>, Uint8Array<ArrayBuffer> | null, Uint8Array<ArrayBuffer> | null] {
  return [group.chunks, group.sections, group.manifests];
}

/** A group's reply, with its byte arrays transferred rather than copied (piscina sends the reply itself). */
function groupReply(group: ChunkedGroup): ChunkThreadReply {
  const transfer = groupBytes(group).flatMap((b) => (b === null ? [] : [b.buffer]));
  return transferring<ChunkThreadReply>({ kind: 'group', group }, transfer);
}

/** The task handler of a chunking thread. */
export function serveFiles(
  ctx: ChunkContext,
  hooks: ClaimHooks = {},
): (task: ChunkThreadTask) => Promise<ChunkThreadReply> {
  let writer: ThreadGroupWriter | null = null;
  let run: { groups: SharedGroupsReader; cursor: ClaimCursor } | null = null;
  // One task at a time, in order: the pool sends the next task before this one is done.
  return inOrder(async (task: ChunkThreadTask): Promise<ChunkThreadReply> => {
    switch (task.kind) {
      case 'probe':
        return { kind: 'probe' };
      case 'files':
        return groupReply(await chunkFileGroup(ctx, task.files));
      case 'outputs':
        writer?.close();
        writer = null;
        run = null;
        writer = new ThreadGroupWriter(task.outputs);
        run = { groups: new SharedGroupsReader(task.groups), cursor: new ClaimCursor(task.outputs, task.window) };
        return { kind: 'probe' };
      case 'claim':
        if (writer === null || run === null || writer.outputs.id !== task.outputsId) {
          return { kind: 'claimed', groups: [], finished: true, error: null };
        }
        return claimGroups(ctx, writer, run.groups, run.cursor, task.budgetMs, hooks);
      case 'place': {
        if (writer === null || writer.outputs.id !== task.outputsId) {
          return groupReply(await chunkFileGroup(ctx, task.files));
        }
        writer.writePlaced();
        const group = await chunkFileGroup(ctx, task.files);
        const bytes = groupBytes(group);
        writer.add(task.group, bytes);
        writer.writePlaced();
        return { kind: 'sizes', files: group.files, sizes: bytes.map((b) => b?.byteLength ?? 0), error: writer.error };
      }
      case 'flush': {
        if (writer === null) return { kind: 'flushed', error: null };
        writer.writePlaced();
        const error =
          writer.error ?? (writer.waiting > 0 ? `${writer.waiting} group(s) were flushed before being placed` : null);
        writer.close();
        writer = null;
        run = null;
        return { kind: 'flushed', error };
      }
    }
  });
}

/**
 * Chunks groups taken from the shared counter until `budgetMs` have passed (answering then, so that
 * the main thread can show progress) or none is left. With none left, it waits until the groups it
 * holds are placed (the threads with earlier groups place them) and writes them.
 */
async function claimGroups(
  ctx: ChunkContext,
  writer: ThreadGroupWriter,
  groups: SharedGroupsReader,
  cursor: ClaimCursor,
  budgetMs: number,
  hooks: ClaimHooks,
): Promise<ChunkThreadReply> {
  const start = performance.now();
  const done: [number, readonly FileSummary[]][] = [];
  for (;;) {
    if (done.length > 0 && performance.now() - start >= budgetMs) {
      return { kind: 'claimed', groups: done, finished: false, error: writer.error };
    }
    const g = cursor.claim();
    if (g === null) break;
    const files = groups.group(g);
    hooks.beforeGroup?.(files);
    const group = await chunkFileGroup(ctx, files);
    const bytes = groupBytes(group);
    writer.add(g, bytes);
    cursor.sized(
      g,
      bytes.map((b) => b?.byteLength ?? 0),
    );
    hooks.afterSized?.(files);
    writer.writePlaced();
    done.push([g, group.files]);
    if (writer.error !== null) return { kind: 'claimed', groups: done, finished: true, error: writer.error };
  }
  while (writer.waiting > 0 && writer.error === null && !cursor.stopped) {
    const frontier = cursor.frontier;
    cursor.advance();
    writer.writePlaced();
    if (writer.waiting > 0) cursor.waitPast(frontier, 50);
  }
  // Stopped: the groups held and not placed are dropped (the main thread chunks them again).
  writer.writePlaced();
  writer.dropUnplaced();
  return { kind: 'claimed', groups: done, finished: true, error: writer.error };
}
