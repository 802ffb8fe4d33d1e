/**
 * The SQLite index: upserts, manifests that shrink and delete documents, and the ordering rules between
 * the chunk and manifest topics, checked on every interleaving fast-check finds, with replays.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChunkRecord, DocumentManifest } from '@chunkline/chunking';
import { IndexStore, toFtsQuery, type IndexUpdate, type KafkaPosition } from '../src/store.js';

const open: IndexStore[] = [];
function store(): IndexStore {
  const s = IndexStore.open(':memory:');
  open.push(s);
  return s;
}
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

function chunk(docId: string, version: string, index: number, count: number, text: string): ChunkRecord {
  return {
    chunk_id: `${docId}#${version}#${index}`,
    doc_id: docId,
    doc_version: version,
    chunk_index: index,
    chunk_count: count,
    text,
    char_start: index * 100,
    char_end: index * 100 + text.length,
    byte_start: index * 100,
    byte_end: index * 100 + text.length,
    token_start: index * 10,
    token_end: index * 10 + 10,
    num_tokens: 10,
    overlap_tokens: 0,
    strategy: 'semantic',
    heading_path: ['Title'],
    tokenizer: 'test',
    chunker_fingerprint: 'fp',
    source: `${docId}.txt`,
    content_type: 'text/plain',
    metadata: {},
  };
}

function manifest(docId: string, version: string, ids: string[], deleted = false): DocumentManifest {
  return {
    doc_id: docId,
    doc_version: version,
    chunk_ids: ids,
    chunk_count: ids.length,
    total_tokens: ids.length * 10,
    deleted,
    chunker_fingerprint: 'fp',
  };
}

/** A document's history as the worker writes it: per version, its chunks then its manifest. */
interface Version {
  version: string;
  texts: string[];
  deleted?: boolean;
}

interface Logs {
  chunks: IndexUpdate[];
  manifests: IndexUpdate[];
  last: Map<string, DocumentManifest>;
}

/** The chunk log and the manifest log of some documents' histories (one partition each, time ascending). */
function logs(histories: Record<string, Version[]>): Logs {
  const out: Logs = { chunks: [], manifests: [], last: new Map() };
  let time = 1_000;
  const longest = Math.max(...Object.values(histories).map((h) => h.length));
  for (let step = 0; step < longest; step++) {
    for (const [docId, history] of Object.entries(histories)) {
      const v = history[step];
      if (v === undefined) continue;
      time += 10;
      const chunks = v.deleted ? [] : v.texts.map((t, i) => chunk(docId, v.version, i, v.texts.length, t));
      for (const c of chunks) {
        const at: KafkaPosition = { partition: 0, offset: out.chunks.length, timestampMs: time };
        out.chunks.push({ kind: 'chunk', record: c, at });
      }
      const m = manifest(
        docId,
        v.deleted ? '' : v.version,
        chunks.map((c) => c.chunk_id),
        v.deleted,
      );
      out.manifests.push({
        kind: 'manifest',
        record: m,
        at: { partition: 0, offset: out.manifests.length, timestampMs: time },
      });
      out.last.set(docId, m);
    }
  }
  return out;
}

function visibleIds(s: IndexStore): string[] {
  return s
    .visibleChunks()
    .map((c) => c.chunkId)
    .sort();
}

function expectedIds(l: Logs): string[] {
  return [...l.last.values()].flatMap((m) => m.chunk_ids).sort();
}

const SHRINK: Record<string, Version[]> = {
  a: [
    { version: 'v1', texts: ['alpha one', 'alpha two', 'alpha three'] },
    { version: 'v2', texts: ['alpha shrunk'] },
  ],
};

describe('IndexStore', () => {
  it('makes chunks searchable once their manifest arrives, in either order', () => {
    const l = logs(SHRINK);
    const chunksFirst = store();
    chunksFirst.apply(l.chunks.slice(0, 3));
    expect(chunksFirst.stats()).toMatchObject({ chunks: 0, pendingChunks: 3, documents: 0 });
    expect(chunksFirst.search('alpha', { k: 5 })).toEqual([]);
    chunksFirst.apply([l.manifests[0]!]);
    expect(chunksFirst.stats()).toMatchObject({ chunks: 3, pendingChunks: 0, documents: 1, incompleteDocuments: 0 });
    expect(chunksFirst.search('alpha two', { k: 1 })[0]).toMatchObject({
      docId: 'a',
      chunkIndex: 1,
      text: 'alpha two',
    });

    const manifestFirst = store();
    manifestFirst.apply([l.manifests[0]!]);
    expect(manifestFirst.stats()).toMatchObject({ chunks: 0, documents: 1, incompleteDocuments: 1 });
    manifestFirst.apply(l.chunks.slice(0, 3));
    expect(manifestFirst.stats()).toMatchObject({ chunks: 3, pendingChunks: 0, incompleteDocuments: 0 });
  });

  it('keeps a newer version that arrives before its manifest, and drops the old chunks when it lands', () => {
    const l = logs(SHRINK);
    const s = store();
    // Chunk topic ahead: v1's chunks, v1's manifest, then v2's chunk before v2's manifest.
    s.apply([...l.chunks.slice(0, 3), l.manifests[0]!]);
    const early = s.apply([l.chunks[3]!]);
    expect(early).toMatchObject({ chunksPending: 1, chunksStale: 0 });
    expect(visibleIds(s)).toEqual(['a#v1#0', 'a#v1#1', 'a#v1#2']);
    const landed = s.apply([l.manifests[1]!]);
    expect(landed).toMatchObject({ manifests: 1, chunksDeleted: 3 });
    expect(visibleIds(s)).toEqual(['a#v2#0']);
    expect(s.stats()).toMatchObject({ chunks: 1, pendingChunks: 0, documents: 1 });
    expect(s.search('three', { k: 5 })).toEqual([]);
  });

  it('drops chunks of an older version read after a newer manifest (a lagging or replayed chunk topic)', () => {
    const l = logs(SHRINK);
    const s = store();
    s.apply(l.manifests);
    const r = s.apply(l.chunks);
    expect(r).toMatchObject({ chunksStale: 3, chunksVisible: 1, chunksPending: 0 });
    expect(visibleIds(s)).toEqual(['a#v2#0']);
    // Replaying everything changes nothing; both manifests are recognised as replays.
    const again = s.apply([...l.chunks, ...l.manifests]);
    expect(again).toMatchObject({ manifests: 0, manifestsReplayed: 2, chunksStale: 3 });
    expect(visibleIds(s)).toEqual(['a#v2#0']);
  });

  it('removes a deleted document, and keeps its re-creation when that arrives before the deletion', () => {
    const l = logs({
      d: [
        { version: 'v1', texts: ['delta one', 'delta two'] },
        { version: '', texts: [], deleted: true },
        { version: 'v3', texts: ['delta again'] },
      ],
    });
    const s = store();
    s.apply([...l.chunks.slice(0, 2), l.manifests[0]!]);
    expect(s.stats()).toMatchObject({ documents: 1, chunks: 2 });
    s.apply([l.chunks[2]!]); // v3's chunk, before the deletion's manifest
    s.apply([l.manifests[1]!]);
    expect(s.stats()).toMatchObject({ documents: 0, deletedDocuments: 1, chunks: 0, pendingChunks: 1 });
    s.apply([l.manifests[2]!]);
    expect(visibleIds(s)).toEqual(['d#v3#0']);
    expect(s.stats()).toMatchObject({ documents: 1, deletedDocuments: 0, pendingChunks: 0 });
    expect(s.document('d')).toEqual({
      docId: 'd',
      docVersion: 'v3',
      deleted: false,
      chunkIds: ['d#v3#0'],
      visibleChunks: 1,
    });
    expect(s.document('nope')).toBeUndefined();
  });

  it('ends with exactly the latest manifest’s chunks for any interleaving of the two topics, with replays', () => {
    const version = fc.record({
      texts: fc.array(fc.constantFrom('red fox', 'blue whale', 'green tea', 'gray cat'), { maxLength: 4 }),
      deleted: fc.boolean(),
    });
    const history = fc.array(version, { minLength: 1, maxLength: 4 });
    // A delivery schedule: which topic to read next, and sometimes a rewind (a restart before a commit).
    const schedule = fc.array(
      fc.record({ topic: fc.boolean(), rewind: fc.nat({ max: 3 }), batch: fc.nat({ max: 2 }) }),
      {
        maxLength: 60,
      },
    );
    fc.assert(
      fc.property(history, history, schedule, (ha, hb, plan) => {
        const toVersions = (h: { texts: string[]; deleted: boolean }[], p: string): Version[] =>
          h.map((v, i) => ({ version: `${p}${i}`, texts: v.texts, deleted: v.deleted }));
        const l = logs({ a: toVersions(ha, 'a'), b: toVersions(hb, 'b') });
        const s = IndexStore.open(':memory:');
        try {
          const pos = { chunks: 0, manifests: 0 };
          const deliver = (topic: 'chunks' | 'manifests', n: number): void => {
            const log = l[topic];
            s.apply(log.slice(pos[topic], pos[topic] + n));
            pos[topic] = Math.min(log.length, pos[topic] + n);
          };
          for (const step of plan) {
            const topic = step.topic ? 'chunks' : 'manifests';
            if (step.rewind === 3) pos[topic] = Math.max(0, pos[topic] - 2);
            deliver(topic, step.batch + 1);
          }
          deliver('chunks', l.chunks.length);
          deliver('manifests', l.manifests.length);
          expect(visibleIds(s)).toEqual(expectedIds(l));
          const stats = s.stats();
          expect(stats.pendingChunks).toBe(0);
          expect(stats.incompleteDocuments).toBe(0);
          expect(stats.documents).toBe([...l.last.values()].filter((m) => !m.deleted).length);
        } finally {
          s.close();
        }
      }),
      { numRuns: Number(process.env.CHUNKLINE_PROPERTY_RUNS ?? 300) },
    );
  });

  it('is one transaction per apply: a failure leaves nothing behind', () => {
    const s = store();
    const bad = {
      kind: 'chunk',
      record: { ...chunk('x', 'v', 0, 1, 'x'), text: null },
      at: { partition: 0, offset: 0, timestampMs: 1 },
    };
    const good = logs({ y: [{ version: 'v', texts: ['yes'] }] });
    expect(() => s.apply([...good.chunks, ...good.manifests, bad as unknown as IndexUpdate])).toThrow();
    expect(s.stats()).toMatchObject({ documents: 0, chunks: 0, pendingChunks: 0 });
  });
});

describe('search', () => {
  it('ranks by BM25 and treats query punctuation as text, not FTS5 syntax', () => {
    const l = logs({
      p: [{ version: 'v', texts: ['Kafka consumer groups rebalance', 'SQLite full-text search with BM25'] }],
      q: [{ version: 'v', texts: ['A consumer of "quoted" words: NOT an operator'] }],
    });
    const s = store();
    s.apply([...l.chunks, ...l.manifests]);
    expect(toFtsQuery('full-text "search" NOT*')).toBe('"full" OR "text" OR "search" OR "NOT"');
    const hits = s.search('full-text search', { k: 5 });
    expect(hits[0]).toMatchObject({ docId: 'p', chunkIndex: 1, source: 'p.txt', headingPath: ['Title'] });
    expect(hits[0]!.bm25).toBeLessThan(0);
    expect(
      s
        .search('consumer', { k: 5 })
        .map((h) => h.docId)
        .sort(),
    ).toEqual(['p', 'q']);
    expect(s.search('"quoted" NOT', { k: 5 }).map((h) => h.docId)).toEqual(['q']);
    expect(s.search('!!!', { k: 5 })).toEqual([]);
    expect(s.search('consumer NOT kafka', { k: 5, fts: true }).map((h) => h.docId)).toEqual(['q']);
  });

  it('opens an existing index read-only and refuses a file that is not one', async () => {
    const { mkdtemp, rm, writeFile } = await import('node:fs/promises');
    const os = await import('node:os');
    const path = await import('node:path');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'chunkline-index-'));
    try {
      const file = path.join(dir, 'index.db');
      const w = IndexStore.open(file);
      const l = logs({ r: [{ version: 'v', texts: ['read only'] }] });
      w.apply([...l.chunks, ...l.manifests]);
      const r = IndexStore.open(file, { readonly: true });
      expect(r.search('read', { k: 1 })).toHaveLength(1);
      expect(() => r.apply([])).toThrow(/read-only/);
      r.close();
      w.close();
      const other = path.join(dir, 'other.db');
      await writeFile(other, '');
      expect(() => IndexStore.open(other, { readonly: true })).toThrow(/not a chunkline index/);
      expect(() => IndexStore.open(path.join(dir, 'missing.db'), { readonly: true })).toThrow();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
