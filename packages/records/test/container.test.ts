/** Avro container files: a closed file holds every record (the writer waits for the file, not the encoder). */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ContainerWriter, readContainer, type DocumentManifest } from '@chunkline/records';

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

describe('ContainerWriter', () => {
  it('has written every block to the file when close() resolves', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'chunkline-container-'));
    dirs.push(dir);
    // Several runs: the file stream lagging behind the encoder is a race, not a certainty.
    for (let run = 0; run < 5; run++) {
      const file = path.join(dir, `m${run}.avro`);
      const writer = new ContainerWriter<DocumentManifest>(file, 'manifest');
      for (let i = 0; i < 20_000; i++) await writer.write(manifest(i));
      await writer.close();
      // Read the bytes at once, as a rename-then-read would.
      const bytes = await readFile(file);
      let n = 0;
      for await (const r of readContainer(file)) {
        expect((r as DocumentManifest).doc_id).toBe(`doc-${n}`);
        n++;
      }
      expect(n).toBe(20_000);
      expect((await readFile(file)).equals(bytes)).toBe(true);
    }
  });
});
