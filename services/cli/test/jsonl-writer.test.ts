import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JsonlFileWriter } from '../src/jsonl-writer.js';
import { tempDir } from './helpers.js';

describe('JsonlFileWriter', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  afterEach(async () => cleanup());

  it('streams many records through backpressure and appears only on commit', async () => {
    const file = path.join(dir, 'out.jsonl');
    const writer = await JsonlFileWriter.open(file);
    const n = 50_000; // about 4 MB: several times the buffer, so write() has to wait for 'drain'
    for (let i = 0; i < n; i++) await writer.write({ i, text: 'x'.repeat(64), é: '👍' });
    expect(await readdir(dir)).not.toContain('out.jsonl');
    await writer.commit();
    expect(await readdir(dir)).toEqual(['out.jsonl']);
    const lines = (await readFile(file, 'utf8')).split('\n');
    expect(lines).toHaveLength(n + 1);
    expect(lines[n]).toBe('');
    expect(JSON.parse(lines[n - 1] ?? '')).toEqual({ i: n - 1, text: 'x'.repeat(64), é: '👍' });
  });

  it('abort leaves nothing behind', async () => {
    const writer = await JsonlFileWriter.open(path.join(dir, 'out.jsonl'));
    await writer.write({ a: 1 });
    await writer.abort();
    await writer.abort();
    expect(await readdir(dir)).toEqual([]);
  });

  it('open rejects when the folder does not exist', async () => {
    await expect(JsonlFileWriter.open(path.join(dir, 'no', 'out.jsonl'))).rejects.toThrow(/ENOENT/);
  });
});
