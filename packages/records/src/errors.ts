/**
 * Why a record could not be decoded or validated. A streaming worker dead-letters every one of these:
 * the same bytes fail the same way, so none is retriable.
 * - `UNKNOWN_FRAMING`: the first bytes match no supported framing.
 * - `UNKNOWN_FINGERPRINT`: single-object encoding with a schema fingerprint we do not know.
 * - `UNKNOWN_SCHEMA_ID`: registry framing with a schema id the registry does not know.
 * - `TRUNCATED`: the bytes end before the record does.
 * - `TRAILING_BYTES`: bytes left over after the record.
 * - `WRONG_TYPE`: the bytes or value do not fit the expected schema (for example another record type).
 * - `INVALID_JSON`: a JSON value that does not parse, or is not an object.
 * - `INVALID_FIELD`: a field missing or of the wrong type (the message names it).
 * - `INVALID_UTF8`: text that is not valid UTF-8.
 * - `REGISTRY`: the schema registry failed or answered something unexpected (retriable when the
 *   HTTP status is 5xx or the connection failed).
 */
export type RecordErrorCode =
  | 'UNKNOWN_FRAMING'
  | 'UNKNOWN_FINGERPRINT'
  | 'UNKNOWN_SCHEMA_ID'
  | 'TRUNCATED'
  | 'TRAILING_BYTES'
  | 'WRONG_TYPE'
  | 'INVALID_JSON'
  | 'INVALID_FIELD'
  | 'INVALID_UTF8'
  | 'REGISTRY';

const BRAND = Symbol.for('chunkline.RecordError');

/** The one public error of this package; `code` says what failed and `field` names the field, if any. */
export class RecordError extends Error {
  readonly code: RecordErrorCode;
  readonly field: string | undefined;
  readonly retriable: boolean;
  readonly [BRAND] = true;
  constructor(
    code: RecordErrorCode,
    message: string,
    options?: { field?: string; retriable?: boolean; cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RecordError';
    this.code = code;
    this.field = options?.field;
    this.retriable = options?.retriable ?? false;
  }
}

/** True for a {@link RecordError} from any copy of this package. */
export function isRecordError(e: unknown): e is RecordError {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[BRAND] === true;
}
