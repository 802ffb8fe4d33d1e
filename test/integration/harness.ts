/**
 * Helpers of the broker-backed tests (STYLE 14): unique topic and group names per test, topic set-up,
 * producing raw documents, reading outputs as a read_committed consumer, worker processes, and waits
 * on conditions with a deadline (never fixed sleeps).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Kafka, logLevel, type Admin, type IHeaders } from 'kafkajs';
import { inject } from 'vitest';
import type { ChunkRecord, DocumentManifest } from '@chunkline/chunking';
import { chunkCodec, manifestCodec } from '@chunkline/records';
import { topicNames, workerTopicEnv, type TopicNames } from '../support/shared.mjs';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');
const WORKER_MAIN = path.join(ROOT, 'services', 'chunker', 'dist', 'main.js');

export function brokers(): string {
  return inject('kafkaBrokers');
}

export function kafka(): Kafka {
  return new Kafka({ clientId: 'chunkline-test', brokers: brokers().split(','), logLevel: logLevel.NOTHING });
}

/** A name no other test uses. */
export function unique(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `maxWaitMs`. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  { maxWaitMs = 60_000, intervalMs = 100 } = {},
): Promise<T> {
  const deadline = Date.now() + maxWaitMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${maxWaitMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** The four topics of one test, created with `partitions` partitions each. */
/** The topics of one test: input, chunks, manifests, dead letters, sections. */
export type Topics = TopicNames;

export async function createTopics(partitions = 3): Promise<Topics> {
  const topics = topicNames(unique('t'));
  const admin: Admin = kafka().admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: Object.values(topics).map((topic) => ({
        topic,
        numPartitions: partitions,
        replicationFactor: 1,
        configEntries: topic === topics.manifests ? [{ name: 'cleanup.policy', value: 'compact' }] : [],
      })),
    });
  } finally {
    await admin.disconnect();
  }
  return topics;
}

/** A record to produce: key and value bytes (null value: tombstone) and optional headers. */
export interface RawMessage {
  key: string | Buffer | null;
  value: string | Buffer | null;
  headers?: IHeaders;
  partition?: number;
}

export async function produce(topic: string, messages: RawMessage[]): Promise<void> {
  const producer = kafka().producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (let i = 0; i < messages.length; i += 500) {
      await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 500) });
    }
  } finally {
    await producer.disconnect();
  }
}

/** A JSON RawDocument message keyed by its doc_id. */
export function jsonDoc(docId: string, text: string, extra: Record<string, unknown> = {}): RawMessage {
  return { key: docId, value: JSON.stringify({ doc_id: docId, text, ...extra }) };
}

/** One consumed output record. */
export interface Consumed {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: IHeaders;
}

/**
 * Reads `topics` from the beginning as a read_committed consumer (its own group) until `done(all)`
 * holds, then disconnects. Fails after `maxWaitMs`.
 */
export async function readUntil(
  topics: string[],
  done: (records: Consumed[]) => boolean,
  { maxWaitMs = 120_000 } = {},
): Promise<Consumed[]> {
  const consumer = kafka().consumer({ groupId: unique('reader'), readUncommitted: false });
  const records: Consumed[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        records.push({
          topic,
          partition,
          offset: message.offset,
          key: message.key === null ? null : message.key.toString('utf8'),
          value: message.value,
          headers: message.headers ?? {},
        });
      },
    });
    await waitFor(`records on ${topics.join(', ')} (have ${records.length})`, () => done(records), { maxWaitMs });
    return records;
  } finally {
    await consumer.disconnect();
  }
}

export function decodeChunk(r: Consumed): ChunkRecord {
  if (r.value === null) throw new Error('null chunk value');
  return chunkCodec.decodeSingleObject(r.value);
}

export function decodeManifest(r: Consumed): DocumentManifest {
  if (r.value === null) throw new Error('null manifest value');
  return manifestCodec.decodeSingleObject(r.value);
}

/** A worker process (the real `chunkline-worker` binary). */
export interface WorkerProcess {
  readonly proc: ChildProcessWithoutNullStreams;
  readonly logs: string[];
  /** Resolves with the exit code (or the signal name). */
  readonly exited: Promise<number | string>;
  /** Waits until /readyz answers 200. */
  ready(maxWaitMs?: number): Promise<void>;
  /** Parsed metrics text from /metrics. */
  metrics(): Promise<string>;
}

export function startWorker(topics: Topics, env: Record<string, string> = {}): WorkerProcess {
  const proc = spawn(process.execPath, [WORKER_MAIN], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      KAFKA_BROKERS: brokers(),
      ...workerTopicEnv(topics),
      CHUNKLINE_MAX_TOKENS: '128',
      CHUNKLINE_LOG_LEVEL: 'info',
      ...env,
    },
  });
  const logs: string[] = [];
  let port: number | undefined;
  let buffered = '';
  const onData = (d: Buffer): void => {
    buffered += d.toString('utf8');
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      logs.push(line);
      if (port === undefined) {
        try {
          const j = JSON.parse(line) as { httpPort?: number };
          if (typeof j.httpPort === 'number') port = j.httpPort;
        } catch {
          // not JSON (stderr text)
        }
      }
    }
  };
  proc.stdout.on('data', onData);
  proc.stderr.on('data', onData);
  const exited = new Promise<number | string>((resolve) => {
    proc.on('exit', (code, signal) => resolve(code ?? signal ?? -1));
  });
  const get = async (p: string): Promise<Response | undefined> => {
    if (port === undefined) return undefined;
    try {
      return await fetch(`http://127.0.0.1:${port}${p}`);
    } catch {
      return undefined;
    }
  };
  return {
    proc,
    logs,
    exited,
    ready: async (maxWaitMs = 90_000) => {
      await waitFor(
        `worker ready (logs: ${logs.slice(-5).join(' | ')})`,
        async () => {
          if (proc.exitCode !== null) throw new Error(`worker exited ${proc.exitCode}: ${logs.slice(-20).join('\n')}`);
          return (await get('/readyz'))?.status === 200;
        },
        { maxWaitMs, intervalMs: 200 },
      );
    },
    metrics: async () => (await (await get('/metrics'))?.text()) ?? '',
  };
}

/** Stops a worker with SIGTERM and waits for it to exit (SIGKILL after `maxWaitMs`). */
export async function stopWorker(w: WorkerProcess, maxWaitMs = 40_000): Promise<number | string> {
  if (w.proc.exitCode !== null || w.proc.signalCode !== null) return w.exited;
  w.proc.kill('SIGTERM');
  const timer = setTimeout(() => w.proc.kill('SIGKILL'), maxWaitMs);
  try {
    return await w.exited;
  } finally {
    clearTimeout(timer);
  }
}
