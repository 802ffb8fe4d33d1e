/**
 * `chunkline ingest` with an in-memory sink in place of Kafka: ids, versions and values, the state file
 * (re-runs send only changes, tombstones for deleted files), skipped files, batching, and --watch.
 */
import { createHash } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeRawDocumentJson, rawDocumentCodec, type RawDocumentRecord } from '@chunkline/records';
import { runCli } from '../src/cli.js';
import { isDocIdUnder, listInputFiles, walkInputFiles, type WalkRoot } from '../src/files.js';
import { compileIngestOptions, type IngestCommandOptions } from '../src/ingest-args.js';
import { runIngestCommand } from '../src/ingest-command.js';
import { IngestState, targetKey } from '../src/ingest-state.js';
import type { CliIo } from '../src/io.js';
import type { RecordSink, SinkOpener, SinkRecord } from '../src/kafka-sink.js';
import { captureIo, sampleCorpus, tempDir, writeTree } from './helpers.js';

/** An in-memory topic: every send, in order. */
class MemorySink implements RecordSink {
  readonly sends: SinkRecord[][] = [];
  closed = false;
  constructor(readonly maxBatchBytes = 1_048_588) {}
  async send(records: readonly SinkRecord[]): Promise<void> {
    this.sends.push([...records]);
  }
  async close(): Promise<void> {
    this.closed = true;
  }
  get records(): SinkRecord[] {
    return this.sends.flat();
  }
  /** The latest value of each key, as a compacted topic would keep it (null: tombstone). */
  latest(): Map<string, RawDocumentRecord | null> {
    const out = new Map<string, RawDocumentRecord | null>();
    for (const r of this.records)
      out.set(r.key, r.value === null ? null : rawDocumentCodec.decodeSingleObject(r.value));
    return out;
  }
}

function opener(sink: MemorySink): SinkOpener & { targets: unknown[] } {
  const targets: unknown[] = [];
  const open = async (target: unknown): Promise<RecordSink> => {
    targets.push(target);
    return sink;
  };
  return Object.assign(open, { targets });
}

describe('chunkline ingest', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let statePath: string;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    statePath = path.join(dir, 'state.json');
  });
  afterEach(async () => cleanup());

  const ingest = async (
    sink: MemorySink,
    paths: string[],
    options: IngestCommandOptions = {},
    io: CliIo = captureIo().io,
  ): Promise<number> =>
    runIngestCommand(
      compileIngestOptions(paths, { brokers: '127.0.0.1:9092', state: statePath, ...options }),
      io,
      opener(sink),
    );

  it('publishes one RawDocument per file with the ids `chunk` uses and the SHA-256 of the bytes', async () => {
    const corpus = path.join(dir, 'corpus');
    await writeTree(corpus, sampleCorpus());
    const sink = new MemorySink();
    const cap = captureIo();
    expect(await ingest(sink, [`${corpus}/`], {}, cap.io)).toBe(0);
    const listing = await listInputFiles([`${corpus}/`]);
    const docs = sink.latest();
    expect([...docs.keys()]).toEqual(listing.files.map((f) => f.docId));
    for (const f of listing.files) {
      const bytes = await readFile(f.fsPath);
      const doc = docs.get(f.docId)!;
      expect(doc).toMatchObject({
        doc_id: f.docId,
        source: f.docId,
        version: `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
        content_type: f.docId.endsWith('.md') || f.docId.endsWith('.markdown') ? 'text/markdown' : 'text/plain',
        metadata: {},
      });
      expect(doc.text).toBe(new TextDecoder().decode(bytes)); // without the BOM, as `chunk` reads it
    }
    expect(cap.stderr()).toMatch(/chunkline ingest: sent 5 documents .* \| unchanged 0 \| deleted 0 \| failed 0 \|/);
    expect(sink.closed).toBe(true);
  });

  it('sends nothing for unchanged files, the changed file alone, and a tombstone for a deleted one', async () => {
    await writeTree(dir, { 'docs/a.txt': 'alpha', 'docs/b.md': '# Beta', 'docs/c.txt': 'gamma' });
    const docs = path.join(dir, 'docs');
    const sink = new MemorySink();
    expect(await ingest(sink, [docs])).toBe(0);
    expect(sink.records).toHaveLength(3);

    const again = new MemorySink();
    expect(await ingest(again, [docs])).toBe(0);
    expect(again.records).toEqual([]);

    await writeFile(path.join(docs, 'a.txt'), 'alpha, edited');
    await rm(path.join(docs, 'c.txt'));
    const changes = new MemorySink();
    const cap = captureIo();
    expect(await ingest(changes, [docs], {}, cap.io)).toBe(0);
    expect(changes.records.map((r) => [r.key, r.value === null ? null : 'value'])).toEqual([
      [`${docs}/a.txt`, 'value'],
      [`${docs}/c.txt`, null],
    ]);
    expect(cap.stderr()).toMatch(/sent 1 documents .* \| unchanged 1 \| deleted 1 \|/);

    const forced = new MemorySink();
    expect(await ingest(forced, [docs], { force: true })).toBe(0);
    expect(forced.records.map((r) => r.key)).toEqual([`${docs}/a.txt`, `${docs}/b.md`]);

    // Another topic is another target: its state starts empty.
    const other = new MemorySink();
    expect(await ingest(other, [docs], { topic: 'other.raw' })).toBe(0);
    expect(other.records).toHaveLength(2);
    const state = JSON.parse(await readFile(statePath, 'utf8')) as { targets: Record<string, unknown> };
    expect(Object.keys(state.targets).sort()).toEqual(
      [targetKey(['127.0.0.1:9092'], 'documents.raw'), targetKey(['127.0.0.1:9092'], 'other.raw')].sort(),
    );
  });

  it('sends no tombstone under a path that cannot be read, nor for documents of other paths', async () => {
    await writeTree(dir, { 'one/a.txt': 'a', 'two/b.txt': 'b' });
    const one = path.join(dir, 'one');
    const two = path.join(dir, 'two');
    expect(await ingest(new MemorySink(), [one, two])).toBe(0);
    await rm(one, { recursive: true });
    const sink = new MemorySink();
    const cap = captureIo();
    expect(await ingest(sink, [one, two], {}, cap.io)).toBe(1); // `one` is missing: a failure
    expect(sink.records).toEqual([]);
    expect(cap.stderr()).toMatch(/one: ENOENT/);
    // Ingesting `two` alone says nothing about `one`'s documents.
    const alone = new MemorySink();
    expect(await ingest(alone, [two])).toBe(0);
    expect(alone.records).toEqual([]);
  });

  it('reports and skips files over --max-bytes and files that are not UTF-8 text, with exit code 1', async () => {
    await writeTree(dir, {
      'in/ok.txt': 'fine',
      'in/big.txt': 'x'.repeat(2000),
      'in/latin1.txt': new Uint8Array([0x63, 0x61, 0x66, 0xe9]),
      'in/bin.dat': new Uint8Array([0x68, 0x00, 0x69]),
    });
    const sink = new MemorySink();
    const cap = captureIo();
    expect(await ingest(sink, [path.join(dir, 'in')], { maxBytes: 1000 }, cap.io)).toBe(1);
    expect(sink.records.map((r) => path.basename(r.key))).toEqual(['ok.txt']);
    expect(cap.stderr()).toMatch(/big\.txt: 2000 bytes, over --max-bytes 1000; skipped/);
    expect(cap.stderr()).toMatch(/latin1\.txt: not valid UTF-8/);
    expect(cap.stderr()).toMatch(/bin\.dat: binary file/);
    expect(cap.stderr()).toMatch(/failed 3/);
  });

  it('writes JSON objects with --format json', async () => {
    await writeTree(dir, { 'j.md': '# Title\n\nText.' });
    const sink = new MemorySink();
    expect(await ingest(sink, [path.join(dir, 'j.md')], { format: 'json' })).toBe(0);
    const doc = decodeRawDocumentJson(sink.records[0]!.value!);
    expect(doc).toMatchObject({
      doc_id: path.join(dir, 'j.md'),
      content_type: 'text/markdown',
      text: '# Title\n\nText.',
    });
  });

  it('sends in batches of at most 100 records and under the topic’s max.message.bytes', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 250; i++) files[`many/f${String(i).padStart(3, '0')}.txt`] = `document ${i} `.repeat(20);
    await writeTree(dir, files);
    const sink = new MemorySink();
    expect(await ingest(sink, [path.join(dir, 'many')])).toBe(0);
    expect(sink.sends.map((s) => s.length)).toEqual([100, 100, 50]);

    const small = new MemorySink(20_000);
    expect(await ingest(small, [path.join(dir, 'many')], { force: true, state: path.join(dir, 's2.json') })).toBe(0);
    expect(small.records).toHaveLength(250);
    for (const batch of small.sends) {
      const bytes = batch.reduce((n, r) => n + r.key.length + (r.value?.length ?? 0) + 64, 0);
      expect(bytes).toBeLessThanOrEqual(20_000);
    }
    // A record that can never fit is reported, not sent.
    await writeTree(dir, { 'huge/h.txt': 'h'.repeat(30_000) });
    const cap = captureIo();
    expect(await ingest(new MemorySink(20_000), [path.join(dir, 'huge')], {}, cap.io)).toBe(1);
    expect(cap.stderr()).toMatch(/over what the topic accepts \(max\.message\.bytes\)/);
  });

  it('needs brokers from --brokers or KAFKA_BROKERS, and checks their form', async () => {
    const cap = captureIo();
    expect(await runCli(['ingest', dir, '--state', statePath], cap.io)).toBe(2);
    expect(cap.stderr()).toMatch(/give --brokers/);
    const bad = captureIo();
    expect(await runCli(['ingest', dir, '--brokers', 'nohostport'], bad.io)).toBe(2);
    expect(bad.stderr()).toMatch(/--brokers "nohostport": expected host:port/);
    const sink = new MemorySink();
    const open = opener(sink);
    await writeTree(dir, { 'e.txt': 'env' });
    const options = compileIngestOptions([path.join(dir, 'e.txt')], { state: statePath });
    const io = { ...captureIo().io, env: { KAFKA_BROKERS: 'b1:9092, b2:9093' } };
    expect(await runIngestCommand(options, io, open)).toBe(0);
    expect(open.targets).toEqual([{ brokers: ['b1:9092', 'b2:9093'], topic: 'documents.raw' }]);
  });

  it('refuses a --state file that is not one', async () => {
    await writeFile(statePath, '{"something": "else"}');
    const cap = captureIo();
    await expect(ingest(new MemorySink(), [dir], {}, cap.io)).rejects.toThrow(/is not an ingest state file/);
  });

  it('--watch publishes changes and deletions until stopped, then saves the state and returns 0', async () => {
    await writeTree(dir, { 'w/a.txt': 'one', 'w/b.txt': 'two' });
    const w = path.join(dir, 'w');
    const sink = new MemorySink();
    const controller = new AbortController();
    const cap = captureIo();
    const io: CliIo = { ...cap.io, stopSignal: () => controller.signal };
    const run = ingest(sink, [w], { watch: true, pollMs: 20 }, io);
    const waitFor = async (what: string, check: () => boolean): Promise<void> => {
      const deadline = Date.now() + 10_000;
      while (!check()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; stderr: ${cap.stderr()}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    await waitFor('the first pass', () => sink.records.length === 2);
    await writeFile(path.join(w, 'a.txt'), 'one, changed');
    await writeTree(w, { 'c.txt': 'three' });
    await waitFor('the change', () => sink.latest().get(`${w}/a.txt`)?.text === 'one, changed');
    await waitFor('the new file', () => sink.latest().has(`${w}/c.txt`));
    await rm(path.join(w, 'b.txt'));
    await waitFor('the tombstone', () => sink.latest().get(`${w}/b.txt`) === null);
    const sent = sink.records.length;
    await new Promise((r) => setTimeout(r, 100)); // a few idle polls send nothing
    expect(sink.records.length).toBe(sent);
    controller.abort();
    expect(await run).toBe(0);
    expect(cap.stderr()).toMatch(/chunkline ingest: stopped/);
    const state = await IngestState.load(statePath, ['127.0.0.1:9092'], 'documents.raw');
    expect([...state.docIds()].sort()).toEqual([`${w}/a.txt`, `${w}/c.txt`]);
  });
});

describe('walking input files as a stream', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  afterEach(async () => cleanup());

  it('gives the same files, ids and order as listInputFiles', async () => {
    await writeTree(dir, {
      ...sampleCorpus(),
      'docs/b.txt': 'b',
      'docs/a-c.txt': 'x',
      'docs/a/z.md': 'z',
      'docs/É.txt': 'e',
      'docs/.hidden.txt': 'h',
    });
    const paths = [`${dir}/`, path.join(dir, 'docs'), path.join(dir, 'guide.md')];
    const listed = (await listInputFiles(paths)).files;
    const seen = new Set<string>();
    const streamed = [];
    for await (const f of walkInputFiles(paths)) {
      if (seen.has(f.docId)) continue;
      seen.add(f.docId);
      streamed.push(f);
    }
    expect(streamed).toEqual(listed);
  });

  it('knows which ids a root gives', () => {
    const folder = (givenPosix: string): WalkRoot => ({ given: givenPosix, givenPosix, kind: 'folder' });
    expect(isDocIdUnder('docs/a.txt', folder('docs'))).toBe(true);
    expect(isDocIdUnder('docs/a.txt', folder('./docs/'))).toBe(true);
    expect(isDocIdUnder('docsx/a.txt', folder('docs'))).toBe(false);
    expect(isDocIdUnder('a.txt', folder('.'))).toBe(true);
    expect(isDocIdUnder('../a.txt', folder('.'))).toBe(false);
    expect(isDocIdUnder('/abs/a.txt', folder('.'))).toBe(false);
    expect(isDocIdUnder('./a.txt', folder('.'))).toBe(false);
    expect(isDocIdUnder('/abs/a.txt', folder('/abs'))).toBe(true);
    expect(isDocIdUnder('x.txt', { given: 'x.txt', givenPosix: 'x.txt', kind: 'file' })).toBe(true);
    expect(isDocIdUnder('x.txt', { given: 'x.txt', givenPosix: 'x.txt', kind: 'failed' })).toBe(false);
  });
});
