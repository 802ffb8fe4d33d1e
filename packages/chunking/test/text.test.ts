/**
 * The bounded-window text helpers agree with Intl.Segmenter run on the whole string (affordable here
 * because these strings are short; on long strings the whole-string call is what we avoid).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { graphemeFloor, PositionCursor, sentenceBoundaries } from '../src/text.js';
import { hardText } from './arbitraries.js';

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
const sentences = new Intl.Segmenter(undefined, { granularity: 'sentence' });

describe('graphemeFloor', () => {
  it('returns the greatest grapheme boundary at or before a position', () => {
    fc.assert(
      fc.property(hardText(30), fc.nat(), (text, k) => {
        const bounds = [...graphemes.segment(text)].map((s) => s.index).concat(text.length);
        const pos = text.length === 0 ? 0 : k % (text.length + 1);
        const expected = Math.max(...bounds.filter((b) => b <= pos));
        // Clusters longer than the look-back window are the documented exception.
        if (bounds.every((b, i) => i === 0 || b - (bounds[i - 1] ?? 0) < 64))
          expect(graphemeFloor(text, pos)).toBe(expected);
      }),
      { numRuns: 500, seed: 3 },
    );
  });

  it('never splits a surrogate pair, a ZWJ sequence, a flag or CRLF', () => {
    const text = 'a👨‍👩‍👧🇫🇷\r\nb';
    for (let p = 0; p <= text.length; p++) {
      expect([0, 1, 9, 13, 15, 16]).toContain(graphemeFloor(text, p));
    }
  });
});

describe('sentenceBoundaries', () => {
  it('finds the same boundaries as one whole-string call, across window edges', () => {
    const text = Array.from({ length: 400 }, (_, i) => `Sentence number ${i} is here. `).join('');
    const whole = [...sentences.segment(text)].map((s) => s.index).filter((b) => b > 0);
    expect(sentenceBoundaries(text, 0, text.length)).toEqual(whole);
  });

  it('stays within the range and moves forward on text without sentence ends', () => {
    const text = 'x'.repeat(20_000);
    expect(sentenceBoundaries(text, 100, 19_000)).toEqual([]);
  });
});

describe('PositionCursor', () => {
  it('converts UTF-16 positions to code points and UTF-8 bytes', () => {
    const text = 'aé😀中\r\n';
    const c = new PositionCursor(text);
    expect(c.seek(0)).toEqual({ codePoints: 0, bytes: 0 });
    expect(c.seek(2)).toEqual({ codePoints: 2, bytes: 3 });
    expect(c.seek(4)).toEqual({ codePoints: 3, bytes: 7 });
    expect(c.seek(text.length)).toEqual({ codePoints: 6, bytes: Buffer.byteLength(text) });
  });

  it('seeks forward and back to any code point boundary and agrees with a count from the start', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 60 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 20 }),
        (text, picks) => {
          // Code point boundaries of `text` (lone surrogates are code points of their own).
          const bounds = [0];
          for (const ch of text) bounds.push((bounds[bounds.length - 1] ?? 0) + ch.length);
          const c = new PositionCursor(text);
          for (const p of picks) {
            const pos = bounds[p % bounds.length] ?? 0;
            const head = text.slice(0, pos);
            expect(c.seek(pos)).toEqual({
              codePoints: [...head].length,
              bytes: Buffer.byteLength(head, 'utf8'),
            });
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
