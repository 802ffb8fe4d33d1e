/** Conversions between UTF-16 indexes (JavaScript strings) and Unicode code point indexes (records). */

function isHigh(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

function isLow(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** Number of code points in `text[0, end16)`. */
export function codePointsBefore(text: string, end16: number): number {
  let n = 0;
  for (let i = 0; i < end16; i++) {
    n++;
    if (isHigh(text.charCodeAt(i)) && i + 1 < end16 && isLow(text.charCodeAt(i + 1))) i++;
  }
  return n;
}

/** UTF-16 index `cp` code points after UTF-16 index `from16` (clamped to the end of `text`). */
export function utf16Index(text: string, cp: number, from16 = 0): number {
  let i = from16;
  for (let k = 0; k < cp && i < text.length; k++) {
    i += isHigh(text.charCodeAt(i)) && i + 1 < text.length && isLow(text.charCodeAt(i + 1)) ? 2 : 1;
  }
  return i;
}

/** `text[startCp, endCp)` by code points, as Python's `text[start:end]`. */
export function sliceCodePoints(text: string, startCp: number, endCp: number): string {
  const a = utf16Index(text, startCp);
  const b = utf16Index(text, endCp - startCp, a);
  return text.slice(a, b);
}
