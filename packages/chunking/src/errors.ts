/** What was wrong. `BAD_OPTION`: a chunker option; `BAD_INPUT`: a document. */
export type ChunkingErrorCode = 'BAD_OPTION' | 'BAD_INPUT';

const BRAND = Symbol.for('chunkline.ChunkingError');

/**
 * The one public error of the chunking core. Never retriable: the same input fails the same way.
 * Checked with {@link isChunkingError} (a brand) because `instanceof` fails across package copies.
 */
export class ChunkingError extends Error {
  readonly code: ChunkingErrorCode;
  /** The option or document field at fault, e.g. `overlapTokens`. */
  readonly field: string;
  readonly retriable = false;
  readonly [BRAND] = true;
  constructor(code: ChunkingErrorCode, field: string, message: string) {
    super(message);
    this.name = 'ChunkingError';
    this.code = code;
    this.field = field;
  }
}

/** True for a {@link ChunkingError} from any copy of this package. */
export function isChunkingError(e: unknown): e is ChunkingError {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[BRAND] === true;
}
