import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  bundledTokenizerDir,
  createSharedPieceCache,
  isTokenizerLoadError,
  loadTokenizer,
} from '@chunkline/tokenizers';

const tmp = mkdtempSync(join(tmpdir(), 'chunkline-tok-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function loadError(dir: string): Promise<Error> {
  try {
    await loadTokenizer(dir);
  } catch (e) {
    return e as Error;
  }
  throw new Error(`loading ${dir} did not fail`);
}

describe('loadTokenizer', () => {
  it('gives the known bert-base-uncased ids with special tokens', async () => {
    const tok = await loadTokenizer();
    expect(tok.id).toBe('bert-base-uncased');
    expect(tok.encodeWithSpecialTokens('Hello, my dog is cute')).toEqual([
      101, 7592, 1010, 2026, 3899, 2003, 10140, 102,
    ]);
    expect(Array.from(tok.encode('Hello, my dog is cute').ids)).toEqual([7592, 1010, 2026, 3899, 2003, 10140]);
  });

  it("refuses a shared piece cache that holds another tokenizer's pieces", async () => {
    const sharedCache = createSharedPieceCache(100);
    await loadTokenizer('qwen3', { sharedCache });
    await loadTokenizer('qwen3', { sharedCache }); // the same tokenizer again: fine
    const err = await loadTokenizer('bert-base-uncased', { sharedCache }).then(
      () => new Error('loading did not fail'),
      (e: unknown) => e as Error,
    );
    expect(isTokenizerLoadError(err) && err.code).toBe('UNSUPPORTED');
    expect(err.message).toMatch(/bert-base-uncased: this shared piece cache holds another tokenizer's pieces/);
  });

  it('loads Qwen3 byte-level BPE by name and from its directory', async () => {
    const byName = await loadTokenizer('qwen3');
    const byDir = await loadTokenizer(bundledTokenizerDir('qwen3'));
    expect(Array.from(byName.encode('Hello world').ids)).toEqual([9707, 1879]);
    expect(byDir.fingerprint).toBe(byName.fingerprint);
    expect(byDir.fingerprint).not.toBe((await loadTokenizer()).fingerprint);
  });

  it('names the directory when it does not exist', async () => {
    const e = await loadError(join(tmp, 'nope'));
    expect(isTokenizerLoadError(e)).toBe(true);
    expect(e.message).toContain(join(tmp, 'nope'));
  });

  it('names the directory and the missing file', async () => {
    const dir = join(tmp, 'no-config');
    cpSync(bundledTokenizerDir('bert-base-uncased'), dir, { recursive: true });
    rmSync(join(dir, 'tokenizer_config.json'));
    const e = await loadError(dir);
    expect(e.message).toContain(dir);
    expect(e.message).toContain('tokenizer_config.json');
    expect((e as { code?: string }).code).toBe('MISSING_FILE');
  });

  it('names the file that is not valid JSON', async () => {
    const dir = join(tmp, 'broken');
    cpSync(bundledTokenizerDir('bert-base-uncased'), dir, { recursive: true });
    writeFileSync(join(dir, 'tokenizer.json'), '{ "model": ');
    const e = await loadError(dir);
    expect(e.message).toContain(join(dir, 'tokenizer.json'));
    expect((e as { code?: string }).code).toBe('BAD_JSON');
  });

  it('rejects a tokenizer whose offsets it cannot compute, saying which kind', async () => {
    const dir = join(tmp, 'unigram');
    cpSync(bundledTokenizerDir('bert-base-uncased'), dir, { recursive: true });
    writeFileSync(
      join(dir, 'tokenizer.json'),
      JSON.stringify({
        version: '1.0',
        added_tokens: [],
        normalizer: null,
        pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
        post_processor: null,
        decoder: null,
        model: {
          type: 'Unigram',
          unk_id: 0,
          vocab: [
            ['<unk>', 0],
            ['▁a', -1],
          ],
        },
      }),
    );
    const e = await loadError(dir);
    expect((e as { code?: string }).code).toBe('UNSUPPORTED');
    expect(e.message).toContain('Unigram');
  });
});
