/** Reliability fixes in the runtime (issue 5): oversized values refused before decoding; sends split by size. */
import { describe, expect, it } from 'vitest';
import { createChunker } from '@chunkline/chunking';
import { chunkCodec, manifestCodec, sectionCodec } from '@chunkline/records';
import { compileWorkerOptions, RecordProcessor } from '@chunkline/runtime';
import { loadTokenizer } from '@chunkline/tokenizers';
import { valueBound } from '../src/process.js';
import { splitBySize } from '../src/worker.js';

describe('oversized values', () => {
  it('a 50 MB value is dead-lettered as TEXT_TOO_LARGE without being decoded', async () => {
    const options = compileWorkerOptions({ groupId: 'g', maxDocBytes: 10 * 1024 * 1024 });
    let decoded = 0;
    const p = new RecordProcessor(
      options,
      createChunker(await loadTokenizer(), { maxTokens: 64 }),
      {
        chunk: (r) => chunkCodec.encodeSingleObject(r),
        manifest: (r) => manifestCodec.encodeSingleObject(r),
        section: (r) => sectionCodec.encodeSingleObject(r),
      },
      async () => {
        decoded++;
        throw new Error('must not decode');
      },
    );
    const value = Buffer.alloc(50 * 1024 * 1024, 0x61);
    value[0] = 0x7b;
    const r = await p.process({ topic: 'in', partition: 0, offset: '7', key: Buffer.from('big'), value });
    expect(decoded).toBe(0);
    expect(r.outcome).toBe('dead-lettered');
    expect(r.reason).toBe('TEXT_TOO_LARGE');
    expect(r.messages[0]!.value).toBe(value);
    expect(String(r.messages[0]!.headers!['chunkline.error.stage'])).toBe('validate');
    expect(valueBound(10 * 1024 * 1024)).toBeLessThan(value.length);
  });
});

describe('splitBySize', () => {
  const m = (n: number) => ({ topic: 't', key: Buffer.from('k'), value: Buffer.alloc(n) });
  it('keeps sends under the budget and a record bigger than the budget alone', () => {
    const parts = splitBySize([m(100), m(100), m(1_000_000), m(100), m(100)], 1000);
    expect(parts.map((p) => p.length)).toEqual([2, 1, 2]);
    expect(splitBySize([], 1000)).toEqual([]);
  });
});
