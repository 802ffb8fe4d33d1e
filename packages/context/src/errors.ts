/**
 * What was wrong. `BAD_OPTION`: an option of a function (a budget, a strategy, a list of lengths);
 * `BAD_INPUT`: a passage, document or chunk handed in; `BAD_CONFIG`: a model's `config.json`.
 */
export type ContextErrorCode = 'BAD_OPTION' | 'BAD_INPUT' | 'BAD_CONFIG';

const BRAND = Symbol.for('chunkline.ContextError');

/**
 * The one public error of the context toolkit. Never retriable: the same input fails the same way.
 * Checked with {@link isContextError} (a brand) because `instanceof` fails across package copies.
 */
export class ContextError extends Error {
  readonly code: ContextErrorCode;
  /** The option or input field at fault, e.g. `reservedTokens` or `rope_scaling.factor`. */
  readonly field: string;
  readonly retriable = false;
  readonly [BRAND] = true;
  constructor(code: ContextErrorCode, field: string, message: string) {
    super(message);
    this.name = 'ContextError';
    this.code = code;
    this.field = field;
  }
}

/** True for a {@link ContextError} from any copy of this package. */
export function isContextError(e: unknown): e is ContextError {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[BRAND] === true;
}
