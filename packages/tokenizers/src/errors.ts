/** Why a tokenizer could not be loaded or used. */
export type TokenizerErrorCode = 'MISSING_FILE' | 'BAD_JSON' | 'UNSUPPORTED' | 'ALIGNMENT';

const BRAND = Symbol.for('chunkline.TokenizerLoadError');

/**
 * The one public error of this package. `code` says what failed; the message names the directory and
 * file. Checked with {@link isTokenizerLoadError} (a brand), since `instanceof` fails across copies.
 */
export class TokenizerLoadError extends Error {
  readonly code: TokenizerErrorCode;
  readonly [BRAND] = true;
  constructor(code: TokenizerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TokenizerLoadError';
    this.code = code;
  }
}

/** True for a {@link TokenizerLoadError}, from any copy of this package. */
export function isTokenizerLoadError(e: unknown): e is TokenizerLoadError {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[BRAND] === true;
}
