/**
 * `chunkline context plan` (a model's context window from its config.json) and `chunkline context
 * pack` (retrieved chunks into a prompt budget). Thin: files in, @chunkline/context, files out.
 */
import { DROP_REASONS, formatContextWindowPlan, isContextError, pack, type Passage } from '@chunkline/context';
import type { CompiledContextPackOptions, CompiledContextPlanOptions } from './context-args.js';
import type { CliIo } from './io.js';
import { JsonlFileWriter } from './jsonl-writer.js';
import { readModelPlan } from './model-config.js';
import { readChunks, readJsonlRecords, type ChunkFields } from './record-files.js';
import { FileError } from './usage.js';

/** Prints the plan (a table and notes, or JSON with `--json`) to stdout. A bad config is a `UsageError`. */
export async function runContextPlanCommand(options: CompiledContextPlanOptions, io: CliIo): Promise<number> {
  const plan = await readModelPlan(options.configPath, 'context plan');
  io.stdout.write(options.json ? `${JSON.stringify(plan, null, 2)}\n` : `${formatContextWindowPlan(plan)}\n`);
  return 0;
}

/** One line of the scores file. */
interface ScoreLine {
  readonly chunkId: string;
  readonly score: number;
}

async function readScores(file: string): Promise<ScoreLine[]> {
  const scores: ScoreLine[] = [];
  for await (const { record, where } of readJsonlRecords(file, '--scores')) {
    const r = record as { chunk_id?: unknown; score?: unknown } | null;
    if (typeof r !== 'object' || r === null || typeof r.chunk_id !== 'string' || typeof r.score !== 'number') {
      throw new FileError(`--scores ${file} ${where}: expected {"chunk_id": "...", "score": <number>}`);
    }
    scores.push({ chunkId: r.chunk_id, score: r.score });
  }
  return scores;
}

/** A chunk with the score the retriever gave it: a `Passage` that keeps every field of the record. */
type ScoredChunk = ChunkFields & Record<string, unknown> & Passage;

/** Examples of unmatched chunk ids shown on stderr. */
const UNMATCHED_SHOWN = 3;

/**
 * Joins the scores with the chunks they name (only those chunks are kept in memory), packs them and
 * writes the chosen chunks, each with its `score`, in prompt order. Returns 0; an unreadable file or a
 * bad record throws a `FileError` (exit 1). Scores naming no chunk are reported and left out.
 */
export async function runContextPackCommand(options: CompiledContextPackOptions, io: CliIo): Promise<number> {
  const scores = await readScores(options.scoresPath);
  const wanted = new Set(scores.map((s) => s.chunkId));
  const chunks = new Map<string, ChunkFields & Record<string, unknown>>();
  for await (const chunk of readChunks(options.chunksPath, '--chunks')) {
    // The first record of an id wins, as pack itself keeps the first of duplicate ids.
    if (wanted.has(chunk.chunk_id) && !chunks.has(chunk.chunk_id)) chunks.set(chunk.chunk_id, chunk);
  }

  const passages: ScoredChunk[] = [];
  const unmatched: string[] = [];
  for (const s of scores) {
    const chunk = chunks.get(s.chunkId);
    if (chunk === undefined) unmatched.push(s.chunkId);
    else passages.push({ ...chunk, score: s.score });
  }
  if (unmatched.length > 0) {
    const shown = unmatched.slice(0, UNMATCHED_SHOWN).map((id) => JSON.stringify(id));
    io.stderr.write(
      `chunkline: ${unmatched.length} score(s) name no chunk of --chunks ${options.chunksPath} and were left out ` +
        `(${shown.join(', ')}${unmatched.length > UNMATCHED_SHOWN ? ', …' : ''})\n`,
    );
  }

  let result;
  try {
    result = pack(passages, options.pack);
  } catch (err) {
    // Options were checked when parsing, so this is a record the core rejects (a bad span, say).
    if (!isContextError(err)) throw err;
    throw new FileError(`--chunks ${options.chunksPath}: ${err.message}`);
  }

  if (options.outPath === null) {
    for (const p of result.passages) io.stdout.write(`${JSON.stringify(p)}\n`);
  } else {
    const out = await JsonlFileWriter.open(options.outPath).catch((err: unknown) => {
      throw new FileError(`cannot write --out ${options.outPath}: ${(err as Error).message}`);
    });
    try {
      for (const p of result.passages) await out.write(p);
      await out.commit();
    } catch (err) {
      await out.abort();
      throw err;
    }
  }

  const o = options.pack;
  const dropped = DROP_REASONS.map((r) => `${r} ${result.droppedCounts[r]}`).join(', ');
  io.stderr.write(
    `chunkline: packed ${result.passages.length} of ${passages.length} passages | ` +
      `${result.usedTokens} of ${result.availableTokens} tokens (budget ${o.budgetTokens}, reserved ${o.reservedTokens}) | ` +
      `dropped ${dropped} | strategy ${o.strategy}\n`,
  );
  return 0;
}
