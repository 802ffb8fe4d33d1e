/**
 * Command-line parsing for `chunkline`: the commander program, and the compilation of the `chunk`
 * command's raw options into a frozen, validated {@link CompiledChunkOptions}. The long-context
 * commands are defined in context-args.ts.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { DEFAULT_TOKENIZER } from '@chunkline/tokenizers';
import { defaultThreadCount } from '@chunkline/runtime';
import { addContextCommands, addNiahCommands, type ContextCommandLine } from './context-args.js';
import { addIngestCommands, type IngestCommandLine } from './ingest-args.js';
import type { TextSink } from './io.js';
import { EXIT_USAGE, parseNonNegativeInteger, UsageError } from './usage.js';

/** Strategies the `chunk` command accepts (`whole` is an outcome, not a choice). */
export const STRATEGIES = ['semantic', 'window'] as const;
export type ChunkStrategyName = (typeof STRATEGIES)[number];

/** Defaults of the `chunk` command; `--help` prints them. */
export const CHUNK_DEFAULTS = Object.freeze({
  tokenizer: DEFAULT_TOKENIZER,
  strategy: 'semantic' as ChunkStrategyName,
  maxTokens: 512,
  overlapTokens: 0,
  reservedTokens: 2,
});

/** Options of `chunkline chunk` as the user gives them. Every field except `out` is optional. */
export interface ChunkCommandOptions {
  /** Tokenizer id (`bert-base-uncased`, `qwen3`) or a directory with tokenizer.json. @default 'bert-base-uncased' */
  tokenizer?: string;
  /** @default 'semantic' */
  strategy?: ChunkStrategyName;
  /** Hard cap in tokens per chunk, reserved special tokens included. @default 512 */
  maxTokens?: number;
  /** Tokens each chunk repeats from the end of the previous one. @default 0 */
  overlap?: number;
  /** Special tokens the embedding model adds (e.g. [CLS] and [SEP]). @default 2 */
  reserved?: number;
  /** Output file for Chunk records: `.jsonl` (JSON Lines) or `.avro` (Avro container file, deflate). */
  out: string;
  /** Output file for DocumentManifest records (`.jsonl` or `.avro`); none when absent. */
  manifests?: string;
  /** Check the guarantees G1–G7 on every document. @default false */
  verify?: boolean;
  /** No progress bar. @default false */
  quiet?: boolean;
  /** Chunking threads; 0 chunks in the main thread. @default the CPU count */
  threads?: number;
  /**
   * A model's Hugging Face `config.json`: documents whose tokens plus `reserved` fit its extended
   * window are kept whole (one chunk, strategy `whole`). Off when absent.
   */
  wholeIfFits?: string;
  /** `sections`: also emit parent Section records; chunks never cross a section. @default 'none' */
  hierarchy?: 'none' | 'sections';
  /** Cap of a parent section, reserved special tokens included. @default max(2048, maxTokens) */
  parentMaxTokens?: number;
  /** Output file for Section records (`.jsonl` or `.avro`); needs `--hierarchy sections`. */
  sections?: string;
}

/** The `chunk` command's options with defaults filled in and rules checked. Frozen. */
export interface CompiledChunkOptions {
  /** Files and folders exactly as given on the command line, in that order. */
  readonly paths: readonly string[];
  readonly tokenizer: string;
  readonly strategy: ChunkStrategyName;
  readonly maxTokens: number;
  readonly overlapTokens: number;
  readonly reservedTokens: number;
  readonly outPath: string;
  /** `null`: manifests are not written. */
  readonly manifestsPath: string | null;
  readonly verify: boolean;
  readonly quiet: boolean;
  /** Worker threads that chunk; 0: the main thread. */
  readonly threads: number;
  /** The model `config.json` of `--whole-if-fits`; `null`: off. Read when the command runs. */
  readonly wholeIfFitsConfigPath: string | null;
  readonly hierarchy: 'none' | 'sections';
  /** `null`: the core's default. */
  readonly parentMaxTokens: number | null;
  /** `null`: sections are not written. */
  readonly sectionsPath: string | null;
}

/** A command to run. */
export type CommandLine =
  | { readonly kind: 'chunk'; readonly options: CompiledChunkOptions }
  | { readonly kind: 'inspect'; readonly file: string }
  | ContextCommandLine
  | IngestCommandLine;

/** What parsing a command line produced: a command to run, or an exit code (help, usage error). */
export type ParsedCommandLine = CommandLine | { readonly kind: 'exit'; readonly exitCode: number };

/**
 * Checks the shape of the output paths. Throws {@link UsageError}.
 * Output format is chosen by extension, so an unknown extension is an error rather than a guess.
 */
function checkOutputPath(flag: string, file: string): void {
  const ext = path.extname(file).toLowerCase();
  if (ext !== '.jsonl' && ext !== '.avro') {
    throw new UsageError(`${flag} ${JSON.stringify(file)}: the file name must end in .jsonl or .avro`);
  }
}

/**
 * Fills in defaults, checks rules that span options, and freezes the result.
 * Rules about token sizes that the core owns (overlap vs. cap) are left to `createChunker`,
 * which throws a `ChunkingError` with its own message.
 */
export function compileChunkOptions(paths: readonly string[], options: ChunkCommandOptions): CompiledChunkOptions {
  if (paths.length === 0) throw new UsageError('give at least one file or folder to chunk');
  checkOutputPath('--out', options.out);
  const manifestsPath = options.manifests ?? null;
  if (manifestsPath !== null) {
    checkOutputPath('--manifests', manifestsPath);
    if (path.resolve(manifestsPath) === path.resolve(options.out)) {
      throw new UsageError('--manifests must name a different file than --out');
    }
  }
  const sectionsPath = options.sections ?? null;
  const hierarchy = options.hierarchy ?? 'none';
  if (sectionsPath !== null) {
    checkOutputPath('--sections', sectionsPath);
    if (hierarchy !== 'sections') throw new UsageError('--sections needs --hierarchy sections');
    const others = [options.out, manifestsPath].filter((x): x is string => x !== null).map((x) => path.resolve(x));
    if (others.includes(path.resolve(sectionsPath))) throw new UsageError('--sections must name a file of its own');
  }
  return Object.freeze({
    paths: Object.freeze([...paths]),
    tokenizer: options.tokenizer ?? CHUNK_DEFAULTS.tokenizer,
    strategy: options.strategy ?? CHUNK_DEFAULTS.strategy,
    maxTokens: options.maxTokens ?? CHUNK_DEFAULTS.maxTokens,
    overlapTokens: options.overlap ?? CHUNK_DEFAULTS.overlapTokens,
    reservedTokens: options.reserved ?? CHUNK_DEFAULTS.reservedTokens,
    outPath: options.out,
    manifestsPath,
    verify: options.verify ?? false,
    quiet: options.quiet ?? false,
    threads: options.threads ?? defaultThreadCount(),
    wholeIfFitsConfigPath: options.wholeIfFits ?? null,
    hierarchy,
    parentMaxTokens: options.parentMaxTokens ?? null,
    sectionsPath,
  });
}

function packageVersion(): string {
  // services/cli/package.json, from src/ (tests) and dist/ (the built binary) alike.
  const require = createRequire(import.meta.url);
  const pkg = require('../package.json') as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
}

/**
 * Builds the `chunkline` program. It never calls `process.exit` and writes only to `io`: parse
 * errors and help become a {@link CommanderError} (see {@link parseCommandLine}).
 * `onParsed` receives the command line, compiled, when a command is parsed; a compile step that
 * rejects it throws a {@link UsageError} out of `parse`.
 */
export function buildProgram(
  io: { readonly stdout: TextSink; readonly stderr: TextSink },
  onParsed: (parsed: CommandLine) => void,
): Command {
  const program = new Command('chunkline')
    .description('Split documents into chunks that fit an embedding model, with exact offsets.')
    .version(packageVersion())
    // Set before .command(): subcommands copy these settings when they are created.
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .showHelpAfterError('(add --help for usage)');

  program
    .command('chunk')
    .description(
      'Chunk files and folders (recursively, sorted by path, skipping dotfiles) into Chunk records.\n' +
        'doc_id and source are the path as given, joined with the path inside a given folder.\n' +
        'Exit code: 0 ok, 1 some files failed (each is named on stderr), 2 usage error.',
    )
    .argument('<paths...>', 'files and folders to chunk')
    .addOption(
      new Option(
        '--tokenizer <name|dir>',
        'tokenizer id (bert-base-uncased, qwen3) or a directory with tokenizer.json',
      ).default(CHUNK_DEFAULTS.tokenizer),
    )
    .addOption(
      new Option('--strategy <name>', 'how to cut: at structure (semantic) or in fixed token windows')
        .choices(STRATEGIES)
        .default(CHUNK_DEFAULTS.strategy),
    )
    .addOption(
      new Option('--max-tokens <n>', 'hard cap of tokens per chunk, reserved special tokens included')
        .argParser(parseNonNegativeInteger)
        .default(CHUNK_DEFAULTS.maxTokens),
    )
    .addOption(
      new Option('--overlap <n>', 'tokens each chunk repeats from the end of the previous chunk')
        .argParser(parseNonNegativeInteger)
        .default(CHUNK_DEFAULTS.overlapTokens),
    )
    .addOption(
      new Option('--reserved <n>', 'special tokens the model adds to each chunk (e.g. [CLS] [SEP])')
        .argParser(parseNonNegativeInteger)
        .default(CHUNK_DEFAULTS.reservedTokens),
    )
    .requiredOption(
      '--out <file>',
      'write Chunk records here: FILE.jsonl (one JSON object a line) or FILE.avro (Avro container file, deflate) (required)',
    )
    .option(
      '--manifests <file>',
      'also write DocumentManifest records here, .jsonl or .avro by extension (default: not written)',
    )
    .option('--verify', 'check the chunking guarantees on every document; a violation fails that file', false)
    .option('--quiet', 'no progress bar (it is shown only when stderr is a terminal)', false)
    .addOption(
      new Option('--threads <n>', 'worker threads that chunk, each with its own tokenizer (0: the main thread)')
        .argParser(parseNonNegativeInteger)
        .default(defaultThreadCount(), 'the CPU count'),
    )
    .option(
      '--whole-if-fits <config.json>',
      'keep a document whole (one chunk, strategy whole) when its tokens plus --reserved fit the extended\n' +
        'context window of this model config.json (see `chunkline context plan`); tokens are counted with\n' +
        "--tokenizer, so give the model's own tokenizer for an exact fit (default: off)",
    )
    .addOption(
      new Option(
        '--hierarchy <mode>',
        'sections: also emit parent sections (Markdown headings, numbered clauses, titles); chunks never cross one',
      )
        .choices(['none', 'sections'])
        .default('none'),
    )
    .addOption(
      new Option('--parent-max-tokens <n>', 'cap of a parent section; longer sections are split into parts')
        .argParser(parseNonNegativeInteger)
        .default(undefined, 'max(2048, --max-tokens)'),
    )
    .option('--sections <file>', 'write Section records here, .jsonl or .avro (needs --hierarchy sections)')
    .action((paths: string[], options: ChunkCommandOptions) => {
      onParsed({ kind: 'chunk', options: compileChunkOptions(paths, options) });
    });

  program
    .command('inspect')
    .description(
      'Print the records of an Avro container file as JSON lines (like avro-tools tojson, with unions\n' +
        'unwrapped: the same lines `chunk --out FILE.jsonl` writes). Exit code: 0 ok, 1 unreadable file.',
    )
    .argument('<file.avro>', 'an Avro container file written by chunkline (or any Avro writer)')
    .action((file: string) => {
      onParsed({ kind: 'inspect', file });
    });

  addContextCommands(program, onParsed);
  addNiahCommands(program, onParsed);
  addIngestCommands(program, onParsed);
  return program;
}

/**
 * Parses `argv` (the arguments after `node main.js`). Help, version and usage errors are written to
 * `io` and returned as an exit code; a valid command line is returned compiled.
 */
export function parseCommandLine(
  argv: readonly string[],
  io: { readonly stdout: TextSink; readonly stderr: TextSink },
): ParsedCommandLine {
  let parsed: ParsedCommandLine | undefined;
  const program = buildProgram(io, (commandLine) => {
    parsed = commandLine;
  });
  try {
    program.parse([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`error: ${err.message}\n`);
      return { kind: 'exit', exitCode: EXIT_USAGE };
    }
    if (err instanceof CommanderError) {
      // Help and --version exit 0; commander has already written every message.
      const ok = err.code === 'commander.helpDisplayed' || err.code === 'commander.version';
      return { kind: 'exit', exitCode: ok ? 0 : EXIT_USAGE };
    }
    throw err;
  }
  // No command: commander printed help and threw above; this is only a fallback.
  return parsed ?? { kind: 'exit', exitCode: EXIT_USAGE };
}
