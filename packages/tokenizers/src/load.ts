import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as transformers from '@huggingface/transformers';
import type { Encoding, Tokenizer } from '@chunkline/chunking';
import { AlignedEncoder, type LibraryPipeline } from './aligned-encoder.js';
import { TokenizerLoadError } from './errors.js';
import { type EncoderKind, type FastEncoder, selectFastEncoder } from './fast-encoder.js';
import { type SharedPieceCacheHandle, SharedPieces } from './piece-cache.js';

/** Options of {@link loadTokenizer}. */
export interface LoadTokenizerOptions {
  /**
   * `auto` (default): the fast encoder when the tokenizer.json uses exactly the features it implements,
   * else the reference; `fast`: the fast encoder or a TokenizerLoadError (UNSUPPORTED); `reference`:
   * always the AlignedEncoder driving transformers.js's pipeline step by step.
   */
  encoder?: 'auto' | 'fast' | 'reference';
  /** Told once, at load, which encoder was chosen and why. */
  onEncoderSelected?: (kind: EncoderKind, reason: string) => void;
  /**
   * A piece cache shared with the other threads that chunk with the same tokenizer
   * ({@link createSharedPieceCache}): a word one thread has tokenized is then not tokenized again by
   * another. Used by the fast encoders; the reference encoder has no cache.
   */
  sharedCache?: SharedPieceCacheHandle;
}

/** Name of the tokenizer used when none is configured. */
export const DEFAULT_TOKENIZER = 'bert-base-uncased';

/** Tokenizers shipped inside this package (`assets/NAME`), loadable by name with no network. */
export const BUNDLED_TOKENIZERS: readonly string[] = Object.freeze(['bert-base-uncased', 'qwen3']);

const ASSETS = fileURLToPath(new URL('../assets/', import.meta.url));
/** Encoder used when `loadTokenizer` is given none. */
const DEFAULT_ENCODER: NonNullable<LoadTokenizerOptions['encoder']> = 'auto';

const REQUIRED_FILES = ['tokenizer.json', 'tokenizer_config.json'] as const;

/** Directory of a bundled tokenizer. */
export function bundledTokenizerDir(name: string): string {
  return resolve(ASSETS, name);
}

interface PreTrainedTokenizerLike {
  _tokenizer: LibraryPipeline;
  encode(text: string, options: { add_special_tokens: boolean }): number[];
}

/**
 * A Hugging Face tokenizer loaded offline from a directory through @huggingface/transformers, with
 * per-token character spans computed by {@link AlignedEncoder}.
 */
export class HfTokenizer implements Tokenizer {
  /** Model id recorded on chunks: the bundled name, or `name_or_path` from the config, or the directory name. */
  readonly id: string;
  /** First 16 hex digits of SHA-256 over tokenizer.json and tokenizer_config.json. */
  readonly fingerprint: string;
  /** Directory the tokenizer was loaded from. */
  readonly dir: string;
  /** Which encoder `encode` and `count` use, decided once at load. */
  readonly encoderKind: EncoderKind;
  private readonly lib: PreTrainedTokenizerLike;
  private readonly reference: AlignedEncoder;
  private readonly encoder: AlignedEncoder | FastEncoder;

  /** @internal use {@link loadTokenizer}. */
  constructor(
    id: string,
    dir: string,
    fingerprint: string,
    lib: PreTrainedTokenizerLike,
    reference: AlignedEncoder,
    fast: FastEncoder | null,
  ) {
    this.id = id;
    this.dir = dir;
    this.fingerprint = fingerprint;
    this.lib = lib;
    this.reference = reference;
    this.encoder = fast ?? reference;
    this.encoderKind = fast?.kind ?? 'reference';
  }

  /** Ids (no special tokens) with UTF-16 spans into `text`. Tokenize each document once. */
  encode(text: string): Encoding {
    return this.encoder.encode(text);
  }

  /** Empties the fast encoder's piece cache (for benchmarks; results do not change). */
  clearCache(): void {
    if ('clearCache' in this.encoder) this.encoder.clearCache();
  }

  /** The reference encoding (AlignedEncoder over transformers.js's pipeline), whatever `encoderKind` is. */
  encodeReference(text: string): Encoding {
    return this.reference.encode(text);
  }

  /** Token count of `text` tokenized alone, without special tokens. */
  count(text: string): number {
    return this.encoder.count(text);
  }

  /** Exact count of text[a, b) alone from the document's encoding at clean cuts, else -1. */
  countSpan(text: string, enc: Encoding, a: number, b: number, inside: number): number {
    return this.reference.countSpan(text, enc, a, b, inside);
  }

  /** transformers.js's own `encode` without special tokens: the ids only, the speed baseline. */
  encodeBaseline(text: string): number[] {
    return this.lib.encode(text, { add_special_tokens: false });
  }

  /** transformers.js's own `encode` with the model's special tokens (e.g. [CLS] … [SEP]). */
  encodeWithSpecialTokens(text: string): number[] {
    return this.lib.encode(text, { add_special_tokens: true });
  }
}

function readJson(dir: string, file: string): { raw: Buffer; json: Record<string, unknown> } {
  const path = resolve(dir, file);
  if (!existsSync(path)) {
    throw new TokenizerLoadError(
      'MISSING_FILE',
      `tokenizer directory ${dir} has no ${file} (needs ${REQUIRED_FILES.join(' and ')})`,
    );
  }
  const raw = readFileSync(path);
  try {
    const json: unknown = JSON.parse(raw.toString('utf8'));
    if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new Error('not a JSON object');
    return { raw, json: json as Record<string, unknown> };
  } catch (cause) {
    throw new TokenizerLoadError('BAD_JSON', `${path} is not valid JSON: ${(cause as Error).message}`, { cause });
  }
}

/**
 * Loads a tokenizer offline. `nameOrDir` is a bundled name ({@link BUNDLED_TOKENIZERS}) or a directory
 * holding tokenizer.json and tokenizer_config.json. Never touches the network.
 * @default DEFAULT_TOKENIZER
 */
export async function loadTokenizer(
  nameOrDir: string = DEFAULT_TOKENIZER,
  options: LoadTokenizerOptions = {},
): Promise<HfTokenizer> {
  const mode = options.encoder ?? DEFAULT_ENCODER;
  if (!['auto', 'fast', 'reference'].includes(mode)) {
    throw new TokenizerLoadError('UNSUPPORTED', `encoder must be auto, fast or reference, not ${String(mode)}`);
  }
  const bundled = BUNDLED_TOKENIZERS.includes(nameOrDir);
  const dir = bundled ? bundledTokenizerDir(nameOrDir) : resolve(nameOrDir);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new TokenizerLoadError(
      'MISSING_FILE',
      `tokenizer directory ${dir} does not exist (give a directory with tokenizer.json and tokenizer_config.json, ` +
        `or one of the bundled names: ${BUNDLED_TOKENIZERS.join(', ')})`,
    );
  }
  const tj = readJson(dir, 'tokenizer.json');
  const tc = readJson(dir, 'tokenizer_config.json');
  const className = typeof tc.json.tokenizer_class === 'string' ? tc.json.tokenizer_class : 'PreTrainedTokenizer';
  const registry = transformers as unknown as Record<string, unknown>;
  const Cls = (registry[className] ?? transformers.PreTrainedTokenizer) as new (
    json: object,
    config: object,
  ) => PreTrainedTokenizerLike;
  let lib: PreTrainedTokenizerLike;
  try {
    lib = new Cls(tj.json, tc.json);
  } catch (cause) {
    throw new TokenizerLoadError(
      'BAD_JSON',
      `${dir}: transformers.js rejected the tokenizer: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
  const encoder = new AlignedEncoder(lib._tokenizer, tj.json as never, dir);
  let fast: FastEncoder | null = null;
  let reason = 'encoder: reference requested';
  if (mode !== 'reference') {
    const picked = selectFastEncoder(lib._tokenizer, tj.json as never, encoder);
    if ('encoder' in picked) {
      fast = picked.encoder;
      reason = `tokenizer.json fits the ${fast.kind} encoder`;
    } else if (mode === 'fast') {
      throw new TokenizerLoadError('UNSUPPORTED', `${dir}: no fast encoder for this tokenizer (${picked.reason})`);
    } else reason = `no fast encoder: ${picked.reason}`;
  }
  options.onEncoderSelected?.(fast?.kind ?? 'reference', reason);
  const fingerprint = createHash('sha256').update(tj.raw).update(tc.raw).digest('hex').slice(0, 16);
  if (options.sharedCache !== undefined && fast !== null) {
    try {
      fast.shareCache(new SharedPieces(options.sharedCache, fingerprint));
    } catch (cause) {
      throw new TokenizerLoadError('UNSUPPORTED', `${dir}: ${(cause as Error).message}`, { cause });
    }
  }
  const named = tc.json.name_or_path ?? tc.json._name_or_path;
  const id = bundled ? nameOrDir : typeof named === 'string' && named !== '' ? named : basename(dir);
  return new HfTokenizer(id, dir, fingerprint, lib, encoder, fast);
}
