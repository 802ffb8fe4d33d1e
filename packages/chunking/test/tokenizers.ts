/** Loads both shipped tokenizers once per test file. */
import { loadTokenizer, type HfTokenizer } from '@chunkline/tokenizers';

export const TOKENIZER_NAMES = ['bert-base-uncased', 'qwen3'] as const;

const cache = new Map<string, Promise<HfTokenizer>>();

export function tokenizer(name: string): Promise<HfTokenizer> {
  let t = cache.get(name);
  if (t === undefined) {
    t = loadTokenizer(name);
    cache.set(name, t);
  }
  return t;
}
