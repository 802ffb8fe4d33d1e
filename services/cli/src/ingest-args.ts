/**
 * Command-line parsing of `chunkline ingest` and `chunkline search`: their commander definitions and
 * the compilation of their raw options into frozen, validated options.
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import { DEFAULT_STATE_FILE } from './ingest-state.js';
import { parsePositiveInteger, UsageError } from './usage.js';

/** Value encodings of `--format`. */
export const INGEST_FORMATS = ['avro', 'json'] as const;
export type IngestFormat = (typeof INGEST_FORMATS)[number];

/** Defaults of `chunkline ingest`. */
export const INGEST_DEFAULTS = Object.freeze({
  topic: 'documents.raw',
  format: 'avro' as IngestFormat,
  /** 10 MiB: the worker's default CHUNKLINE_MAX_DOC_BYTES. */
  maxBytes: 10 * 1024 * 1024,
  pollMs: 1000,
  batchRecords: 100,
  batchBytes: 4 * 1024 * 1024,
});

/** `chunkline ingest`, compiled. Frozen. */
export interface CompiledIngestOptions {
  /** Files and folders exactly as given. */
  readonly paths: readonly string[];
  readonly topic: string;
  /** From `--brokers`; `null`: from the KAFKA_BROKERS environment variable. */
  readonly brokers: readonly string[] | null;
  readonly format: IngestFormat;
  readonly watch: boolean;
  /** Publish every file, even when the state says it is unchanged. */
  readonly force: boolean;
  /** Files over this many bytes are reported and skipped. */
  readonly maxBytes: number;
  /** The state file (see ingest-state.ts). */
  readonly statePath: string;
  /** With `watch`: time between two scans, in milliseconds. */
  readonly pollMs: number;
  readonly quiet: boolean;
  /** Records per send, at most. */
  readonly batchRecords: number;
  /** Bytes (keys and values) per send, at most; lowered to the topic's `max.message.bytes`. */
  readonly batchBytes: number;
}

/** Parses `host:port,host:port`. @throws UsageError naming `source`. */
export function parseBrokers(value: string, source: string): string[] {
  const list = value
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b !== '');
  if (list.length === 0 || !list.every((b) => /^[^:\s]+:[0-9]+$/.test(b))) {
    throw new UsageError(`${source} ${JSON.stringify(value)}: expected host:port[,host:port...]`);
  }
  return list;
}

/** The index file when neither `--db` nor CHUNKLINE_INDEX_DB is given (the indexer's default too). */
export const DEFAULT_INDEX_DB = 'chunkline-index.db';

/** `chunkline search`, compiled. Frozen. */
export interface CompiledSearchOptions {
  readonly query: string;
  /** `null`: CHUNKLINE_INDEX_DB, else {@link DEFAULT_INDEX_DB}. */
  readonly dbPath: string | null;
  readonly k: number;
  /** Pass the query to FTS5 as is (its query syntax) instead of OR-ing its words. */
  readonly fts: boolean;
  /** One JSON object per hit instead of text. */
  readonly json: boolean;
}

/** `chunkline ingest` as the user gives it. */
export interface IngestCommandOptions {
  /** @default 'documents.raw' */
  topic?: string;
  /** `host:port,...`; @default the KAFKA_BROKERS environment variable */
  brokers?: string;
  /** @default 'avro' */
  format?: IngestFormat;
  /** @default false */
  watch?: boolean;
  /** @default false */
  force?: boolean;
  /** @default 10485760 */
  maxBytes?: number;
  /** @default '.chunkline-ingest-state.json' */
  state?: string;
  /** @default 1000 */
  pollMs?: number;
  /** @default false */
  quiet?: boolean;
}

/** `chunkline search` as the user gives it. */
export interface SearchCommandOptions {
  /** @default CHUNKLINE_INDEX_DB, else 'chunkline-index.db' */
  db?: string;
  /** @default 5 */
  k?: number;
  /** @default false */
  fts?: boolean;
  /** @default false */
  json?: boolean;
}

/** The commands of this file, parsed. */
export type IngestCommandLine =
  | { readonly kind: 'ingest'; readonly options: CompiledIngestOptions }
  | { readonly kind: 'search'; readonly options: CompiledSearchOptions };

/** Fills in defaults and checks `chunkline ingest`'s options. @throws UsageError */
export function compileIngestOptions(paths: readonly string[], options: IngestCommandOptions): CompiledIngestOptions {
  if (paths.length === 0) throw new UsageError('give at least one file or folder to ingest');
  const topic = options.topic ?? INGEST_DEFAULTS.topic;
  if (topic.trim() === '') throw new UsageError('--topic must not be empty');
  return Object.freeze({
    paths: Object.freeze([...paths]),
    topic,
    brokers: options.brokers === undefined ? null : Object.freeze(parseBrokers(options.brokers, '--brokers')),
    format: options.format ?? INGEST_DEFAULTS.format,
    watch: options.watch ?? false,
    force: options.force ?? false,
    maxBytes: options.maxBytes ?? INGEST_DEFAULTS.maxBytes,
    statePath: options.state ?? DEFAULT_STATE_FILE,
    pollMs: options.pollMs ?? INGEST_DEFAULTS.pollMs,
    quiet: options.quiet ?? false,
    batchRecords: INGEST_DEFAULTS.batchRecords,
    batchBytes: INGEST_DEFAULTS.batchBytes,
  });
}

/** Fills in defaults and checks `chunkline search`'s options. @throws UsageError */
export function compileSearchOptions(query: string, options: SearchCommandOptions): CompiledSearchOptions {
  if (query.trim() === '') throw new UsageError('the query is empty');
  return Object.freeze({
    query,
    dbPath: options.db ?? null,
    k: options.k ?? 5,
    fts: options.fts ?? false,
    json: options.json ?? false,
  });
}

/** Adds `ingest` and `search` to the program. */
export function addIngestCommands(program: Command, onParsed: (parsed: IngestCommandLine) => void): void {
  program
    .command('ingest')
    .description(
      'Publish one RawDocument record per file to a Kafka topic, keyed by doc_id, for chunkline-worker.\n' +
        'doc_id and source are what `chunkline chunk` uses: the path as given, joined with the path inside a given folder.\n' +
        'version is sha256: and the SHA-256 of the file; content_type is text/markdown for .md and .markdown files.\n' +
        'A state file keeps the version published for each doc_id: a re-run sends only new and changed files (unless --force), and a tombstone for each file under the given paths that is gone.\n' +
        'Exit code: 0 ok, 1 some files failed (each is named on stderr) or interrupted, 2 usage error.',
    )
    .argument('<paths...>', 'files and folders to publish (folders recursively, skipping dotfiles)')
    .option('--topic <name>', 'the RawDocument topic (it must exist)', INGEST_DEFAULTS.topic)
    .option('--brokers <host:port,...>', 'bootstrap brokers (default: the KAFKA_BROKERS environment variable)')
    .addOption(
      new Option('--format <format>', 'value encoding: Avro single-object encoding, or a JSON object')
        .choices(INGEST_FORMATS)
        .default(INGEST_DEFAULTS.format),
    )
    .option(
      '--watch',
      'after the first pass, scan again every --poll-ms: publish changed files, send tombstones for deleted ones; SIGINT or SIGTERM flushes, saves the state and exits 0',
      false,
    )
    .option('--force', 'publish every file in the first pass, even unchanged ones', false)
    .addOption(
      new Option('--max-bytes <n>', 'skip (and report) files over this many bytes')
        .argParser(parsePositiveInteger)
        .default(INGEST_DEFAULTS.maxBytes),
    )
    .option('--state <file>', 'the state file (versions published, per brokers and topic)', DEFAULT_STATE_FILE)
    .addOption(
      new Option('--poll-ms <n>', 'with --watch: milliseconds between two scans')
        .argParser(parsePositiveInteger)
        .default(INGEST_DEFAULTS.pollMs),
    )
    .option('--quiet', 'no progress bar (it is shown only when stderr is a terminal)', false)
    .action((paths: string[], options: IngestCommandOptions) => {
      onParsed({ kind: 'ingest', options: compileIngestOptions(paths, options) });
    });

  program
    .command('search')
    .description(
      'The best chunks for a query from the index chunkline-indexer keeps (SQLite FTS5, BM25), with their source, code point offsets and text.\n' +
        'When the source file is on disk (relative to the working directory), its code points [char_start, char_end) are compared with the chunk: verified when equal, stale when the file changed since, missing when there is no such file.\n' +
        'Exit code: 0 ok (also with no match), 1 the index cannot be opened, 2 usage error.',
    )
    .argument('<query>', 'words to look for (any of them, ranked by BM25)')
    .option('--db <file>', 'the index (default: CHUNKLINE_INDEX_DB, else chunkline-index.db)')
    .addOption(new Option('--k <n>', 'how many chunks').argParser(parsePositiveInteger).default(5))
    .option('--fts', 'pass the query to SQLite FTS5 as is (its query syntax: AND, NOT, "phrases", prefix*)', false)
    .option('--json', 'one JSON object per hit', false)
    .action((query: string, options: SearchCommandOptions) => {
      onParsed({ kind: 'search', options: compileSearchOptions(query, options) });
    });
}
