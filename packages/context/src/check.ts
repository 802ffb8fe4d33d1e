/** Small validators shared by the modules; each throws a {@link ContextError} naming the field. */
import { ContextError, type ContextErrorCode } from './errors.js';

/** `value` as an integer `>= min`, or a {@link ContextError} saying what was expected. */
export function intAtLeast(code: ContextErrorCode, field: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new ContextError(code, field, `${field} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** `value` as a number that is not NaN (relevance scores may be any real, including negative). */
export function score(field: string, value: unknown): number {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new ContextError('BAD_INPUT', field, `${field} must be a number, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** `value` as one of `choices`, or an error listing them. */
export function oneOf<T extends string>(
  code: ContextErrorCode,
  field: string,
  value: unknown,
  choices: readonly T[],
): T {
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    throw new ContextError(code, field, `${field} must be one of ${choices.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}
