/** Code point offsets (what the records' `char_start`/`char_end` count) into JavaScript strings. */

/**
 * The code points `[start, end)` of `text`, or `undefined` when the range is not inside `text`.
 * Walks the string once, without building an array of code points.
 */
export function codePointSlice(text: string, start: number, end: number): string | undefined {
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start) return undefined;
  let cp = 0;
  let i = 0;
  let startIndex = -1;
  for (;;) {
    if (cp === start) startIndex = i;
    if (cp === end) return text.slice(startIndex, i);
    if (i >= text.length) return undefined;
    const c = text.codePointAt(i) ?? 0;
    i += c > 0xffff ? 2 : 1;
    cp += 1;
  }
}
