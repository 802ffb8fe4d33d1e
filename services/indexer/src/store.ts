/**
 * The SQLite index: Chunk rows upserted by `chunk_id`, the latest DocumentManifest of each document, and
 * an FTS5 full-text index (BM25) over the text of the chunks the current manifests list.
 *
 * Chunks and manifests come from two topics whose consumption interleaves, so a chunk can arrive before
 * or after the manifest that lists it, and replays after a restart can bring old records back. The rules
 * (see {@link IndexStore.apply}) keep the searchable rows equal to the chunks listed by each document's
 * latest manifest, without ever dropping a chunk of a newer version that arrived early:
 * - a chunk listed by the stored manifest is **visible** (searchable);
 * - a chunk that provably belongs to an older version than the stored manifest is **stale** and dropped;
 * - any other chunk is **pending**: stored but not searchable, until a manifest lists it (it belongs to a
 *   newer version whose manifest has not been read yet) or proves it stale.
 *
 * "Older" is decided with the chunk topic's own order: a document's chunks are keyed by `doc_id`, so they
 * sit in one partition, version after version. A chunk stored at a lower offset than the current
 * version's chunks came before them. Only a manifest that lists no chunk (a deletion or an empty
 * document) gives no such anchor; then the Kafka timestamps of the chunk and the manifest decide (the
 * worker writes a version's chunks and manifest in one transaction, and versions of a document one after
 * the other), and a tie keeps the chunk pending rather than risk dropping it.
 */
import Database from 'better-sqlite3';
import type { ChunkRecord, DocumentManifest } from '@chunkline/chunking';

/** Where a record was read: partition, offset and Kafka timestamp (milliseconds since the epoch). */
export interface KafkaPosition {
  readonly partition: number;
  readonly offset: number;
  readonly timestampMs: number;
}

/** One decoded record to apply to the index. */
export type IndexUpdate =
  | { readonly kind: 'chunk'; readonly record: ChunkRecord; readonly at: KafkaPosition }
  | { readonly kind: 'manifest'; readonly record: DocumentManifest; readonly at: KafkaPosition };

/** What one {@link IndexStore.apply} call did. */
export interface ApplyResult {
  /** Chunks stored as searchable (listed by their document's manifest). */
  chunksVisible: number;
  /** Chunks stored but not searchable yet (no manifest lists them so far). */
  chunksPending: number;
  /** Chunks not stored because they belong to an older version than the stored manifest. */
  chunksStale: number;
  /** Manifests applied. */
  manifests: number;
  /** Manifests skipped because a later one of the same document was already applied (a replay). */
  manifestsReplayed: number;
  /** Stored chunks deleted by manifests (versions replaced, documents deleted). */
  chunksDeleted: number;
}

/** Sizes of the index. */
export interface IndexStats {
  /** Documents whose latest manifest is not a deletion. */
  documents: number;
  /** Documents whose latest manifest is a deletion. */
  deletedDocuments: number;
  /** Searchable chunks. */
  chunks: number;
  /** Stored chunks no manifest lists yet. */
  pendingChunks: number;
  /** Documents whose manifest lists chunks that have not arrived yet (0 once the index has caught up). */
  incompleteDocuments: number;
}

/** One search result. */
export interface SearchHit {
  readonly chunkId: string;
  readonly docId: string;
  readonly docVersion: string;
  readonly source: string | null;
  readonly chunkIndex: number;
  readonly chunkCount: number;
  /** Code point offsets of the chunk in its document, `[charStart, charEnd)`. */
  readonly charStart: number;
  readonly charEnd: number;
  readonly headingPath: readonly string[];
  readonly text: string;
  /** SQLite FTS5 `bm25()`: lower is more relevant (the values are negative). */
  readonly bm25: number;
}

/** A searchable chunk's identity, for tests and tools. */
export interface StoredChunk {
  readonly chunkId: string;
  readonly docId: string;
  readonly docVersion: string;
  readonly chunkIndex: number;
}

/** What the index holds for one document. */
export interface StoredDocument {
  readonly docId: string;
  /** The latest manifest's `doc_version` ('' for a deletion). */
  readonly docVersion: string;
  readonly deleted: boolean;
  /** The chunk ids the latest manifest lists, in order. */
  readonly chunkIds: readonly string[];
  /** How many of them have arrived (are searchable). */
  readonly visibleChunks: number;
}

/** Options of {@link IndexStore.open}. */
export interface IndexStoreOptions {
  /** Open an existing index read-only (for search). @default false */
  readonly readonly?: boolean;
  /** How long a query waits for a lock held by another connection, in milliseconds. @default 5000 */
  readonly busyTimeoutMs?: number;
}

/** Bumped when the tables change; an index with another version is refused. */
const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS chunks (
  id INTEGER PRIMARY KEY,
  chunk_id TEXT NOT NULL UNIQUE,
  doc_id TEXT NOT NULL,
  doc_version TEXT NOT NULL,
  chunk_index INTEGER NOT NULL,
  chunk_count INTEGER NOT NULL,
  text TEXT NOT NULL,
  char_start INTEGER NOT NULL,
  char_end INTEGER NOT NULL,
  byte_start INTEGER NOT NULL,
  byte_end INTEGER NOT NULL,
  token_start INTEGER NOT NULL,
  token_end INTEGER NOT NULL,
  num_tokens INTEGER NOT NULL,
  overlap_tokens INTEGER NOT NULL,
  strategy TEXT NOT NULL,
  heading_path TEXT NOT NULL,
  tokenizer TEXT NOT NULL,
  chunker_fingerprint TEXT NOT NULL,
  source TEXT,
  content_type TEXT NOT NULL,
  metadata TEXT NOT NULL,
  visible INTEGER NOT NULL,
  kafka_partition INTEGER NOT NULL,
  kafka_offset INTEGER NOT NULL,
  kafka_timestamp_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_by_doc ON chunks (doc_id);
CREATE TABLE IF NOT EXISTS manifests (
  doc_id TEXT PRIMARY KEY,
  doc_version TEXT NOT NULL,
  chunk_ids TEXT NOT NULL,
  chunk_count INTEGER NOT NULL,
  total_tokens INTEGER NOT NULL,
  deleted INTEGER NOT NULL,
  chunker_fingerprint TEXT NOT NULL,
  kafka_partition INTEGER NOT NULL,
  kafka_offset INTEGER NOT NULL,
  kafka_timestamp_ms INTEGER NOT NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5 (
  text, content = 'chunks', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2'
);
-- Only visible rows are in the full-text index (external content: the text lives in chunks).
CREATE TRIGGER IF NOT EXISTS chunks_fts_insert AFTER INSERT ON chunks WHEN new.visible = 1 BEGIN
  INSERT INTO chunks_fts (rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER IF NOT EXISTS chunks_fts_delete AFTER DELETE ON chunks WHEN old.visible = 1 BEGIN
  INSERT INTO chunks_fts (chunks_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER IF NOT EXISTS chunks_fts_update AFTER UPDATE ON chunks BEGIN
  INSERT INTO chunks_fts (chunks_fts, rowid, text) SELECT 'delete', old.id, old.text WHERE old.visible = 1;
  INSERT INTO chunks_fts (rowid, text) SELECT new.id, new.text WHERE new.visible = 1;
END;
`;

interface ManifestRow {
  doc_version: string;
  chunk_ids: string;
  kafka_partition: number;
  kafka_offset: number;
  kafka_timestamp_ms: number;
}

interface StoredManifest {
  readonly docVersion: string;
  readonly ids: ReadonlySet<string>;
  readonly at: KafkaPosition;
}

interface ChunkRow {
  id: number;
  chunk_id: string;
  doc_version: string;
  visible: number;
  kafka_partition: number;
  kafka_offset: number;
  kafka_timestamp_ms: number;
}

/**
 * The words of a free-text query as an FTS5 query: each word quoted (so `-`, `:`, `*` and quotes in the
 * query are never FTS5 syntax) and joined with OR, ranked by BM25. Returns '' when there is no word.
 */
export function toFtsQuery(query: string): string {
  const words = query.match(/[\p{L}\p{N}\p{M}_]+/gu) ?? [];
  return [...new Set(words)].map((w) => `"${w}"`).join(' OR ');
}

/** Statements every connection uses. */
function readStatements(db: Database.Database) {
  return {
    manifest: db.prepare<[string], ManifestRow>(
      'SELECT doc_version, chunk_ids, kafka_partition, kafka_offset, kafka_timestamp_ms FROM manifests WHERE doc_id = ?',
    ),
    search: db.prepare<[string, number], SearchRow>(
      `SELECT c.chunk_id, c.doc_id, c.doc_version, c.source, c.chunk_index, c.chunk_count, c.char_start, c.char_end,
              c.heading_path, c.text, bm25(chunks_fts) AS score
         FROM chunks_fts JOIN chunks c ON c.id = chunks_fts.rowid
        WHERE chunks_fts MATCH ? ORDER BY score LIMIT ?`,
    ),
  };
}

/** Statements of the writing connection. */
function writeStatements(db: Database.Database) {
  return {
    docChunks: db.prepare<[string], ChunkRow>(
      'SELECT id, chunk_id, doc_version, visible, kafka_partition, kafka_offset, kafka_timestamp_ms FROM chunks WHERE doc_id = ?',
    ),
    listedPositions: db.prepare<[string], { kafka_partition: number; kafka_offset: number }>(
      'SELECT kafka_partition, kafka_offset FROM chunks WHERE doc_id = ? AND visible = 1',
    ),
    upsertChunk: db.prepare<[Record<string, string | number | null>]>(
      `INSERT INTO chunks (chunk_id, doc_id, doc_version, chunk_index, chunk_count, text, char_start, char_end,
         byte_start, byte_end, token_start, token_end, num_tokens, overlap_tokens, strategy, heading_path, tokenizer,
         chunker_fingerprint, source, content_type, metadata, visible, kafka_partition, kafka_offset, kafka_timestamp_ms)
       VALUES (@chunk_id, @doc_id, @doc_version, @chunk_index, @chunk_count, @text, @char_start, @char_end,
         @byte_start, @byte_end, @token_start, @token_end, @num_tokens, @overlap_tokens, @strategy, @heading_path,
         @tokenizer, @chunker_fingerprint, @source, @content_type, @metadata, @visible, @kafka_partition,
         @kafka_offset, @kafka_timestamp_ms)
       ON CONFLICT (chunk_id) DO UPDATE SET visible = excluded.visible, kafka_partition = excluded.kafka_partition,
         kafka_offset = excluded.kafka_offset, kafka_timestamp_ms = excluded.kafka_timestamp_ms`,
    ),
    deleteChunkById: db.prepare<[string]>('DELETE FROM chunks WHERE chunk_id = ?'),
    deleteRow: db.prepare<[number]>('DELETE FROM chunks WHERE id = ?'),
    setVisible: db.prepare<[{ v: number; id: number }]>(
      'UPDATE chunks SET visible = @v WHERE id = @id AND visible <> @v',
    ),
    upsertManifest: db.prepare<[Record<string, string | number>]>(
      `INSERT INTO manifests (doc_id, doc_version, chunk_ids, chunk_count, total_tokens, deleted, chunker_fingerprint,
         kafka_partition, kafka_offset, kafka_timestamp_ms)
       VALUES (@doc_id, @doc_version, @chunk_ids, @chunk_count, @total_tokens, @deleted, @chunker_fingerprint,
         @kafka_partition, @kafka_offset, @kafka_timestamp_ms)
       ON CONFLICT (doc_id) DO UPDATE SET doc_version = excluded.doc_version, chunk_ids = excluded.chunk_ids,
         chunk_count = excluded.chunk_count, total_tokens = excluded.total_tokens, deleted = excluded.deleted,
         chunker_fingerprint = excluded.chunker_fingerprint, kafka_partition = excluded.kafka_partition,
         kafka_offset = excluded.kafka_offset, kafka_timestamp_ms = excluded.kafka_timestamp_ms`,
    ),
  };
}

interface SearchRow {
  chunk_id: string;
  doc_id: string;
  doc_version: string;
  source: string | null;
  chunk_index: number;
  chunk_count: number;
  char_start: number;
  char_end: number;
  heading_path: string;
  text: string;
  score: number;
}

/**
 * Where the stored manifest's chunks are: how many have arrived, and the highest offset of them on each
 * partition. Visible rows are exactly the rows the stored manifest lists, so this is read from them.
 */
interface Anchor {
  readonly listedCount: number;
  readonly maxOffsetByPartition: ReadonlyMap<number, number>;
}

/** One document's stored manifest and anchor, cached for the length of one {@link IndexStore.apply}. */
interface DocView {
  manifest: StoredManifest | undefined;
  anchor: Anchor | undefined;
}

/** The SQLite index of chunks and manifests. Not safe to share between threads; open one per process. */
export class IndexStore {
  private readonly read: ReturnType<typeof readStatements>;
  private readonly write: ReturnType<typeof writeStatements> | undefined;
  /** Per-document views, valid inside one apply() transaction only. */
  private readonly views = new Map<string, DocView>();

  private constructor(private readonly db: Database.Database) {
    this.read = readStatements(db);
    this.write = db.readonly ? undefined : writeStatements(db);
  }

  /**
   * Opens (and, unless read-only, creates) the index at `file`. `:memory:` gives a private in-memory
   * index. Writers use WAL journaling with `synchronous = FULL`, so a committed transaction survives a
   * crash before the Kafka offsets that follow it are committed.
   * @throws Error when the file is not a chunkline index of this schema version, or cannot be opened.
   */
  static open(file: string, options: IndexStoreOptions = {}): IndexStore {
    const readonly = options.readonly ?? false;
    const db = new Database(file, { readonly, fileMustExist: readonly, timeout: options.busyTimeoutMs ?? 5000 });
    try {
      const version = db.pragma('user_version', { simple: true }) as number;
      if (readonly) {
        if (version !== SCHEMA_VERSION) {
          throw new Error(`${file} is not a chunkline index (schema version ${version}, expected ${SCHEMA_VERSION})`);
        }
      } else {
        if (version !== 0 && version !== SCHEMA_VERSION) {
          throw new Error(`${file} has index schema version ${version}; this indexer writes ${SCHEMA_VERSION}`);
        }
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = FULL');
        db.exec(SCHEMA);
        db.pragma(`user_version = ${SCHEMA_VERSION}`);
      }
      return new IndexStore(db);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /**
   * Applies decoded records in their order, in one SQLite transaction: all of them or none. Safe to
   * repeat (a replay after a crash gives the same index).
   *
   * A chunk: listed by the stored manifest → visible; provably older than it → dropped; otherwise pending.
   * A manifest: skipped if this document's stored manifest came later on the same partition (a replay);
   * otherwise stored, its chunks made visible, and every other chunk of the document deleted unless it
   * can be newer (see the module comment).
   * @throws Error when the index is open read-only.
   */
  apply(updates: readonly IndexUpdate[]): ApplyResult {
    const result: ApplyResult = {
      chunksVisible: 0,
      chunksPending: 0,
      chunksStale: 0,
      manifests: 0,
      manifestsReplayed: 0,
      chunksDeleted: 0,
    };
    const w = this.write;
    if (w === undefined) throw new Error('the index is open read-only');
    const run = this.db.transaction(() => {
      for (const u of updates) {
        if (u.kind === 'chunk') this.applyChunk(w, u.record, u.at, result);
        else this.applyManifest(w, u.record, u.at, result);
      }
    });
    try {
      run.immediate();
    } finally {
      this.views.clear();
    }
    return result;
  }

  private view(docId: string): DocView {
    let v = this.views.get(docId);
    if (v === undefined) {
      const row = this.read.manifest.get(docId);
      const manifest =
        row === undefined
          ? undefined
          : {
              docVersion: row.doc_version,
              ids: new Set(JSON.parse(row.chunk_ids) as string[]),
              at: { partition: row.kafka_partition, offset: row.kafka_offset, timestampMs: row.kafka_timestamp_ms },
            };
      v = { manifest, anchor: undefined };
      this.views.set(docId, v);
    }
    return v;
  }

  private anchor(w: ReturnType<typeof writeStatements>, docId: string, v: DocView): Anchor {
    if (v.anchor === undefined) {
      const maxOffsetByPartition = new Map<number, number>();
      let listedCount = 0;
      for (const r of w.listedPositions.iterate(docId)) {
        listedCount += 1;
        const max = maxOffsetByPartition.get(r.kafka_partition);
        if (max === undefined || r.kafka_offset > max) maxOffsetByPartition.set(r.kafka_partition, r.kafka_offset);
      }
      v.anchor = { listedCount, maxOffsetByPartition };
    }
    return v.anchor;
  }

  /**
   * True when a chunk that `m` does not list provably belongs to an older version than `m` (or to `m`'s
   * own version under another chunker configuration).
   */
  private static olderThan(chunk: { docVersion: string; at: KafkaPosition }, m: StoredManifest, a: Anchor): boolean {
    if (chunk.docVersion === m.docVersion) return true;
    if (m.ids.size === 0) return chunk.at.timestampMs < m.at.timestampMs;
    // Some listed chunks have not arrived: the chunk topic is still before them, so every chunk of this
    // document read so far precedes them. (After a restart, a record read again is judged again.)
    if (a.listedCount < m.ids.size) return true;
    const maxListedOffset = a.maxOffsetByPartition.get(chunk.at.partition);
    // No listed chunk on this partition (the topic was repartitioned): no order to go by; keep it pending.
    return maxListedOffset !== undefined && chunk.at.offset < maxListedOffset;
  }

  private applyChunk(
    w: ReturnType<typeof writeStatements>,
    c: ChunkRecord,
    at: KafkaPosition,
    result: ApplyResult,
  ): void {
    const v = this.view(c.doc_id);
    const m = v.manifest;
    const visible = m !== undefined && m.ids.has(c.chunk_id);
    if (
      m !== undefined &&
      !visible &&
      IndexStore.olderThan({ docVersion: c.doc_version, at }, m, this.anchor(w, c.doc_id, v))
    ) {
      result.chunksDeleted += w.deleteChunkById.run(c.chunk_id).changes;
      result.chunksStale += 1;
      return;
    }
    w.upsertChunk.run({
      chunk_id: c.chunk_id,
      doc_id: c.doc_id,
      doc_version: c.doc_version,
      chunk_index: c.chunk_index,
      chunk_count: c.chunk_count,
      text: c.text,
      char_start: c.char_start,
      char_end: c.char_end,
      byte_start: c.byte_start,
      byte_end: c.byte_end,
      token_start: c.token_start,
      token_end: c.token_end,
      num_tokens: c.num_tokens,
      overlap_tokens: c.overlap_tokens,
      strategy: c.strategy,
      heading_path: JSON.stringify(c.heading_path),
      tokenizer: c.tokenizer,
      chunker_fingerprint: c.chunker_fingerprint,
      source: c.source,
      content_type: c.content_type,
      metadata: JSON.stringify(c.metadata),
      visible: visible ? 1 : 0,
      kafka_partition: at.partition,
      kafka_offset: at.offset,
      kafka_timestamp_ms: at.timestampMs,
    });
    if (visible) {
      result.chunksVisible += 1;
      v.anchor = undefined; // a listed chunk arrived (or moved): read the anchor again when needed
    } else {
      result.chunksPending += 1;
    }
  }

  private applyManifest(
    w: ReturnType<typeof writeStatements>,
    record: DocumentManifest,
    at: KafkaPosition,
    result: ApplyResult,
  ): void {
    const v = this.view(record.doc_id);
    const previous = v.manifest;
    if (previous !== undefined && previous.at.partition === at.partition && at.offset <= previous.at.offset) {
      result.manifestsReplayed += 1;
      return;
    }
    w.upsertManifest.run({
      doc_id: record.doc_id,
      doc_version: record.doc_version,
      chunk_ids: JSON.stringify(record.chunk_ids),
      chunk_count: record.chunk_count,
      total_tokens: record.total_tokens,
      deleted: record.deleted ? 1 : 0,
      chunker_fingerprint: record.chunker_fingerprint,
      kafka_partition: at.partition,
      kafka_offset: at.offset,
      kafka_timestamp_ms: at.timestampMs,
    });
    result.manifests += 1;
    const m: StoredManifest = { docVersion: record.doc_version, ids: new Set(record.chunk_ids), at };
    const rows = w.docChunks.all(record.doc_id);
    const maxOffsetByPartition = new Map<number, number>();
    let listedCount = 0;
    for (const r of rows) {
      if (!m.ids.has(r.chunk_id)) continue;
      listedCount += 1;
      const max = maxOffsetByPartition.get(r.kafka_partition);
      if (max === undefined || r.kafka_offset > max) maxOffsetByPartition.set(r.kafka_partition, r.kafka_offset);
      w.setVisible.run({ v: 1, id: r.id });
    }
    const anchor: Anchor = { listedCount, maxOffsetByPartition };
    for (const r of rows) {
      if (m.ids.has(r.chunk_id)) continue;
      const row = {
        docVersion: r.doc_version,
        at: { partition: r.kafka_partition, offset: r.kafka_offset, timestampMs: r.kafka_timestamp_ms },
      };
      if (IndexStore.olderThan(row, m, anchor)) {
        w.deleteRow.run(r.id);
        result.chunksDeleted += 1;
      } else {
        w.setVisible.run({ v: 0, id: r.id });
      }
    }
    v.manifest = m;
    v.anchor = anchor;
  }

  /**
   * The `k` chunks that best match `query` by BM25. `query` is free text (its words, OR-ed, see
   * {@link toFtsQuery}) unless `fts` is set, when it is passed to FTS5 as is (its query syntax).
   * @throws Error for an FTS5 syntax error when `fts` is set.
   */
  search(query: string, options: { k: number; fts?: boolean }): SearchHit[] {
    const match = options.fts === true ? query : toFtsQuery(query);
    if (match.trim() === '') return [];
    return this.read.search.all(match, options.k).map((r) => ({
      chunkId: r.chunk_id,
      docId: r.doc_id,
      docVersion: r.doc_version,
      source: r.source,
      chunkIndex: r.chunk_index,
      chunkCount: r.chunk_count,
      charStart: r.char_start,
      charEnd: r.char_end,
      headingPath: JSON.parse(r.heading_path) as string[],
      text: r.text,
      bm25: r.score,
    }));
  }

  /** Counts of documents and chunks. */
  stats(): IndexStats {
    const one = (sql: string): number => (this.db.prepare(sql).pluck().get() as number | null) ?? 0;
    return {
      documents: one('SELECT count(*) FROM manifests WHERE deleted = 0'),
      deletedDocuments: one('SELECT count(*) FROM manifests WHERE deleted = 1'),
      chunks: one('SELECT count(*) FROM chunks WHERE visible = 1'),
      pendingChunks: one('SELECT count(*) FROM chunks WHERE visible = 0'),
      incompleteDocuments: one(
        `SELECT count(*) FROM manifests m
          WHERE m.chunk_count <> (SELECT count(*) FROM chunks c WHERE c.doc_id = m.doc_id AND c.visible = 1)`,
      ),
    };
  }

  /** The document's latest manifest and how many of its chunks are searchable; undefined if never seen. */
  document(docId: string): StoredDocument | undefined {
    const row = this.db
      .prepare<[string], { doc_version: string; deleted: number; chunk_ids: string }>(
        'SELECT doc_version, deleted, chunk_ids FROM manifests WHERE doc_id = ?',
      )
      .get(docId);
    if (row === undefined) return undefined;
    const visibleChunks = this.db
      .prepare<[string], number>('SELECT count(*) FROM chunks WHERE doc_id = ? AND visible = 1')
      .pluck()
      .get(docId);
    return {
      docId,
      docVersion: row.doc_version,
      deleted: row.deleted === 1,
      chunkIds: JSON.parse(row.chunk_ids) as string[],
      visibleChunks: visibleChunks ?? 0,
    };
  }

  /** Every searchable chunk, ordered by document and index. */
  visibleChunks(): StoredChunk[] {
    return this.db
      .prepare<[], { chunk_id: string; doc_id: string; doc_version: string; chunk_index: number }>(
        'SELECT chunk_id, doc_id, doc_version, chunk_index FROM chunks WHERE visible = 1 ORDER BY doc_id, chunk_index',
      )
      .all()
      .map((r) => ({ chunkId: r.chunk_id, docId: r.doc_id, docVersion: r.doc_version, chunkIndex: r.chunk_index }));
  }

  /** Closes the database. Idempotent. */
  close(): void {
    if (this.db.open) this.db.close();
  }
}
