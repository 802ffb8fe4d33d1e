/**
 * Exit codes, the two errors a command throws to end with one, and the commander value parsers shared
 * by every command. Exit codes: 0 ok, 1 failures (an input file that cannot be read or has bad
 * records, files that failed), 2 usage error (bad flags or values, an unusable model config).
 */
import { InvalidArgumentError } from 'commander';

/** Exit code for usage errors (bad flags, bad values), as most Unix tools use it. */
export const EXIT_USAGE = 2;

/** Exit code when the command ran but some input failed (a file, a record, a needle). */
export const EXIT_FAILED = 1;

/** A command line that cannot run; `runCli` prints `error: message` and exits with 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * A file named on the command line that cannot be read or written, or that holds a bad record;
 * `runCli` prints `error: message` and exits with 1. The message names the flag and the file (and the
 * line when known).
 */
export class FileError extends Error {
  override readonly name = 'FileError';
}

/** commander argument parser for integers ≥ 0; commander names the flag in its error message. */
export function parseNonNegativeInteger(value: string): number {
  // Digits only: Number() alone would accept '', ' 1', '1e3', '0x10'.
  if (!/^[0-9]+$/.test(value)) throw new InvalidArgumentError('expected an integer >= 0.');
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError('the number is too large.');
  return n;
}

/** commander argument parser for integers ≥ 1. */
export function parsePositiveInteger(value: string): number {
  if (!/^[0-9]+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('expected an integer >= 1.');
  return parseNonNegativeInteger(value);
}

function duplicateIn(xs: readonly number[]): number | undefined {
  return xs.find((x, i) => xs.indexOf(x) !== i);
}

/** commander parser for a comma-separated list of integers ≥ 1 without duplicates: `1000,4000,16000`. */
export function parsePositiveIntegerList(value: string): number[] {
  const parts = value.split(',').map((s) => s.trim());
  if (parts.some((s) => s === '')) throw new InvalidArgumentError('expected a comma-separated list, e.g. 1000,4000.');
  const xs = parts.map((s) => {
    if (!/^[0-9]+$/.test(s) || !Number.isSafeInteger(Number(s)) || Number(s) < 1) {
      throw new InvalidArgumentError(`${JSON.stringify(s)} is not an integer >= 1.`);
    }
    return Number(s);
  });
  const dup = duplicateIn(xs);
  if (dup !== undefined) throw new InvalidArgumentError(`${dup} is listed twice.`);
  return xs;
}

const NUMBER = /^[0-9]+(?:\.[0-9]+)?$/;

function percent(s: string): number {
  if (!NUMBER.test(s)) throw new InvalidArgumentError(`${JSON.stringify(s)} is not a number from 0 to 100.`);
  const n = Number(s);
  if (n > 100) throw new InvalidArgumentError(`${s} is over 100.`);
  return n;
}

/** Most depths a range may expand to, so that a typo like `0:100:0.0001` fails fast. */
const MAX_DEPTHS = 1001;

/**
 * commander parser for needle depths in percent (0 to 100): a list `0,10,20` or an inclusive range
 * `START:END:STEP` (`0:100:10` is 0, 10, …, 100). Decimals are allowed; duplicates are not.
 */
export function parseDepths(value: string): number[] {
  const range = value.split(':');
  let xs: number[];
  if (range.length === 1) {
    const parts = value.split(',').map((s) => s.trim());
    if (parts.some((s) => s === '')) throw new InvalidArgumentError('expected a list 0,50,100 or a range 0:100:10.');
    xs = parts.map(percent);
  } else if (range.length === 3) {
    const [start, end, step] = range.map((s) => percent(s.trim())) as [number, number, number];
    if (step <= 0) throw new InvalidArgumentError('the step of START:END:STEP must be over 0.');
    if (end < start) throw new InvalidArgumentError('END of START:END:STEP must not be below START.');
    const count = Math.floor((end - start) / step + 1e-9) + 1;
    if (count > MAX_DEPTHS) throw new InvalidArgumentError(`the range gives ${count} depths; at most ${MAX_DEPTHS}.`);
    // start + i × step, rounded, so that 0:1:0.1 gives 0.3 and not 0.30000000000000004.
    xs = Array.from({ length: count }, (_, i) => Math.round((start + i * step) * 1e9) / 1e9);
  } else {
    throw new InvalidArgumentError('expected a list 0,50,100 or a range START:END:STEP such as 0:100:10.');
  }
  const dup = duplicateIn(xs);
  if (dup !== undefined) throw new InvalidArgumentError(`${dup} is listed twice.`);
  return xs;
}

/** A commander parser for a comma-separated list of names, each one of `choices`, without duplicates. */
export function choiceListParser<T extends string>(choices: readonly T[]): (value: string) => T[] {
  return (value) => {
    const parts = value.split(',').map((s) => s.trim());
    for (const p of parts) {
      if (!(choices as readonly string[]).includes(p)) {
        throw new InvalidArgumentError(`${JSON.stringify(p)} is not one of ${choices.join(', ')}.`);
      }
    }
    const dup = parts.find((x, i) => parts.indexOf(x) !== i);
    if (dup !== undefined) throw new InvalidArgumentError(`${dup} is listed twice.`);
    return parts as T[];
  };
}
