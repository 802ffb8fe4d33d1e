/**
 * Avro container files: blocks encoded apart (as threads do) and appended in order make one valid file
 * with every record, and a closed file holds every byte (close waits for the file itself).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ContainerWriter, encodeContainerBlocks, readContainer, type DocumentManifest } from '@chunkline/records';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

function manifest(i: number): DocumentManifest {
  return {
    doc_id: `doc-${i}`,
    doc_version: `v${i}`,
    chunk_ids: [`c-${i}-0`, `c-${i}-1`],
    chunk_count: 2,
    total_tokens: i,
    deleted: false,
    chunker_fingerprint: 'f',
    section_ids: [],
  };
}

async function readAll(file: string): Promise<DocumentManifest[]> {
  const out: DocumentManifest[] = [];
  for await (const r of readContainer(file)) out.push(r as DocumentManifest);
  return out;
}

describe('ContainerWriter and encodeContainerBlocks', () => {
  it('has written every block to the file when close() resolves', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'chunkline-container-'));
    dirs.push(dir);
    // Several runs: the file stream lagging behind the writes is a race, not a certainty.
    for (let run = 0; run < 5; run++) {
      const file = path.join(dir, `m${run}.avro`);
      const writer = new ContainerWriter(file, 'manifest');
      // Groups of different sizes (one over the 64 KiB block size), some empty.
      let n = 0;
      for (const size of [0, 1, 7, 1000, 0, 3000, 16_000]) {
        const group = Array.from({ length: size }, (_, k) => manifest(n + k));
        n += size;
        await writer.writeBlocks(await encodeContainerBlocks('manifest', group));
      }
      await writer.close();
      // Read the bytes at once, as a rename-then-read would.
      const bytes = await readFile(file);
      const records = await readAll(file);
      expect(records.map((r) => r.doc_id)).toEqual(Array.from({ length: n }, (_, i) => `doc-${i}`));
      expect(records[5]).toEqual(manifest(5));
      expect((await readFile(file)).equals(bytes)).toBe(true);
    }
  });

  it('gives the same bytes for the same records, and a file with only a header when none are written', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'chunkline-container-'));
    dirs.push(dir);
    const group = Array.from({ length: 50 }, (_, i) => manifest(i));
    const [a, b] = await Promise.all([
      encodeContainerBlocks('manifest', group),
      encodeContainerBlocks('manifest', group),
    ]);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(a.byteOffset).toBe(0);
    expect(a.buffer.byteLength).toBe(a.byteLength); // its own buffer, so it can be transferred
    const empty = path.join(dir, 'empty.avro');
    const writer = new ContainerWriter(empty, 'manifest');
    await writer.close();
    expect(await readAll(empty)).toEqual([]);
  });

  it('rejects a record that does not fit the schema instead of leaving it out', async () => {
    const bad = { ...manifest(1), total_tokens: 'many' };
    await expect(encodeContainerBlocks('manifest', [manifest(0), bad])).rejects.toThrow(
      /a manifest record does not fit its schema: invalid "long": "many"/,
    );
  });
});
