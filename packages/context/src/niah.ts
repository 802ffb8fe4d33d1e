/**
 * Needle in a haystack (Kamradt 2023, https://github.com/gkamradt/LLMTest_NeedleInAHaystack): hide one
 * sentence (the needle) at a chosen depth of haystack documents of chosen token lengths, then check
 * that chunking kept it whole ({@link checkNiah}) and build prompts that ask a model for it
 * ({@link buildNiahPrompts}). Pure: the caller reads and writes the files.
 *
 * Offsets (`needleCharStart`, `needleCharEnd`) are Unicode code points, like `char_start`/`char_end` of
 * Chunk records.
 */
import type { ChunkRecord, Tokenizer } from '@chunkline/chunking';
import { intAtLeast, oneOf } from './check.js';
import { codePointsBefore, sliceCodePoints } from './codepoints.js';
import { ContextError } from './errors.js';
import { ORDERING_STRATEGIES, reorder, type OrderingStrategy } from './reorder.js';
import { sentenceBoundaryNear } from './sentences.js';

/** Options of {@link generateNiah}. */
export interface NiahOptions {
  /** Haystack text (e.g. several books concatenated). Repeated, joined by a blank line, when too short. */
  haystack: string;
  /** The sentence to hide, inserted verbatim. */
  needle: string;
  /** The question whose answer is the needle, e.g. "What is the best thing to do in San Francisco?". */
  question: string;
  /** The expected answer, for whoever scores the model's reply. */
  answer: string;
  /** Document lengths to generate, in tokens of `tokenizer`, needle included. Each over the needle's tokens. */
  lengthsTokens: readonly number[];
  /** Needle depths, in percent of the document: 0 = start, 100 = end. */
  depthsPercent: readonly number[];
  /** Measures lengths (`count`, `encode`); the chunker's tokenizer, or the prompt model's. */
  tokenizer: Tokenizer;
  /** Prefix of document ids: `${idPrefix}-len${length}-depth${depth}`. @default 'niah' */
  idPrefix?: string;
}

/**
 * One generated document without its text: a line of the needle manifest. Everything
 * {@link checkNiah} and {@link buildNiahPrompts} need besides the chunks.
 */
export interface NiahManifestEntry {
  /** Document id (use it as the `doc_id` when chunking the text). */
  readonly id: string;
  /** The requested length, tokens. The table of {@link checkNiah} groups by it. */
  readonly targetLengthTokens: number;
  /** The real length: `tokenizer.count(text)`. Close to, and usually just under, the target. */
  readonly lengthTokens: number;
  /** The requested depth, percent. */
  readonly depthPercent: number;
  /** Code point index of the needle's first character in the document. */
  readonly needleCharStart: number;
  /** Code point index one past the needle's last character. */
  readonly needleCharEnd: number;
  readonly needle: string;
  readonly question: string;
  readonly answer: string;
}

/** A generated document: the manifest entry plus its text. */
export interface NiahDocument extends NiahManifestEntry {
  readonly text: string;
}

/** The fields of a Chunk record that the needle functions read; a whole `ChunkRecord` will do. */
export type NiahChunk = Pick<ChunkRecord, 'doc_id' | 'chunk_index' | 'char_start' | 'char_end' | 'text'>;

/** Grows the haystack by repetition until its first `need16` code units exist. */
function repeatTo(haystack: string, need16: number): string {
  let hay = haystack;
  while (hay.length < need16) hay = `${hay}\n\n${haystack}`;
  return hay;
}

/**
 * The haystack cut at a sentence boundary to at most `targetTokens` tokens (whitespace at the end
 * removed). Encodes bounded prefixes only, doubling until one holds the target, so a long haystack is
 * never tokenized whole.
 */
function trimHaystack(haystack: string, targetTokens: number, tokenizer: Tokenizer): string {
  let len16 = targetTokens * 6 + 1024;
  for (;;) {
    const hay = repeatTo(haystack, len16 + 4096);
    const enc = tokenizer.encode(hay.slice(0, len16));
    if (enc.ids.length <= targetTokens) {
      // Text the tokenizer drops (e.g. only zero-width characters) would never reach the length.
      if (len16 > (targetTokens + 1) * 1024) {
        throw new ContextError(
          'BAD_OPTION',
          'haystack',
          `haystack gives only ${enc.ids.length} tokens in ${len16} code units; use a haystack of ordinary text`,
        );
      }
      len16 *= 2;
      continue;
    }
    // End of the target-th token, then back to a sentence boundary; re-count the prefix alone and step
    // back while it is over (tokenizing a prefix alone can differ at its last word).
    let cut = sentenceBoundaryNear(hay, enc.end16[targetTokens - 1] ?? 0, 'floor');
    for (;;) {
      const text = hay.slice(0, cut).trimEnd();
      if (cut === 0 || tokenizer.count(text) <= targetTokens) return text;
      cut = sentenceBoundaryNear(hay, text.length - 1, 'floor');
    }
  }
}

function checkNiahOptions(o: NiahOptions): void {
  if (typeof o !== 'object' || o === null)
    throw new ContextError('BAD_OPTION', 'options', 'generateNiah needs options');
  for (const field of ['haystack', 'needle', 'question', 'answer'] as const) {
    if (typeof o[field] !== 'string' || o[field].trim() === '') {
      throw new ContextError('BAD_OPTION', field, `${field} must be a non-empty string`);
    }
  }
  if (typeof o.tokenizer?.count !== 'function' || typeof o.tokenizer.encode !== 'function') {
    throw new ContextError('BAD_OPTION', 'tokenizer', 'tokenizer must have count() and encode()');
  }
  if (!Array.isArray(o.lengthsTokens) || o.lengthsTokens.length === 0) {
    throw new ContextError('BAD_OPTION', 'lengthsTokens', 'lengthsTokens must be a non-empty array, e.g. [1000, 4000]');
  }
  if (!Array.isArray(o.depthsPercent) || o.depthsPercent.length === 0) {
    throw new ContextError('BAD_OPTION', 'depthsPercent', 'depthsPercent must be a non-empty array, e.g. [0, 50, 100]');
  }
  o.lengthsTokens.forEach((l, i) => intAtLeast('BAD_OPTION', `lengthsTokens[${i}]`, l, 1));
  o.depthsPercent.forEach((d, i) => {
    if (typeof d !== 'number' || !Number.isFinite(d) || d < 0 || d > 100) {
      throw new ContextError(
        'BAD_OPTION',
        `depthsPercent[${i}]`,
        `depthsPercent[${i}] must be a number from 0 to 100, got ${JSON.stringify(d)}`,
      );
    }
  });
  for (const field of ['lengthsTokens', 'depthsPercent'] as const) {
    const xs = o[field];
    const dup = xs.find((x, i) => xs.indexOf(x) !== i);
    if (dup !== undefined) {
      throw new ContextError('BAD_OPTION', field, `${field} lists ${dup} twice; remove the duplicate`);
    }
  }
}

/**
 * Generates one document per (length, depth), lengths outer, in the order given. Deterministic.
 *
 * Each document is the haystack cut at a sentence boundary so that, with the needle, it has about
 * `length` tokens (never more than the length minus the needle's tokens of haystack; usually a few
 * tokens under the target), and the needle inserted at the sentence boundary nearest `depth` percent
 * of the haystack's tokens (0: at the start, 100: at the end). A space separates the needle from its
 * neighbours when they do not already end or start with whitespace. Sentence boundaries come from
 * `Intl.Segmenter` on bounded windows, preferring those after `.`, `!`, `?` or a blank line over the
 * line ends of hard-wrapped text.
 *
 * Throws a {@link ContextError} naming the option when one is missing or out of range, or when a
 * length does not leave room for the needle.
 */
export function generateNiah(options: NiahOptions): NiahDocument[] {
  checkNiahOptions(options);
  const { haystack, needle, question, answer, tokenizer } = options;
  const prefix = options.idPrefix ?? 'niah';
  const needleTokens = tokenizer.count(needle);
  const docs: NiahDocument[] = [];
  options.lengthsTokens.forEach((length, li) => {
    if (length <= needleTokens + 1) {
      throw new ContextError(
        'BAD_OPTION',
        `lengthsTokens[${li}]`,
        `lengthsTokens[${li}] (${length}) leaves no room for haystack around the needle (${needleTokens} tokens); ` +
          `use at least ${needleTokens * 4}`,
      );
    }
    const hay = trimHaystack(haystack, length - needleTokens, tokenizer);
    const enc = tokenizer.encode(hay);
    const n = enc.ids.length;
    for (const depth of options.depthsPercent) {
      let pos16: number;
      if (depth <= 0 || n === 0) pos16 = 0;
      else if (depth >= 100) pos16 = hay.length;
      else {
        const token = Math.min(n - 1, Math.round((depth / 100) * n));
        pos16 = sentenceBoundaryNear(hay, enc.start16[token] ?? 0, 'nearest');
      }
      const before = hay.slice(0, pos16);
      const after = hay.slice(pos16);
      const lead = before === '' || /\s$/u.test(before) ? '' : ' ';
      const trail = after === '' || /^\s/u.test(after) ? '' : ' ';
      const text = `${before}${lead}${needle}${trail}${after}`;
      const start16 = before.length + lead.length;
      const needleCharStart = codePointsBefore(text, start16);
      const needleCharEnd = needleCharStart + codePointsBefore(needle, needle.length);
      if (sliceCodePoints(text, needleCharStart, needleCharEnd) !== needle) {
        throw new Error(`internal: needle offsets of ${prefix}-len${length}-depth${depth} do not hold the needle`);
      }
      docs.push({
        id: `${prefix}-len${length}-depth${depth}`,
        targetLengthTokens: length,
        lengthTokens: tokenizer.count(text),
        depthPercent: depth,
        needleCharStart,
        needleCharEnd,
        needle,
        question,
        answer,
        text,
      });
    }
  });
  return docs;
}

/**
 * `whole`: at least one chunk of the document holds the whole needle; `cut`: the document has chunks
 * but none holds the whole needle; `missing`: no chunk has the document's id; `mismatch`: a chunk's
 * offsets hold the needle but its text there is not the needle (chunks of another text under that id).
 */
export type NiahStatus = 'whole' | 'cut' | 'missing' | 'mismatch';

/** How chunks are matched to manifest entries, for {@link checkNiah} and {@link buildNiahPrompts}. */
export interface NiahMatchOptions {
  /**
   * The `doc_id` the chunks of an entry carry. @default the entry's `id` (documents chunked with
   * `doc_id` = id); e.g. `(e) => 'niah/' + e.id + '.txt'` when each document was written to a file
   * and chunked from there.
   */
  docIdOf?: (entry: NiahManifestEntry) => string;
}

function docIdFunction(options: NiahMatchOptions): (entry: NiahManifestEntry) => string {
  const f = options.docIdOf ?? ((e: NiahManifestEntry) => e.id);
  if (typeof f !== 'function') throw new ContextError('BAD_OPTION', 'docIdOf', 'docIdOf must be a function');
  return f;
}

/** The result of {@link checkNiah} for one document. */
export interface NiahDocCheck {
  readonly id: string;
  readonly targetLengthTokens: number;
  readonly lengthTokens: number;
  readonly depthPercent: number;
  readonly status: NiahStatus;
  /** `chunk_index` of every chunk that holds the whole needle (several with overlap). */
  readonly wholeInChunks: number[];
  /** `chunk_index` of every chunk that holds part of the needle. */
  readonly touchingChunks: number[];
  /** Chunks of the document. */
  readonly chunkCount: number;
}

/** One cell of the depth × length table. */
export interface NiahCell {
  readonly depthPercent: number;
  readonly targetLengthTokens: number;
  readonly docs: number;
  /** Documents of the cell whose needle is not `whole`. */
  readonly cut: number;
}

/** The result of {@link checkNiah}. */
export interface NiahCheckResult {
  /** True when every needle is whole in some chunk. */
  readonly passed: boolean;
  readonly docs: NiahDocCheck[];
  /** Depths (rows) and lengths (columns) of the table, ascending. */
  readonly depthsPercent: number[];
  readonly lengthsTokens: number[];
  /** Row-major: every depth, then every length within it. */
  readonly cells: NiahCell[];
  /** The table as text: cut/documents per depth (rows) and length (columns). */
  readonly table: string;
}

function groupChunks<C extends NiahChunk>(chunks: Iterable<C>): Map<string, C[]> {
  const byDoc = new Map<string, C[]>();
  for (const c of chunks) {
    const list = byDoc.get(c.doc_id);
    if (list === undefined) byDoc.set(c.doc_id, [c]);
    else list.push(c);
  }
  for (const list of byDoc.values()) list.sort((a, b) => a.chunk_index - b.chunk_index);
  return byDoc;
}

function checkEntry(e: NiahManifestEntry, i: number): void {
  const f = `entries[${i}]`;
  if (typeof e !== 'object' || e === null || typeof e.id !== 'string') {
    throw new ContextError('BAD_INPUT', `${f}.id`, `${f} must be a needle manifest entry with an id`);
  }
  const start = intAtLeast('BAD_INPUT', `${f}.needleCharStart`, e.needleCharStart, 0);
  intAtLeast('BAD_INPUT', `${f}.needleCharEnd`, e.needleCharEnd, start);
}

/**
 * Checks, for each manifest entry, whether the needle lies whole inside at least one chunk of its
 * document: `chunk.doc_id === entry.id` (or `docIdOf(entry)`) and
 * `char_start <= needleCharStart && needleCharEnd <= char_end` (code points), with the chunk's text at
 * those offsets equal to the needle. Returns the per-document results and a depth × length table of
 * cut counts.
 */
export function checkNiah(
  entries: readonly NiahManifestEntry[],
  chunks: Iterable<NiahChunk>,
  options: NiahMatchOptions = {},
): NiahCheckResult {
  entries.forEach(checkEntry);
  const docIdOf = docIdFunction(options);
  const byDoc = groupChunks(chunks);
  const docs = entries.map((e): NiahDocCheck => {
    const own = byDoc.get(docIdOf(e)) ?? [];
    const s = e.needleCharStart;
    const t = e.needleCharEnd;
    const whole = own.filter((c) => c.char_start <= s && t <= c.char_end);
    const touching = own.filter((c) => c.char_start < t && s < c.char_end);
    let status: NiahStatus;
    if (own.length === 0) status = 'missing';
    else if (whole.length === 0) status = 'cut';
    else if (
      typeof e.needle === 'string' &&
      !whole.some((c) => sliceCodePoints(c.text, s - c.char_start, t - c.char_start) === e.needle)
    ) {
      status = 'mismatch';
    } else status = 'whole';
    return {
      id: e.id,
      targetLengthTokens: e.targetLengthTokens,
      lengthTokens: e.lengthTokens,
      depthPercent: e.depthPercent,
      status,
      wholeInChunks: whole.map((c) => c.chunk_index),
      touchingChunks: touching.map((c) => c.chunk_index),
      chunkCount: own.length,
    };
  });
  const depthsPercent = [...new Set(docs.map((d) => d.depthPercent))].sort((a, b) => a - b);
  const lengthsTokens = [...new Set(docs.map((d) => d.targetLengthTokens))].sort((a, b) => a - b);
  const cells = depthsPercent.flatMap((depthPercent) =>
    lengthsTokens.map((targetLengthTokens): NiahCell => {
      const inCell = docs.filter((d) => d.depthPercent === depthPercent && d.targetLengthTokens === targetLengthTokens);
      return {
        depthPercent,
        targetLengthTokens,
        docs: inCell.length,
        cut: inCell.filter((d) => d.status !== 'whole').length,
      };
    }),
  );
  const cutTotal = docs.filter((d) => d.status !== 'whole').length;
  return {
    passed: cutTotal === 0,
    docs,
    depthsPercent,
    lengthsTokens,
    cells,
    table: formatTable(depthsPercent, lengthsTokens, cells, cutTotal, docs.length),
  };
}

function formatTable(
  depths: readonly number[],
  lengths: readonly number[],
  cells: readonly NiahCell[],
  cut: number,
  total: number,
): string {
  const head = ['depth \\ length', ...lengths.map((l) => `${l} tok`)];
  const rows = depths.map((d) => [
    `${d}%`,
    ...lengths.map((l) => {
      const c = cells.find((x) => x.depthPercent === d && x.targetLengthTokens === l);
      return c === undefined || c.docs === 0 ? '-' : `${c.cut}/${c.docs}`;
    }),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]): string =>
    r.map((x, i) => (i === 0 ? x.padEnd(widths[i] ?? 0) : x.padStart(widths[i] ?? 0))).join('  ');
  return [`needle cut in ${cut} of ${total} documents (cells: cut/documents)`, line(head), ...rows.map(line)].join(
    '\n',
  );
}

/**
 * How {@link buildNiahPrompts} scores a document's chunks for the ordering strategies:
 * - `lexical` (default): overlap with the question, each question word found in the chunk weighted by
 *   its BM25 inverse document frequency over the document's chunks, `ln(1 + (N - df + 0.5) / (df + 0.5))`
 *   (words are lowercased runs of letters and digits). Words in every chunk ("the", "is") weigh almost
 *   nothing, so the chunk holding the needle usually scores highest, as a retriever would rank it.
 * - `position`: earlier chunks score higher (`1 - index / count`): the reading order as relevance.
 */
export type NiahScoring = 'lexical' | 'position';

/** Options of {@link buildNiahPrompts}. */
export interface NiahPromptOptions extends NiahMatchOptions {
  /** One prompt per document and strategy. @default ORDERING_STRATEGIES (all three) */
  strategies?: readonly OrderingStrategy[];
  /** @default 'lexical' */
  scoring?: NiahScoring;
  /** Put between chunks (each chunk's text trimmed of surrounding whitespace). @default '\n\n' */
  separator?: string;
  /** Prompt text with `{context}` and `{question}` placeholders. @default DEFAULT_NIAH_TEMPLATE */
  template?: string;
}

/** The default prompt template of {@link buildNiahPrompts}. */
export const DEFAULT_NIAH_TEMPLATE =
  'Answer the question using only the context below.\n\nContext:\n{context}\n\nQuestion: {question}\nAnswer:';

/** One prompt of {@link buildNiahPrompts}: everything needed to ask a model and score its reply. */
export interface NiahPrompt {
  /** `${id}/${strategy}`, with the manifest entry's id. */
  readonly id: string;
  /** The manifest entry's id. */
  readonly docId: string;
  readonly strategy: OrderingStrategy;
  readonly scoring: NiahScoring;
  readonly question: string;
  /** The document's chunks in the strategy's order, joined by the separator. */
  readonly context: string;
  /** The template filled with the context and the question. */
  readonly prompt: string;
  readonly expectedAnswer: string;
  readonly depthPercent: number;
  readonly lengthTokens: number;
  readonly targetLengthTokens: number;
  readonly chunkCount: number;
  /** Positions (0-based, in context order) of the chunks holding any part of the needle. */
  readonly needleChunkPositions: number[];
  /** True when some chunk holds the whole needle. */
  readonly needleWhole: boolean;
}

const WORD = /[\p{L}\p{N}]+/gu;

function words(text: string): Set<string> {
  return new Set(text.toLowerCase().match(WORD) ?? []);
}

function lexicalScores(question: string, texts: readonly string[]): number[] {
  const q = [...words(question)];
  const sets = texts.map(words);
  const n = sets.length;
  const idf = q.map((w) => {
    const df = sets.filter((s) => s.has(w)).length;
    return Math.log(1 + (n - df + 0.5) / (df + 0.5));
  });
  return sets.map((s) => q.reduce((sum, w, i) => (s.has(w) ? sum + (idf[i] ?? 0) : sum), 0));
}

/**
 * Builds one prompt per document and ordering strategy, for users to evaluate their own model: the
 * document's chunks (by `doc_id`, in `chunk_index` order) are scored (see {@link NiahScoring}), put in
 * the strategy's order with {@link reorder} (ties keep document order), trimmed and joined into the
 * context. Documents without chunks are skipped. Pure and deterministic.
 */
export function buildNiahPrompts(
  docs: readonly NiahManifestEntry[],
  chunks: Iterable<NiahChunk>,
  options: NiahPromptOptions = {},
): NiahPrompt[] {
  docs.forEach(checkEntry);
  const strategies = options.strategies ?? ORDERING_STRATEGIES;
  if (!Array.isArray(strategies) || strategies.length === 0) {
    throw new ContextError(
      'BAD_OPTION',
      'strategies',
      `strategies must list some of ${ORDERING_STRATEGIES.join(', ')}`,
    );
  }
  strategies.forEach((s, i) => oneOf('BAD_OPTION', `strategies[${i}]`, s, ORDERING_STRATEGIES));
  const scoring = oneOf('BAD_OPTION', 'scoring', options.scoring ?? 'lexical', ['lexical', 'position'] as const);
  const separator = options.separator ?? '\n\n';
  if (typeof separator !== 'string') throw new ContextError('BAD_OPTION', 'separator', 'separator must be a string');
  const template = options.template ?? DEFAULT_NIAH_TEMPLATE;
  if (typeof template !== 'string' || !template.includes('{context}') || !template.includes('{question}')) {
    throw new ContextError('BAD_OPTION', 'template', 'template must contain {context} and {question}');
  }
  const docIdOf = docIdFunction(options);
  const byDoc = groupChunks(chunks);
  const out: NiahPrompt[] = [];
  for (const doc of docs) {
    const own = byDoc.get(docIdOf(doc)) ?? [];
    if (own.length === 0) continue;
    const scores =
      scoring === 'lexical'
        ? lexicalScores(
            doc.question,
            own.map((c) => c.text),
          )
        : own.map((_, i) => 1 - i / own.length);
    const scored = own.map((chunk, i) => ({ chunk, score: scores[i] ?? 0 }));
    const s = doc.needleCharStart;
    const t = doc.needleCharEnd;
    const needleWhole = own.some((c) => c.char_start <= s && t <= c.char_end);
    for (const strategy of strategies) {
      const ordered = reorder(scored, strategy).map((x) => x.chunk);
      const context = ordered.map((c) => c.text.trim()).join(separator);
      out.push({
        id: `${doc.id}/${strategy}`,
        docId: doc.id,
        strategy,
        scoring,
        question: doc.question,
        context,
        // One pass, so that a context holding "{question}" is left alone.
        prompt: template.replace(/\{(context|question)\}/g, (_, k: string) =>
          k === 'context' ? context : doc.question,
        ),
        expectedAnswer: doc.answer,
        depthPercent: doc.depthPercent,
        lengthTokens: doc.lengthTokens,
        targetLengthTokens: doc.targetLengthTokens,
        chunkCount: own.length,
        needleChunkPositions: ordered.flatMap((c, i) => (c.char_start < t && s < c.char_end ? [i] : [])),
        needleWhole,
      });
    }
  }
  return out;
}
