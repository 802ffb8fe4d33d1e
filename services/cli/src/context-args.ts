/**
 * Command-line parsing of the long-context commands (`context plan`, `context pack`, `niah generate`,
 * `niah check`, `niah prompts`): their commander definitions and the compilation of their raw options
 * into frozen, validated options. What the options mean is @chunkline/context's; see its README.
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import {
  compilePackOptions,
  isContextError,
  ORDERING_STRATEGIES,
  type CompiledPackOptions,
  type NiahScoring,
  type OrderingStrategy,
} from '@chunkline/context';
import { DEFAULT_TOKENIZER } from '@chunkline/tokenizers';
import { checkExtension } from './record-files.js';
import {
  choiceListParser,
  parseDepths,
  parseNonNegativeInteger,
  parsePositiveInteger,
  parsePositiveIntegerList,
  UsageError,
} from './usage.js';

/** `chunkline context plan`, compiled. */
export interface CompiledContextPlanOptions {
  /** The model's `config.json`. */
  readonly configPath: string;
  /** Print the plan as JSON instead of a table. */
  readonly json: boolean;
}

/** `chunkline context pack` as the user gives it. */
export interface ContextPackCommandOptions {
  /** Chunk records, `.jsonl` or `.avro`. */
  chunks: string;
  /** JSON Lines of `{"chunk_id": ..., "score": ...}`: the retriever's results. */
  scores: string;
  /** The prompt's context budget, tokens of the chunks' tokenizer. */
  budget: number;
  /** Tokens kept free inside the budget for instructions, question and answer. @default 0 */
  reserved?: number;
  /** Tokens each chosen passage costs on top of its own (a separator, a header). @default 0 */
  overhead?: number;
  /** @default 'important_first_last' */
  strategy?: OrderingStrategy;
  /** JSON Lines output; stdout when absent. */
  out?: string;
}

/** `chunkline context pack`, compiled. */
export interface CompiledContextPackOptions {
  readonly chunksPath: string;
  readonly scoresPath: string;
  /** `null`: the passages go to stdout. */
  readonly outPath: string | null;
  readonly pack: CompiledPackOptions;
}

/** `chunkline niah generate` as the user gives it. */
export interface NiahGenerateCommandOptions {
  haystack: string;
  needle: string;
  question: string;
  answer: string;
  lengths: number[];
  depths: number[];
  /** @default 'bert-base-uncased' */
  tokenizer?: string;
  /** @default 'niah' */
  idPrefix?: string;
  out: string;
}

/** `chunkline niah generate`, compiled. */
export interface CompiledNiahGenerateOptions {
  /** A folder (read recursively, sorted, as `chunk` reads it) or a file. */
  readonly haystackPath: string;
  readonly needle: string;
  readonly question: string;
  readonly answer: string;
  readonly lengthsTokens: readonly number[];
  readonly depthsPercent: readonly number[];
  readonly tokenizer: string;
  readonly idPrefix: string;
  /** Folder for `<id>.txt` and `manifest.jsonl`; created when missing. */
  readonly outDir: string;
}

/** `chunkline niah check` as the user gives it. */
export interface NiahCheckCommandOptions {
  chunks: string;
  manifest: string;
  docIdPrefix?: string;
}

/** `chunkline niah check`, compiled. */
export interface CompiledNiahCheckOptions {
  readonly chunksPath: string;
  readonly manifestPath: string;
  /** `doc_id` of an entry's chunks is `docIdPrefix + id + '.txt'`; `null`: detected (see `niah check --help`). */
  readonly docIdPrefix: string | null;
}

/** `chunkline niah prompts` as the user gives it. */
export interface NiahPromptsCommandOptions extends NiahCheckCommandOptions {
  /** @default all three */
  strategies?: OrderingStrategy[];
  /** @default 'lexical' */
  scoring?: NiahScoring;
  out: string;
}

/** `chunkline niah prompts`, compiled. */
export interface CompiledNiahPromptsOptions extends CompiledNiahCheckOptions {
  readonly strategies: readonly OrderingStrategy[];
  readonly scoring: NiahScoring;
  readonly outPath: string;
}

/** A parsed long-context command line. */
export type ContextCommandLine =
  | { readonly kind: 'context-plan'; readonly options: CompiledContextPlanOptions }
  | { readonly kind: 'context-pack'; readonly options: CompiledContextPackOptions }
  | { readonly kind: 'niah-generate'; readonly options: CompiledNiahGenerateOptions }
  | { readonly kind: 'niah-check'; readonly options: CompiledNiahCheckOptions }
  | { readonly kind: 'niah-prompts'; readonly options: CompiledNiahPromptsOptions };

const NIAH_SCORINGS: readonly NiahScoring[] = ['lexical', 'position'];
const RECORD_EXTENSIONS = ['.jsonl', '.avro'];

/** The flag of each `PackOptions` field, so an error of the core names what the user typed. */
const PACK_FLAG_OF_FIELD: Readonly<Record<string, string>> = {
  budgetTokens: '--budget',
  reservedTokens: '--reserved',
  overheadTokensPerPassage: '--overhead',
  strategy: '--strategy',
};

/** Fills in the defaults of `context pack`, checks the file names and the budget (as `compilePackOptions`). */
export function compileContextPackOptions(options: ContextPackCommandOptions): CompiledContextPackOptions {
  checkExtension('--chunks', options.chunks, RECORD_EXTENSIONS);
  checkExtension('--scores', options.scores, ['.jsonl']);
  if (options.out !== undefined) checkExtension('--out', options.out, ['.jsonl']);
  let pack: CompiledPackOptions;
  try {
    pack = compilePackOptions({
      budgetTokens: options.budget,
      reservedTokens: options.reserved ?? 0,
      overheadTokensPerPassage: options.overhead ?? 0,
      strategy: options.strategy ?? 'important_first_last',
    });
  } catch (err) {
    if (!isContextError(err)) throw err;
    // "reservedTokens (9) must be less than budgetTokens (8)" → "--reserved (9) … --budget (8)".
    const message = err.message.replace(/\b[a-zA-Z]+\b/g, (word) => PACK_FLAG_OF_FIELD[word] ?? word);
    throw new UsageError(message);
  }
  return Object.freeze({
    chunksPath: options.chunks,
    scoresPath: options.scores,
    outPath: options.out ?? null,
    pack,
  });
}

function nonBlank(flag: string, value: string): string {
  if (value.trim() === '') throw new UsageError(`${flag} must not be empty`);
  return value;
}

/**
 * Fills in the defaults of `niah generate`. Lengths and depths arrive parsed; `generateNiah` checks
 * what needs the tokenizer (a length too short for the needle).
 */
export function compileNiahGenerateOptions(options: NiahGenerateCommandOptions): CompiledNiahGenerateOptions {
  const idPrefix = options.idPrefix ?? 'niah';
  // The id becomes a file name: keep it to one path segment.
  if (!/^[A-Za-z0-9._-]+$/.test(idPrefix)) {
    throw new UsageError(`--id-prefix ${JSON.stringify(idPrefix)}: use letters, digits, '.', '_' and '-' only`);
  }
  return Object.freeze({
    haystackPath: options.haystack,
    needle: nonBlank('--needle', options.needle),
    question: nonBlank('--question', options.question),
    answer: nonBlank('--answer', options.answer),
    lengthsTokens: Object.freeze([...options.lengths]),
    depthsPercent: Object.freeze([...options.depths]),
    tokenizer: options.tokenizer ?? DEFAULT_TOKENIZER,
    idPrefix,
    outDir: options.out,
  });
}

/** Checks the file names of `niah check`. */
export function compileNiahCheckOptions(options: NiahCheckCommandOptions): CompiledNiahCheckOptions {
  checkExtension('--chunks', options.chunks, RECORD_EXTENSIONS);
  checkExtension('--manifest', options.manifest, ['.jsonl']);
  return Object.freeze({
    chunksPath: options.chunks,
    manifestPath: options.manifest,
    docIdPrefix: options.docIdPrefix ?? null,
  });
}

/** Fills in the defaults of `niah prompts` and checks its file names. */
export function compileNiahPromptsOptions(options: NiahPromptsCommandOptions): CompiledNiahPromptsOptions {
  checkExtension('--out', options.out, ['.jsonl']);
  return Object.freeze({
    ...compileNiahCheckOptions(options),
    strategies: Object.freeze([...(options.strategies ?? ORDERING_STRATEGIES)]),
    scoring: options.scoring ?? 'lexical',
    outPath: options.out,
  });
}

const DOC_ID_HELP = 'doc_id of an entry\'s chunks is PREFIX + id + ".txt" (default: detected; see the description)';

const MATCHING_HELP =
  'Chunks are matched to manifest entries by doc_id. Without --doc-id-prefix, the first rule that\n' +
  'matches some chunk is used: doc_id equal to the entry id (documents chunked by id); the manifest\n' +
  "file's folder as given on the command line joined with <id>.txt (`chunkline chunk OUT` and\n" +
  '`--manifest OUT/manifest.jsonl`, run from the same folder); one common prefix before <id>.txt\n' +
  'in the chunks (OUT given another way, e.g. as an absolute path).';

/** Adds `context plan` and `context pack` to `program`; `onParsed` receives each parsed command line. */
export function addContextCommands(program: Command, onParsed: (parsed: ContextCommandLine) => void): void {
  const context = program
    .command('context')
    .description('Long-context tools: plan a model window, pack retrieved chunks into a prompt budget.');

  context
    .command('plan')
    .description(
      "Read a model's Hugging Face config.json (RoPE scaling included) and print its context window:\n" +
        'trained, original and extended window, scaling method and caveats.\n' +
        'Exit code: 0 ok, 2 usage error (missing or unreadable config, unknown scaling type).',
    )
    .argument('<config.json>', "the model's config.json")
    .option('--json', 'print the plan as JSON', false)
    .action((configPath: string, options: { json: boolean }) => {
      onParsed({ kind: 'context-plan', options: Object.freeze({ configPath, json: options.json }) });
    });

  context
    .command('pack')
    .description(
      'Choose the most relevant chunks that fit a token budget (no duplicates, no overlapping spans of\n' +
        'a document) and order them against "lost in the middle". Only chunks named in --scores are\n' +
        'candidates. Writes the chosen chunks, each with its score, one JSON object a line, in prompt\n' +
        'order; prints used tokens and dropped counts by reason on stderr.\n' +
        'Exit code: 0 ok, 1 unreadable input or bad record, 2 usage error.',
    )
    .requiredOption('--chunks <file>', 'Chunk records: FILE.jsonl or FILE.avro, as `chunkline chunk --out` writes them')
    .requiredOption(
      '--scores <file.jsonl>',
      'retrieval results, one {"chunk_id": ..., "score": ...} a line (higher is more relevant)',
    )
    .addOption(
      new Option('--budget <n>', 'context budget in tokens of the chunks (their num_tokens)')
        .argParser(parsePositiveInteger)
        .makeOptionMandatory(),
    )
    .addOption(
      new Option('--reserved <n>', 'tokens kept free inside the budget for instructions, question and answer')
        .argParser(parseNonNegativeInteger)
        .default(0),
    )
    .addOption(
      new Option('--overhead <n>', 'tokens each chosen chunk costs on top of its own (separator, header)')
        .argParser(parseNonNegativeInteger)
        .default(0),
    )
    .addOption(
      new Option('--strategy <name>', 'order of the chosen chunks')
        .choices(ORDERING_STRATEGIES)
        .default('important_first_last'),
    )
    .option('--out <file.jsonl>', 'write the chosen chunks here (default: stdout)')
    .action((options: ContextPackCommandOptions) => {
      onParsed({ kind: 'context-pack', options: compileContextPackOptions(options) });
    });
}

/** Adds `niah generate`, `niah check` and `niah prompts` to `program`. */
export function addNiahCommands(program: Command, onParsed: (parsed: ContextCommandLine) => void): void {
  const niah = program
    .command('niah')
    .description('Needle in a haystack: generate test documents, check chunks keep the needle whole, build prompts.');

  niah
    .command('generate')
    .description(
      'Hide --needle at each depth of haystack documents of each length (tokens of --tokenizer). The\n' +
        'haystack is the text files of --haystack, read as `chunk` reads a folder (sorted, dotfiles\n' +
        'skipped) and joined with blank lines. Writes OUT/<id>.txt for each document, id\n' +
        '<prefix>-len<length>-depth<depth>, and OUT/manifest.jsonl (one entry a line, without the text).\n' +
        'Exit code: 0 ok, 1 unreadable haystack, 2 usage error.',
    )
    .requiredOption('--haystack <dir|file>', 'folder (or file) of text to hide the needle in; repeated when too short')
    .requiredOption('--needle <text>', 'the sentence to hide, inserted verbatim')
    .requiredOption('--question <text>', 'the question whose answer is the needle')
    .requiredOption('--answer <text>', 'the expected answer, for whoever scores the model')
    .addOption(
      new Option('--lengths <list>', 'document lengths in tokens, needle included, e.g. 1000,4000,16000')
        .argParser(parsePositiveIntegerList)
        .makeOptionMandatory(),
    )
    .addOption(
      new Option('--depths <list|range>', 'needle depths in percent: a list 0,50,100 or a range 0:100:10 (inclusive)')
        .argParser(parseDepths)
        .makeOptionMandatory(),
    )
    .addOption(
      new Option(
        '--tokenizer <name|dir>',
        'tokenizer that measures lengths (bert-base-uncased, qwen3) or a directory with tokenizer.json',
      ).default(DEFAULT_TOKENIZER),
    )
    .option('--id-prefix <prefix>', 'first part of every document id', 'niah')
    .requiredOption('--out <dir>', 'folder for the documents and manifest.jsonl (created when missing)')
    .action((options: NiahGenerateCommandOptions) => {
      onParsed({ kind: 'niah-generate', options: compileNiahGenerateOptions(options) });
    });

  niah
    .command('check')
    .description(
      'Check that some chunk of each document holds its needle whole, and print cut needles by depth and\n' +
        `length.\n${MATCHING_HELP}\n` +
        'Exit code: 0 every needle whole, 1 a needle cut or missing (or unreadable input), 2 usage error.',
    )
    .requiredOption('--chunks <file>', 'Chunk records of the documents: FILE.jsonl or FILE.avro')
    .requiredOption('--manifest <file.jsonl>', 'the manifest.jsonl `niah generate` wrote')
    .option('--doc-id-prefix <prefix>', DOC_ID_HELP)
    .action((options: NiahCheckCommandOptions) => {
      onParsed({ kind: 'niah-check', options: compileNiahCheckOptions(options) });
    });

  niah
    .command('prompts')
    .description(
      'Build one prompt per document and ordering strategy to ask your own model for the needle: the\n' +
        "document's chunks scored, ordered and joined, with the question and the expected answer.\n" +
        `${MATCHING_HELP}\n` +
        'Exit code: 0 ok, 1 unreadable input, 2 usage error.',
    )
    .requiredOption('--chunks <file>', 'Chunk records of the documents: FILE.jsonl or FILE.avro')
    .requiredOption('--manifest <file.jsonl>', 'the manifest.jsonl `niah generate` wrote')
    .addOption(
      new Option('--strategies <list>', `ordering strategies, comma-separated (${ORDERING_STRATEGIES.join(', ')})`)
        .argParser(choiceListParser(ORDERING_STRATEGIES))
        .default([...ORDERING_STRATEGIES], ORDERING_STRATEGIES.join(',')),
    )
    .addOption(
      new Option('--scoring <name>', 'chunk relevance: question-word overlap (lexical) or reading order (position)')
        .choices(NIAH_SCORINGS)
        .default('lexical'),
    )
    .option('--doc-id-prefix <prefix>', DOC_ID_HELP)
    .requiredOption('--out <file.jsonl>', 'write the prompts here, one JSON object a line')
    .action((options: NiahPromptsCommandOptions) => {
      onParsed({ kind: 'niah-prompts', options: compileNiahPromptsOptions(options) });
    });
}
