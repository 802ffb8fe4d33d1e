/**
 * The streaming worker against a real Kafka broker: output correctness (G1–G7), manifests, updates
 * and deletions, dead letters, exactly-once under SIGKILL, two workers in one group, and SIGTERM.
 * Each test has its own topics and consumer group.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createChunker,
  verifyChunks,
  verifySections,
  type ChunkRecord,
  type DocumentManifest,
  type Tokenizer,
} from '@chunkline/chunking';
import { rawDocumentCodec, sectionCodec } from '@chunkline/records';
import { loadTokenizer } from '@chunkline/tokenizers';
import {
  createTopics,
  decodeChunk,
  decodeManifest,
  jsonDoc,
  produce,
  readUntil,
  ROOT,
  startWorker,
  stopWorker,
  waitFor,
  type Consumed,
  type RawMessage,
  type Topics,
  type WorkerProcess,
} from './harness.js';

const LIMITS = { maxTokens: 128, reservedTokens: 2, overlapTokens: 0 };
let tokenizer: Tokenizer;
const running: WorkerProcess[] = [];

beforeAll(async () => {
  tokenizer = await loadTokenizer('bert-base-uncased');
});

afterEach(async () => {
  for (const w of running.splice(0)) {
    w.proc.kill('SIGKILL');
    await w.exited;
  }
});

function worker(topics: Topics, env: Record<string, string> = {}): WorkerProcess {
  const w = startWorker(topics, env);
  running.push(w);
  return w;
}

/** `n` real documents cut from the fixture corpus, of varied sizes (Markdown ones as text/markdown). */
function corpusDocs(n: number, prefix: string): { id: string; text: string; contentType: string }[] {
  const dir = path.join(ROOT, 'test', 'fixtures', 'corpus');
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const f of readdirSync(d).sort()) {
      if (f.startsWith('.') || f === 'LICENSES') continue;
      const p = path.join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (statSync(p).size > 200) files.push(p);
    }
  };
  walk(dir);
  const docs = [];
  for (let i = 0; i < n; i++) {
    const file = files[i % files.length]!;
    const cps = Array.from(readFileSync(file, 'utf8')); // cut at code points: never a lone surrogate
    const len = 200 + ((i * 7919) % 6000);
    const start = (i * 104729) % Math.max(1, cps.length - len);
    docs.push({
      id: `${prefix}-${i}`,
      text: cps.slice(start, start + len).join(''),
      contentType: file.endsWith('.md') ? 'text/markdown' : 'text/plain',
    });
  }
  return docs;
}

interface Output {
  chunks: Map<string, { record: ChunkRecord; at: Consumed }[]>;
  manifests: Map<string, { record: DocumentManifest; at: Consumed }[]>;
  dlq: Consumed[];
}

function collect(records: Consumed[], topics: Topics): Output {
  const out: Output = { chunks: new Map(), manifests: new Map(), dlq: [] };
  for (const r of records) {
    if (r.topic === topics.chunks) {
      const c = decodeChunk(r);
      out.chunks.set(c.doc_id, [...(out.chunks.get(c.doc_id) ?? []), { record: c, at: r }]);
    } else if (r.topic === topics.manifests) {
      const m = decodeManifest(r);
      out.manifests.set(m.doc_id, [...(out.manifests.get(m.doc_id) ?? []), { record: m, at: r }]);
    } else if (r.topic === topics.dlq) out.dlq.push(r);
  }
  return out;
}

/**
 * Reads the outputs until `done` holds and every chunk the manifests list has arrived too: the chunk
 * and manifest topics are fetched independently, so a manifest can be read before its chunks.
 */
async function readOutputs(topics: Topics, done: (o: Output) => boolean, maxWaitMs = 120_000): Promise<Output> {
  const complete = (o: Output): boolean => {
    if (!done(o)) return false;
    for (const [docId, ms] of o.manifests) {
      const have = new Set((o.chunks.get(docId) ?? []).map((c) => c.record.chunk_id));
      for (const m of ms) if (m.record.chunk_ids.some((id) => !have.has(id))) return false;
    }
    return true;
  };
  const records = await readUntil(
    [topics.chunks, topics.manifests, topics.dlq],
    (rs) => complete(collect(rs, topics)),
    {
      maxWaitMs,
    },
  );
  return collect(records, topics);
}

describe('chunkline worker on a real broker', () => {
  it('chunks 200 documents: every record decodes, G1–G7 hold, manifests follow their chunks', async () => {
    const topics = await createTopics(3);
    const docs = corpusDocs(200, 'doc');
    await produce(
      topics.input,
      docs.map((d, i) =>
        i % 2 === 0
          ? jsonDoc(d.id, d.text, { content_type: d.contentType })
          : {
              key: d.id,
              value: rawDocumentCodec.encodeSingleObject({
                doc_id: d.id,
                version: null,
                text: d.text,
                content_type: d.contentType,
                source: null,
                metadata: { n: String(i) },
                event_time: null,
              }),
            },
      ),
    );
    const w = worker(topics);
    await w.ready();
    const out = await readOutputs(topics, (o) => o.manifests.size === docs.length);
    expect(out.dlq).toEqual([]);
    const expectedChunker = createChunker(tokenizer, LIMITS);
    for (const d of docs) {
      const manifests = out.manifests.get(d.id)!;
      expect(manifests).toHaveLength(1);
      const manifest = manifests[0]!;
      const chunks = (out.chunks.get(d.id) ?? []).sort((a, b) => a.record.chunk_index - b.record.chunk_index);
      expect(manifest.record.chunk_ids).toEqual(chunks.map((c) => c.record.chunk_id));
      // Keyed by doc_id: the chunks and the manifest land on the same partition number (the topics
      // have as many partitions), written in one transaction after the chunks.
      for (const c of chunks) expect(c.at.partition).toBe(manifest.at.partition);
      const doc = { docId: d.id, text: d.text, contentType: d.contentType };
      const result = { chunks: chunks.map((c) => c.record), manifest: manifest.record, overCapGraphemes: 0 };
      expect(verifyChunks(tokenizer, doc, result, LIMITS), d.id).toEqual([]);
      // G7: the same records as chunking in-process with the same configuration.
      expect(result.chunks.map((c) => c.chunk_id)).toEqual(expectedChunker.chunk(doc).chunks.map((c) => c.chunk_id));
    }
    const metrics = await w.metrics();
    expect(metrics).toMatch(/chunkline_documents_total\{outcome="chunked"\} 200/);
    expect(await stopWorker(w)).toBe(0);
  });

  it('an update that shrinks a document lists only the new chunks; a tombstone gives a deleted manifest', async () => {
    const topics = await createTopics(1);
    const long = 'A first paragraph about streaming.\n\n'.repeat(60);
    await produce(topics.input, [jsonDoc('u1', long, { version: 'v1' }), jsonDoc('d1', 'short lived document')]);
    const w = worker(topics);
    await w.ready();
    const first = await readOutputs(topics, (o) => o.manifests.size === 2);
    const v1 = first.manifests.get('u1')![0]!.record;
    expect(v1.chunk_count).toBeGreaterThan(2);
    await produce(topics.input, [
      jsonDoc('u1', 'Now it is one short sentence.', { version: 'v2' }),
      { key: 'd1', value: null },
    ]);
    const second = await readOutputs(
      topics,
      (o) => (o.manifests.get('u1')?.length ?? 0) === 2 && (o.manifests.get('d1')?.length ?? 0) === 2,
    );
    const v2 = second.manifests.get('u1')![1]!.record;
    expect(v2).toMatchObject({ doc_version: 'v2', chunk_count: 1, deleted: false });
    expect(v2.chunk_ids).toHaveLength(1);
    expect(v1.chunk_ids).not.toContain(v2.chunk_ids[0]);
    expect(second.manifests.get('d1')![1]!.record).toMatchObject({ doc_id: 'd1', deleted: true, chunk_ids: [] });
  });

  it('dead-letters each bad-input class with its headers and keeps processing good records', async () => {
    const topics = await createTopics(1);
    const bad: [string, RawMessage][] = [
      ['UNKNOWN_FRAMING', { key: 'b1', value: Buffer.from([0x9f, 0x00, 0x13]) }],
      ['UNKNOWN_FRAMING', { key: 'b2', value: Buffer.alloc(0) }],
      ['INVALID_JSON', { key: 'b3', value: '{"doc_id": ' }],
      ['INVALID_FIELD', { key: 'b4', value: '{"text": "no id"}' }],
      ['INVALID_FIELD', { key: 'b5', value: '{"doc_id": "b5", "text": 5}' }],
      ['KEY_MISMATCH', { key: 'other', value: '{"doc_id": "b6", "text": "t"}' }],
      ['MISSING_KEY', { key: null, value: '{"doc_id": "b7", "text": "t"}' }],
      [
        'INVALID_UTF8',
        {
          key: 'b8',
          value: Buffer.concat([Buffer.from('{"doc_id":"b8","text":"'), Buffer.from([0xff]), Buffer.from('"}')]),
        },
      ],
      ['UNKNOWN_FINGERPRINT', { key: 'b9', value: Buffer.from('c3010102030405060708', 'hex') }],
      ['UNKNOWN_SCHEMA_ID', { key: 'b10', value: Buffer.from([0, 0, 0, 0, 7, 2, 2]) }],
      ['TEXT_TOO_LARGE', jsonDoc('b11', 'x'.repeat(5000))],
      ['MISSING_KEY', { key: null, value: null }],
    ];
    const messages: RawMessage[] = [];
    bad.forEach(([, m], i) => {
      messages.push({ ...m, headers: { 'x-test': `bad-${i}`, odd: Buffer.from([0xff, 0x00]) } });
      messages.push(jsonDoc(`good-${i}`, `good document number ${i}.`));
    });
    await produce(topics.input, messages);
    const w = worker(topics, { CHUNKLINE_MAX_DOC_BYTES: '4096' });
    await w.ready();
    const out = await readOutputs(topics, (o) => o.dlq.length === bad.length && o.manifests.size === bad.length);
    expect(out.dlq.map((r) => r.headers['chunkline.error.class']?.toString())).toEqual(bad.map(([reason]) => reason));
    out.dlq.forEach((r, i) => {
      const original = bad[i]![1];
      expect(r.key).toBe(original.key === null ? null : String(original.key));
      expect(r.value === null ? null : Buffer.from(r.value)).toEqual(
        original.value === null ? null : Buffer.from(original.value),
      );
      expect(r.headers['x-test']?.toString()).toBe(`bad-${i}`);
      expect(Buffer.from(r.headers.odd as Buffer)).toEqual(Buffer.from([0xff, 0x00]));
      expect(r.headers['chunkline.error.topic']?.toString()).toBe(topics.input);
      expect(r.headers['chunkline.error.partition']?.toString()).toBe('0');
      expect(r.headers['chunkline.error.offset']?.toString()).toBe(String(i * 2));
      expect(r.headers['chunkline.error.stage']?.toString()).toMatch(/^(decode|validate|chunk|encode)$/);
      expect(r.headers['chunkline.error.message']?.toString().length).toBeGreaterThan(5);
    });
    for (let i = 0; i < bad.length; i++) expect(out.manifests.get(`good-${i}`)).toHaveLength(1);
    expect(await w.metrics()).toMatch(/chunkline_dead_letters_total\{reason="UNKNOWN_FRAMING"\} 2/);
  });

  it('exactly once: a worker killed mid-batch and restarted; read_committed sees each output once', async () => {
    const topics = await createTopics(2);
    const docs = corpusDocs(400, 'k');
    await produce(
      topics.input,
      docs.map((d) => jsonDoc(d.id, d.text)),
    );
    const env = { CHUNKLINE_RECORDS_PER_TRANSACTION: '20' };
    const first = worker(topics, env);
    await first.ready();
    // Kill it once some, but not all, documents are done.
    await waitFor(
      'some progress',
      async () => /chunkline_documents_total\{outcome="chunked"\} ([1-9]\d{1,2})\b/.test(await first.metrics()),
      {
        maxWaitMs: 90_000,
        intervalMs: 50,
      },
    );
    first.proc.kill('SIGKILL');
    await first.exited;
    const second = worker(topics, env);
    await second.ready();
    const out = await readOutputs(topics, (o) => o.manifests.size === docs.length, 180_000);
    const chunker = createChunker(tokenizer, LIMITS);
    for (const d of docs) {
      expect(out.manifests.get(d.id), d.id).toHaveLength(1);
      const ids = (out.chunks.get(d.id) ?? []).map((c) => c.record.chunk_id);
      expect(new Set(ids).size, `${d.id} has duplicate chunks`).toBe(ids.length);
      expect(ids.sort()).toEqual(
        chunker
          .chunk({ docId: d.id, text: d.text })
          .chunks.map((c) => c.chunk_id)
          .sort(),
      );
    }
  });

  it('two workers in one group share the partitions and process everything once', async () => {
    const topics = await createTopics(4);
    const docs = corpusDocs(200, 'g');
    const a = worker(topics);
    const b = worker(topics);
    await Promise.all([a.ready(), b.ready()]);
    await produce(
      topics.input,
      docs.map((d) => jsonDoc(d.id, d.text)),
    );
    const out = await readOutputs(topics, (o) => o.manifests.size === docs.length);
    for (const d of docs) expect(out.manifests.get(d.id)).toHaveLength(1);
    const chunked = async (w: WorkerProcess): Promise<number> =>
      Number(/chunkline_documents_total\{outcome="chunked"\} (\d+)/.exec(await w.metrics())?.[1] ?? 0);
    const [na, nb] = [await chunked(a), await chunked(b)];
    expect(na + nb).toBe(docs.length);
    expect(na).toBeGreaterThan(0);
    expect(nb).toBeGreaterThan(0);
  });

  it('hierarchy: sections, chunks and the manifest of a legal text in one transaction', async () => {
    const topics = await createTopics(1);
    const text = readFileSync(path.join(ROOT, 'test', 'fixtures', 'corpus', 'legal', 'Apache-2.0.txt'), 'utf8');
    await produce(topics.input, [jsonDoc('apache', text)]);
    const w = worker(topics, { CHUNKLINE_HIERARCHY: 'sections', CHUNKLINE_PARENT_MAX_TOKENS: '512' });
    await w.ready();
    // Done when the manifest and every chunk and section it lists have arrived (three topics, fetched independently).
    const records = await readUntil([topics.sections, topics.chunks, topics.manifests], (rs) => {
      const m = rs.find((r) => r.topic === topics.manifests);
      if (m === undefined) return false;
      const manifest = decodeManifest(m);
      const chunkIds = new Set(rs.filter((r) => r.topic === topics.chunks).map((r) => decodeChunk(r).chunk_id));
      const sectionIds = new Set(
        rs.filter((r) => r.topic === topics.sections).map((r) => sectionCodec.decodeSingleObject(r.value!).section_id),
      );
      return (
        manifest.chunk_ids.every((id) => chunkIds.has(id)) && manifest.section_ids.every((id) => sectionIds.has(id))
      );
    });
    const sections = records
      .filter((r) => r.topic === topics.sections)
      .map((r) => sectionCodec.decodeSingleObject(r.value!));
    const chunks = records.filter((r) => r.topic === topics.chunks).map(decodeChunk);
    const manifest = decodeManifest(records.find((r) => r.topic === topics.manifests)!);
    const options = {
      maxTokens: 128,
      reservedTokens: 2,
      overlapTokens: 0,
      hierarchy: 'sections' as const,
      parentMaxTokens: 512,
    };
    const result = { chunks, sections, manifest, overCapGraphemes: 0 };
    const doc = { docId: 'apache', text };
    expect(verifySections(tokenizer, doc, result, options)).toEqual([]);
    expect(verifyChunks(tokenizer, doc, result, options)).toEqual([]);
    expect(manifest.section_ids).toEqual(sections.map((s) => s.section_id));
    expect(sections.length).toBeGreaterThan(10);
  });

  it('SIGTERM under load exits 0 within the timeout, and a new worker resumes without loss', async () => {
    const topics = await createTopics(2);
    const docs = corpusDocs(300, 's');
    await produce(
      topics.input,
      docs.map((d) => jsonDoc(d.id, d.text)),
    );
    const env = { CHUNKLINE_SHUTDOWN_TIMEOUT_MS: '20000', CHUNKLINE_RECORDS_PER_TRANSACTION: '10' };
    const first = worker(topics, env);
    await first.ready();
    await waitFor(
      'some progress',
      async () => /chunkline_documents_total\{outcome="chunked"\} [1-9]/.test(await first.metrics()),
      { maxWaitMs: 90_000, intervalMs: 50 },
    );
    const t0 = Date.now();
    first.proc.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(Date.now() - t0).toBeLessThan(20_000);
    const second = worker(topics, env);
    await second.ready();
    const out = await readOutputs(topics, (o) => o.manifests.size === docs.length, 180_000);
    for (const d of docs) expect(out.manifests.get(d.id), d.id).toHaveLength(1);
  });
});
