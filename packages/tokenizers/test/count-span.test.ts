/**
 * The exact shortcut `countSpan` must never disagree with tokenizing the span alone: whenever it gives
 * a count (>= 0) instead of -1, that count equals `count(text.slice(a, b))`. Checked at every pair of
 * random cut points, including cuts chosen next to whitespace where the shortcut applies.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadTokenizer } from '@chunkline/tokenizers';

const PIECES = [
  'x  1',
  'a \t 2.5  ',
  'end.  Next',
  'word\n\nNext',
  ' 12 34 ',
  'ÉCOLE  été',
  'Σ ΟΔΟΣ. ',
  '😀 👍🏽 ',
  '  \n  ',
  'e\u0301 ',
  '東京 ',
  "it's ",
  '[SEP] ',
  '\u00a0\u2003',
];

function tokensInside(enc: { start16: Int32Array; end16: Int32Array }, a: number, b: number): number {
  let n = 0;
  for (let i = 0; i < enc.start16.length; i++) if ((enc.start16[i] ?? 0) >= a && (enc.end16[i] ?? 0) <= b) n++;
  return n;
}

describe.each(['bert-base-uncased', 'qwen3'])('countSpan with %s', (name) => {
  it('equals the count of the span tokenized alone whenever it answers', async () => {
    const tok = await loadTokenizer(name);
    let answered = 0;
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.constantFrom(...PIECES),
            fc.lorem({ maxCount: 3 }),
            fc.string({ unit: 'grapheme', maxLength: 6 }),
          ),
          {
            minLength: 1,
            maxLength: 25,
          },
        ),
        fc.array(fc.tuple(fc.nat(), fc.nat()), { minLength: 1, maxLength: 30 }),
        (parts, cuts) => {
          const text = parts.join('');
          const enc = tok.encode(text);
          // Candidate cuts: random positions and every position next to whitespace.
          const ws = [...text.matchAll(/\s+/g)].flatMap((m) => [m.index, m.index + m[0].length]);
          const positions = [0, text.length, ...ws];
          for (const [x, y] of cuts) {
            const a = positions[x % positions.length] ?? 0;
            const b = positions[y % positions.length] ?? text.length;
            if (a >= b) continue;
            const fast = tok.countSpan(text, enc, a, b, tokensInside(enc, a, b));
            if (fast >= 0) {
              answered++;
              expect(fast, JSON.stringify(text.slice(a, b))).toBe(tok.count(text.slice(a, b)));
            }
          }
        },
      ),
      {
        numRuns: Number(process.env.CHUNKLINE_PROPERTY_RUNS ?? 300),
        seed: Number(process.env.CHUNKLINE_PROPERTY_SEED ?? 7),
      },
    );
    expect(answered).toBeGreaterThan(200); // the shortcut is really exercised
  });
});
