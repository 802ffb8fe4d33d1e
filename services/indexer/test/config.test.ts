/** The indexer's environment configuration, options, value decoding (single-object and registry) and lifecycle. */
import { describe, expect, it } from 'vitest';
import type { ChunkRecord, DocumentManifest } from '@chunkline/chunking';
import { chunkCodec, latestSchema, manifestCodec, SchemaRegistryClient } from '@chunkline/records';
import type { Kafka } from '@chunkline/runtime';
import { ConfigError, connectionOf, indexerOptionsOf, loadIndexerConfig } from '../src/config.js';
import { createValueDecoder } from '../src/decode.js';
import { compileIndexerOptions, Indexer, isIndexerError } from '../src/indexer.js';
import { IndexStore } from '../src/store.js';

describe('loadIndexerConfig', () => {
  it('fills in defaults and maps to options and a connection', () => {
    const c = loadIndexerConfig({ KAFKA_BROKERS: 'a:9092, b:9093' });
    expect(indexerOptionsOf(c)).toEqual({
      groupId: 'chunkline-indexer',
      chunkTopic: 'documents.chunks',
      manifestTopic: 'documents.manifests',
      dbPath: 'chunkline-index.db',
      fromBeginning: true,
      shutdownTimeoutMs: 25_000,
    });
    expect(connectionOf(c)).toMatchObject({ brokers: ['a:9092', 'b:9093'], clientId: 'chunkline-indexer', tls: false });
    expect(c.CHUNKLINE_INDEXER_HTTP_PORT).toBeUndefined();
  });

  it('names every bad variable and never prints a secret', () => {
    let err: unknown;
    try {
      loadIndexerConfig({
        KAFKA_BROKERS: 'nohostport',
        CHUNKLINE_INDEXER_HTTP_PORT: 'eighty',
        KAFKA_SASL_PASSWORD: 'hunter2',
        CHUNKLINE_INDEXER_FROM_BEGINNING: 'maybe',
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const message = (err as Error).message;
    expect(message).toMatch(/KAFKA_BROKERS: must be host:port/);
    expect(message).toMatch(/CHUNKLINE_INDEXER_HTTP_PORT: must be a whole number \(got "eighty"\)/);
    expect(message).toMatch(/CHUNKLINE_INDEXER_FROM_BEGINNING/);
    expect(() => loadIndexerConfig({})).toThrow(/KAFKA_BROKERS: is required/);
    expect(() =>
      loadIndexerConfig({ KAFKA_BROKERS: 'a:1', CHUNKLINE_CHUNK_TOPIC: 't', CHUNKLINE_MANIFEST_TOPIC: 't' }),
    ).toThrow(/must name different topics/);
    expect(() =>
      loadIndexerConfig({ KAFKA_BROKERS: 'a:1', KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_PASSWORD: 'x' }),
    ).toThrow(/KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD/);
    expect(message).not.toContain('hunter2');
  });

  it('rejects options that cannot work, naming them', () => {
    expect(() => compileIndexerOptions({ groupId: '' })).toThrow(/groupId must be a non-empty string/);
    expect(() => compileIndexerOptions({ groupId: 'g', chunkTopic: 'x', manifestTopic: 'x' })).toThrow(/must differ/);
    let err: unknown;
    try {
      compileIndexerOptions({ groupId: 'g', shutdownTimeoutMs: 0 });
    } catch (e) {
      err = e;
    }
    expect(isIndexerError(err) && err.code).toBe('BAD_OPTION');
  });
});

const CHUNK: ChunkRecord = {
  chunk_id: 'c0',
  doc_id: 'd',
  doc_version: 'v',
  chunk_index: 0,
  chunk_count: 1,
  text: 'hello',
  char_start: 0,
  char_end: 5,
  byte_start: 0,
  byte_end: 5,
  token_start: 0,
  token_end: 1,
  num_tokens: 1,
  overlap_tokens: 0,
  strategy: 'whole',
  heading_path: [],
  tokenizer: 't',
  chunker_fingerprint: 'fp',
  source: null,
  content_type: 'text/plain',
  metadata: {},
};
const MANIFEST: DocumentManifest = {
  doc_id: 'd',
  doc_version: 'v',
  chunk_ids: ['c0'],
  chunk_count: 1,
  total_tokens: 1,
  deleted: false,
  chunker_fingerprint: 'fp',
};

describe('value decoding', () => {
  it('reads single-object encoding, and registry framing through the registry', async () => {
    const plain = createValueDecoder();
    expect(await plain.chunk(chunkCodec.encodeSingleObject(CHUNK))).toMatchObject({ chunk_id: 'c0', text: 'hello' });
    expect(await plain.manifest(manifestCodec.encodeSingleObject(MANIFEST))).toMatchObject({ chunk_ids: ['c0'] });
    await expect(plain.chunk(chunkCodec.encodeRegistry(7, CHUNK))).rejects.toThrow(/no registry is configured/);
    await expect(plain.chunk(manifestCodec.encodeSingleObject(MANIFEST))).rejects.toThrow(/expected chunk/);

    const requested: string[] = [];
    const registry = new SchemaRegistryClient({
      url: 'http://registry.test',
      fetch: (async (url: string) => {
        requested.push(url);
        const id = Number(url.split('/').pop());
        const kind = id === 7 ? 'chunk' : 'manifest';
        return new Response(JSON.stringify({ schema: JSON.stringify(latestSchema(kind).schema) }));
      }) as typeof fetch,
    });
    const framed = createValueDecoder(registry);
    expect(await framed.chunk(chunkCodec.encodeRegistry(7, CHUNK))).toMatchObject({ chunk_id: 'c0' });
    expect(await framed.manifest(manifestCodec.encodeRegistry(8, MANIFEST))).toMatchObject({ doc_id: 'd' });
    expect(requested).toEqual(['http://registry.test/schemas/ids/7', 'http://registry.test/schemas/ids/8']);
  });
});

describe('Indexer lifecycle', () => {
  /** A Kafka client whose consumer only records calls. */
  function fakeKafka(calls: string[]): Kafka {
    const consumer = {
      events: { GROUP_JOIN: 'join', CRASH: 'crash' },
      on: () => undefined,
      connect: async () => void calls.push('connect'),
      subscribe: async () => void calls.push('subscribe'),
      run: async () => void calls.push('run'),
      disconnect: async () => void calls.push('disconnect'),
    };
    return { consumer: () => consumer } as unknown as Kafka;
  }

  it('starts once, and stop() runs once, returns the same promise and closes the index', async () => {
    const calls: string[] = [];
    const store = IndexStore.open(':memory:');
    const indexer = new Indexer(fakeKafka(calls), { groupId: 'g' }, store, createValueDecoder());
    expect(indexer.state).toBe('INITIALIZED');
    await indexer.start();
    expect(indexer.state).toBe('RUNNING');
    await expect(indexer.start()).rejects.toThrow(/start\(\) called in state RUNNING/);
    const a = indexer.stop();
    const b = indexer.stop();
    expect(a).toBe(b);
    await a;
    expect(indexer.state).toBe('STOPPED');
    expect(calls).toEqual(['connect', 'subscribe', 'run', 'disconnect']);
    expect(() => store.stats()).toThrow(/not open/);
  });
});
