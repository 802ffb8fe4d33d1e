/** What was wrong. `BAD_OPTION`: an option of {@link createMetrics}, {@link startHttpServer} or {@link createLogger}. */
export type ObservabilityErrorCode = 'BAD_OPTION';

const BRAND = Symbol.for('chunkline.ObservabilityError');

/**
 * The one public error of this package. Never retriable: the same options fail the same way.
 * Checked with {@link isObservabilityError} (a brand) because `instanceof` fails across package copies.
 */
export class ObservabilityError extends Error {
  readonly code: ObservabilityErrorCode;
  /** The option at fault, e.g. `port`. */
  readonly field: string;
  readonly retriable = false;
  readonly [BRAND] = true;
  constructor(code: ObservabilityErrorCode, field: string, message: string) {
    super(message);
    this.name = 'ObservabilityError';
    this.code = code;
    this.field = field;
  }
}

/** True for an {@link ObservabilityError} from any copy of this package. */
export function isObservabilityError(e: unknown): e is ObservabilityError {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[BRAND] === true;
}
