import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChunkRecord, DocumentManifest } from '@chunkline/chunking';
import { runCli } from '../src/cli.js';
import { FIELDS } from '@chunkline/records';
import { captureIo, readJsonl, sampleCorpus, tempDir, writeTree } from './helpers.js';

/** Runs `chunkline chunk ...args` in-process. */
async function chunk(...args: string[]): Promise<{ code: number; stderr: string; stdout: string }> {
  const cap = captureIo();
  const code = await runCli(['chunk', ...args], cap.io);
  return { code, stderr: cap.stderr(), stdout: cap.stdout() };
}

/** The document text DESIGN.md defines: UTF-8 without a leading BOM. */
function documentText(bytes: Uint8Array): string {
  return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
}

describe('chunkline chunk', () => {
  let dir: string;
  let corpus: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    corpus = path.join(dir, 'corpus');
    await writeTree(corpus, sampleCorpus());
  });
  afterEach(async () => cleanup());

  it('writes byte-identical output on two runs', async () => {
    const outs = [path.join(dir, 'one.jsonl'), path.join(dir, 'two.jsonl')];
    const manifests = [path.join(dir, 'one.manifests.jsonl'), path.join(dir, 'two.manifests.jsonl')];
    for (const [i, out] of outs.entries()) {
      const run = await chunk(corpus, '--out', out, '--manifests', manifests[i] ?? '', '--max-tokens', '48', '--quiet');
      expect(run.stderr).toMatch(
        /documents 5 \| chunks \d+ \| tokens \d+ \| over-cap graphemes 0 \| failed files 0 \| [\d.]+ s \| [\d.]+ MB\/s/,
      );
      expect(run.code).toBe(0);
      expect(run.stdout).toBe('');
    }
    const [a, b] = await Promise.all(outs.map((f) => readFile(f)));
    expect(a?.length).toBeGreaterThan(0);
    expect(a?.equals(b ?? Buffer.alloc(0))).toBe(true);
    const [ma, mb] = await Promise.all(manifests.map((f) => readFile(f)));
    expect(ma?.equals(mb ?? Buffer.alloc(0))).toBe(true);
  });

  it('writes the same bytes with any --threads (0 = main thread), in input order', async () => {
    const outputs: Buffer[][] = [];
    for (const threads of ['0', '1', '3']) {
      const files = ['c.jsonl', 'm.jsonl', 's.jsonl', 'c.avro'].map((f) => path.join(dir, `t${threads}-${f}`));
      const [c, m, s, avro] = files as [string, string, string, string];
      const common = ['--max-tokens', '40', '--hierarchy', 'sections', '--verify', '--quiet', '--threads', threads];
      const run = await chunk(corpus, '--out', c, '--manifests', m, '--sections', s, ...common);
      expect(run.code, run.stderr).toBe(0);
      expect((await chunk(corpus, '--out', avro, ...common)).code).toBe(0);
      outputs.push(await Promise.all(files.map((f) => readFile(f))));
    }
    const [main, ...pooled] = outputs;
    expect(main?.every((b) => b.length > 0)).toBe(true);
    const names = ['chunks.jsonl', 'manifests.jsonl', 'sections.jsonl', 'chunks.avro'];
    for (const [t, other] of pooled.entries()) {
      for (const [i, bytes] of other.entries()) {
        expect(bytes.equals(main?.[i] ?? Buffer.alloc(0)), `${names[i]} with ${t === 0 ? 1 : 3} threads`).toBe(true);
      }
    }
    // Input order: the manifests follow the sorted file list.
    const ids = (await readJsonl<DocumentManifest>(path.join(dir, 't3-m.jsonl'))).map((r) => r.doc_id);
    expect(ids).toEqual([...ids].sort());
  });

  it('writes the same bytes with 2 threads as in the main thread when the threads write many groups themselves', async () => {
    // 150 files of very different sizes: 19 groups of 8 that finish out of order, each written by its
    // thread at the offsets the main thread gives in input order; one file fails in the middle.
    const many = path.join(dir, 'many');
    const tree: Record<string, string | Uint8Array> = {};
    for (let i = 0; i < 150; i++) {
      const words = Array.from({ length: 5 + ((i * 37) % 400) }, (_, w) => `word${(w * i) % 97}`).join(' ');
      tree[`doc-${String(i).padStart(3, '0')}.${i % 3 === 0 ? 'md' : 'txt'}`] = `# Doc ${i}\n\n${words}.\n`;
    }
    tree['doc-076.txt'] = new Uint8Array([0x41, 0xc3, 0x28, 0x42]);
    await writeTree(many, tree);
    const outputs: Buffer[][] = [];
    for (const threads of ['0', '2']) {
      const files = ['c.jsonl', 'm.avro', 's.jsonl', 'c.avro'].map((f) => path.join(dir, `many${threads}-${f}`));
      const [c, m, s, avro] = files as [string, string, string, string];
      const common = ['--max-tokens', '30', '--hierarchy', 'sections', '--quiet', '--threads', threads];
      const run = await chunk(many, '--out', c, '--manifests', m, '--sections', s, ...common);
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toMatch(/doc-076\.txt: .*UTF-8/);
      expect(run.stderr).toContain('documents 149 |');
      expect(run.stderr).toContain('failed files 1 |');
      expect((await chunk(many, '--out', avro, ...common)).code).toBe(1);
      outputs.push(await Promise.all(files.map((f) => readFile(f))));
    }
    const [main, pooled] = outputs as [Buffer[], Buffer[]];
    for (const [i, bytes] of pooled.entries()) {
      expect(bytes.length).toBeGreaterThan(1000);
      expect(bytes.equals(main[i] as Buffer), `output ${i}`).toBe(true);
    }
    const ids = (await readJsonl<ChunkRecord>(path.join(dir, 'many2-c.jsonl'))).map((r) => r.doc_id);
    expect(new Set(ids).size).toBe(149);
    expect(ids).toEqual([...ids].sort());
    expect((await readdir(dir)).filter((f) => f.endsWith('.partial'))).toEqual([]);
  });

  it('stays byte-identical when --out is inside the input folder (never reads its own output)', async () => {
    const out = path.join(corpus, 'chunks.jsonl');
    expect((await chunk(corpus, '--out', out, '--quiet')).code).toBe(0);
    const first = await readFile(out);
    const second = await chunk(corpus, '--out', out, '--quiet');
    expect(second.code).toBe(0);
    expect(second.stderr).toContain('chunks.jsonl: it is an output file of this run');
    expect((await readFile(out)).equals(first)).toBe(true);
    // No temporary file is left behind.
    expect((await readdir(corpus)).filter((f) => f.includes('partial'))).toEqual([]);
  });

  it('fails a non-UTF-8 file (exit 1) and a binary file, and still writes the other files', async () => {
    const bad = path.join(dir, 'mixed');
    await writeTree(bad, {
      'good.txt': 'Plain text that is fine.',
      'latin1.txt': new Uint8Array([0x63, 0x61, 0x66, 0xe9, 0x0a]),
      'image.png': new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x00, 0x00]),
    });
    const out = path.join(dir, 'out.jsonl');
    const run = await chunk(bad, '--out', out, '--quiet');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${bad}/latin1.txt: not valid UTF-8`);
    expect(run.stderr).toMatch(new RegExp(`${bad}/image.png: binary file`));
    expect(run.stderr).toContain('failed files 2');
    const records = await readJsonl<ChunkRecord>(out);
    expect(records.map((r) => r.doc_id)).toEqual([`${bad}/good.txt`]);
    expect(records[0]?.text).toBe('Plain text that is fine.');
  });

  it('names a missing path on stderr, exits 1, and chunks the rest', async () => {
    const out = path.join(dir, 'out.jsonl');
    const missing = path.join(dir, 'missing.txt');
    const run = await chunk(missing, path.join(corpus, 'guide.md'), '--out', out, '--quiet');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${missing}: ENOENT`);
    expect((await readJsonl<ChunkRecord>(out)).length).toBeGreaterThan(0);
  });

  it('sets doc_id and source to the given path joined with the path inside the folder', async () => {
    const out = path.join(dir, 'out.jsonl');
    const manifests = path.join(dir, 'manifests.jsonl');
    await writeTree(corpus, { '.hidden/secret.txt': 'secret', '.dotfile': 'dot' });
    const single = path.join(corpus, 'notes', 'unicode.txt');
    // A trailing slash and a `.` segment: path.posix.join normalizes both.
    const run = await chunk(
      `${corpus}/`,
      `${dir}/./corpus/notes`,
      single,
      '--out',
      out,
      '--manifests',
      manifests,
      '--quiet',
    );
    expect(run.code).toBe(0);
    const expectedDocs = [
      `${corpus}/guide.md`,
      `${corpus}/notes/bom.txt`,
      `${corpus}/notes/deeper/empty.txt`,
      `${corpus}/notes/unicode.txt`,
      `${corpus}/z-last.markdown`,
    ];
    // The second and third paths name documents already chunked under the same id.
    expect(run.stderr).toContain('given more than once');
    const records = await readJsonl<ChunkRecord>(out);
    for (const r of records) {
      expect(Object.keys(r)).toEqual(FIELDS.chunk);
      expect(r.source).toBe(r.doc_id);
      expect(r.content_type).toBe(/\.(md|markdown)$/.test(r.doc_id) ? 'text/markdown' : 'text/plain');
      expect(r.strategy === 'semantic' || r.strategy === 'whole').toBe(true);
      expect(r.tokenizer).toBe('bert-base-uncased');
    }
    const docsWithChunks = [...new Set(records.map((r) => r.doc_id))];
    expect(docsWithChunks).toEqual(expectedDocs.filter((d) => !d.endsWith('empty.txt')));
    // The empty document has no chunks but has a manifest.
    const ms = await readJsonl<DocumentManifest>(manifests);
    expect(ms.map((m) => m.doc_id)).toEqual(expectedDocs);
    const empty = ms.find((m) => m.doc_id.endsWith('empty.txt'));
    expect(empty).toMatchObject({ chunk_count: 0, chunk_ids: [], deleted: false });
    for (const m of ms) {
      expect(m.chunk_ids).toEqual(records.filter((r) => r.doc_id === m.doc_id).map((r) => r.chunk_id));
    }
  });

  it.each([
    ['semantic', '0'],
    ['window', '0'],
    ['window', '8'],
    ['semantic', '8'],
  ])('every record is exact: code points and UTF-8 bytes (%s, overlap %s)', async (strategy, overlap) => {
    const out = path.join(dir, 'out.jsonl');
    const run = await chunk(
      corpus,
      '--out',
      out,
      '--strategy',
      strategy,
      '--max-tokens',
      '32',
      '--overlap',
      overlap,
      '--verify',
      '--quiet',
    );
    expect(run.stderr).toContain('failed files 0');
    expect(run.code).toBe(0);
    const records = await readJsonl<ChunkRecord>(out);
    expect(records.length).toBeGreaterThan(10);
    const texts = new Map<string, { codePoints: string[]; bytes: Buffer }>();
    for (const r of records) {
      let doc = texts.get(r.doc_id);
      if (doc === undefined) {
        const text = documentText(await readFile(r.doc_id));
        doc = { codePoints: Array.from(text), bytes: Buffer.from(text, 'utf8') };
        texts.set(r.doc_id, doc);
      }
      expect(doc.codePoints.slice(r.char_start, r.char_end).join('')).toBe(r.text);
      expect(doc.bytes.subarray(r.byte_start, r.byte_end).equals(Buffer.from(r.text, 'utf8'))).toBe(true);
      expect(r.num_tokens + 2).toBeLessThanOrEqual(32);
    }
    // The BOM is not part of the text: offsets count from after it.
    const bom = records.find((r) => r.doc_id.endsWith('bom.txt') && r.chunk_index === 0);
    expect(bom?.text.startsWith('BOM first.')).toBe(true);
    expect(bom?.byte_start).toBe(0);
  });

  it('exits 2 with the core message when the options do not fit together', async () => {
    const run = await chunk(
      corpus,
      '--out',
      path.join(dir, 'out.jsonl'),
      '--max-tokens',
      '8',
      '--overlap',
      '8',
      '--quiet',
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: /);
    // Nothing is left behind on a usage error.
    expect(await readdir(dir)).toEqual(['corpus']);
  });

  it.each(['0', '2'])(
    'exits 2 naming the tokenizer directory when it cannot be loaded (--threads %s), leaving no output',
    async (threads) => {
      const run = await chunk(
        corpus,
        '--out',
        path.join(dir, 'out.jsonl'),
        '--tokenizer',
        path.join(dir, 'corpus'),
        '--threads',
        threads,
        '--quiet',
      );
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`error: --tokenizer ${path.join(dir, 'corpus')}: `);
      expect(run.stderr).toContain('tokenizer.json');
      expect(await readdir(dir)).toEqual(['corpus']);
    },
  );

  it('exits 1 when --out cannot be written', async () => {
    const run = await chunk(corpus, '--out', path.join(dir, 'no-such-dir', 'out.jsonl'), '--quiet');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('cannot write --out');
  });
});
