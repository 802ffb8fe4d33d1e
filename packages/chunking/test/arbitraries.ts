/** fast-check generators of hard text for chunkers. */
import fc from 'fast-check';

/** Fragments that break naive chunkers: clusters, scripts without spaces, bidi, odd whitespace. */
export const HARD_FRAGMENTS: readonly string[] = [
  '👨‍👩‍👧‍👦', // ZWJ family
  '👍🏽', // skin tone
  '🇫🇷🇯🇵', // flags (regional indicator pairs)
  'e\u0301', // decomposed é
  'a\u0308\u0301\u0323', // stacked combining marks
  '\u1100\u1161\u11a8', // Hangul jamo forming one syllable
  '東京都は日本の首都です。', // CJK without spaces
  'ภาษาไทยไม่มีช่องว่างระหว่างคำ', // Thai
  '\u200fשלום עולם\u200e', // Hebrew with bidi marks
  '\u202bمرحبا بالعالم\u202c', // Arabic with embedding marks
  '\r\n',
  '\t',
  '\n\n',
  ' ',
  '\u00a0',
  '\u200b', // zero-width space
  '𝔘𝔫𝔦𝔠𝔬𝔡𝔢', // non-BMP letters
  'Supercalifragilisticexpialidocious'.repeat(3), // a very long word
  'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODk='.repeat(4), // base64-like run
  'Hello, world. This is a sentence! Is it? Yes.',
  '# Heading\n',
  '## Sub heading\n',
  '```\ncode\n\nmore code\n```\n',
  '| a | b |\n|---|---|\n| 1 | 2 |\n',
  '- item\n  - nested item\n',
  '[SEP]', // text that spells an added token
  'x  1', // a whitespace run that byte-level regexes split before a digit
  'a \t 2.5  ', // mixed whitespace before numbers
  ' \u3000 ', // ideographic space
  'end.  Next', // two spaces after a sentence
  "it's — don't ", // contractions and a dash
  'Σ ΟΔΟΣ.', // Greek capitals (final sigma context)
];

/** Text assembled from hard fragments, random Unicode and plain words. */
export function hardText(maxPieces = 60): fc.Arbitrary<string> {
  const piece = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...HARD_FRAGMENTS) },
    { weight: 3, arbitrary: fc.lorem({ maxCount: 12 }) },
    { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 10 }) },
    { weight: 1, arbitrary: fc.constantFrom(' ', '\n', '  ', '\n\n\n', '\t\t') },
  );
  return fc.array(piece, { maxLength: maxPieces }).map((parts) => parts.join(''));
}
