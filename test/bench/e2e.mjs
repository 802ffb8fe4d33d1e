// End-to-end throughput of the streaming worker through a real Kafka broker, beside in-process
// chunking of the same documents on one thread. Part of `npm run bench` (BENCH_E2E=0 skips it);
// alone: `npm run bench:e2e` (builds first).
//
// Documents: the benchmark corpus (see lib/corpus.mjs) cut into pieces of 1 to 16 KB at code point
// boundaries, E2E_MB in all (default 40). Broker: KAFKA_BROKERS when set, otherwise the local broker
// (test/kafka/kafka.sh) on E2E_KAFKA_PORT (default 29092), stopped at the end. Each delivery mode
// (E2E_MODES, default exactly-once) gets fresh topics (4 partitions) and one worker process with its
// default configuration (CHUNKLINE_WORKER_THREADS = CPU count). The input is produced before the
// worker starts; a read_committed consumer timestamps every manifest. Reported: the wall time from
// the worker's start (process start, group join, producer set-up included) and the sustained rate
// from the first manifest to the last. Bounded by E2E_TIMEOUT_S per mode.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { createChunker } from '@chunkline/chunking';
import { loadTokenizer } from '@chunkline/tokenizers';
import { startKafka } from '../support/shared.mjs';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const PARTITIONS = 4;
/** Port of the local broker this part starts when KAFKA_BROKERS is not set. */
const E2E_PORT = process.env.E2E_KAFKA_PORT ?? '29092';

/** Cuts documents into pieces of 1 to 16 KB (deterministic), until `targetBytes`. */
export function cutDocs(docs, targetBytes) {
  const out = [];
  let total = 0;
  let i = 0;
  for (let round = 0; total < targetBytes && docs.length > 0; round++) {
    for (const d of docs) {
      let at = 0;
      while (at < d.text.length && total < targetBytes) {
        const len = 1000 + ((i * 7919) % 15000);
        let end = Math.min(d.text.length, at + len);
        const c = d.text.charCodeAt(end - 1);
        if (c >= 0xd800 && c <= 0xdbff && end < d.text.length) end += 1; // keep a surrogate pair whole
        const text = d.text.slice(at, end);
        const bytes = Buffer.byteLength(text, 'utf8');
        out.push({ id: `e2e-${i}`, text, contentType: d.contentType, bytes });
        total += bytes;
        i++;
        at = end;
      }
      if (total >= targetBytes) break;
    }
    if (round > 100) break;
  }
  return out;
}

async function runMode(kafka, bootstrap, docs, delivery, { maxTokens, timeoutS }) {
  const id = `e2e-${delivery}-${Date.now()}`;
  const topics = { input: `${id}.raw`, chunks: `${id}.chunks`, manifests: `${id}.manifests`, dlq: `${id}.dlq` };
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: Object.values(topics).map((topic) => ({ topic, numPartitions: PARTITIONS, replicationFactor: 1 })),
  });
  await admin.disconnect();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  for (let i = 0; i < docs.length; i += 200) {
    await producer.send({
      topic: topics.input,
      acks: -1,
      messages: docs.slice(i, i + 200).map((d) => ({
        key: d.id,
        value: JSON.stringify({ doc_id: d.id, text: d.text, content_type: d.contentType }),
      })),
    });
  }
  await producer.disconnect();

  // Timestamps of the manifests as a read_committed consumer sees them, from before the worker starts.
  const consumer = kafka.consumer({ groupId: `${id}-reader`, readUncommitted: false });
  await consumer.connect();
  await consumer.subscribe({ topics: [topics.manifests], fromBeginning: true });
  let manifests = 0;
  let first;
  let last;
  let done;
  const allDone = new Promise((r) => (done = r));
  await consumer.run({
    eachBatch: async ({ batch }) => {
      const now = performance.now();
      first ??= now;
      last = now;
      manifests += batch.messages.length;
      if (manifests >= docs.length) done();
    },
  });

  const t0 = performance.now();
  // For profiling the worker: E2E_WORKER_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof'.
  const nodeArgs = (process.env.E2E_WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const worker = spawn(process.execPath, [...nodeArgs, path.join(ROOT, 'services', 'chunker', 'dist', 'main.js')], {
    cwd: ROOT,
    // E2E_WORKER_LOG=FILE keeps the worker's JSON log lines (with CHUNKLINE_LOG_LEVEL=debug: every batch).
    stdio: ['ignore', process.env.E2E_WORKER_LOG ? fs.openSync(process.env.E2E_WORKER_LOG, 'w') : 'ignore', 'inherit'],
    env: {
      // CHUNKLINE_* variables of this process tune the worker (topics and group are set below).
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('CHUNKLINE_'))),
      PATH: process.env.PATH,
      KAFKA_BROKERS: bootstrap,
      CHUNKLINE_GROUP_ID: `${id}-workers`,
      CHUNKLINE_INPUT_TOPIC: topics.input,
      CHUNKLINE_CHUNK_TOPIC: topics.chunks,
      CHUNKLINE_MANIFEST_TOPIC: topics.manifests,
      CHUNKLINE_DLQ_TOPIC: topics.dlq,
      CHUNKLINE_DELIVERY: delivery,
      CHUNKLINE_MAX_TOKENS: String(maxTokens),
      CHUNKLINE_HTTP_PORT: '0',
      CHUNKLINE_HTTP_HOST: '127.0.0.1',
      CHUNKLINE_LOG_LEVEL: process.env.CHUNKLINE_LOG_LEVEL ?? 'warn',
    },
  });
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${delivery}: timed out after ${timeoutS} s with ${manifests}/${docs.length} manifests`)),
      timeoutS * 1000,
    );
  });
  const exited = new Promise((r) => worker.on('exit', r));
  try {
    await Promise.race([
      allDone,
      timeout,
      exited.then((code) => Promise.reject(new Error(`${delivery}: the worker exited with ${code}`))),
    ]);
  } finally {
    clearTimeout(timer);
    worker.kill('SIGTERM');
    await exited;
    await consumer.disconnect();
  }
  return {
    wallSeconds: (last - t0) / 1000,
    startSeconds: (first - t0) / 1000,
    sustainedSeconds: (last - first) / 1000,
  };
}

/** The JSON RawDocument value the bench produces for a document. */
const valueOf = (d) => Buffer.from(JSON.stringify({ doc_id: d.id, text: d.text, content_type: d.contentType }));

/**
 * In-process on one thread, the same documents: chunking alone, and the worker's whole per-record work
 * (decode the JSON value, chunk, encode the Avro records: services/chunker's RecordProcessor with the
 * worker's configuration) without a broker. Then the worker through the broker for each mode; `ratio`
 * is against the in-process record processing. Returns { docs, mb, chunks, chunkingOnly, inProcess,
 * modes: [{ delivery, ..., ratio }] }.
 */
export async function runE2E({ docs, maxTokens = 512, modes = ['exactly-once'], timeoutS = 300, log }) {
  const mb = docs.reduce((n, d) => n + d.bytes, 0) / 1e6;
  const tok = await loadTokenizer('bert-base-uncased');
  const chunker = createChunker(tok, { maxTokens });
  for (const d of docs.slice(0, 100)) chunker.chunk({ docId: d.id, text: d.text, contentType: d.contentType });
  let t = performance.now();
  let chunks = 0;
  for (const d of docs) {
    chunks += chunker.chunk({ docId: d.id, text: d.text, contentType: d.contentType }).chunks.length;
  }
  const chunkSeconds = (performance.now() - t) / 1000;

  const { loadConfig } = await import('../../services/chunker/dist/config.js');
  const { buildProcessor } = await import('../../services/chunker/dist/processor.js');
  const config = loadConfig({ KAFKA_BROKERS: '127.0.0.1:9', CHUNKLINE_MAX_TOKENS: String(maxTokens) });
  const { processor } = await buildProcessor({ config, registryIds: null });
  const msgs = docs.map((d, i) => ({
    topic: 'in',
    partition: 0,
    offset: String(i),
    key: Buffer.from(d.id),
    value: valueOf(d),
    headers: {},
  }));
  await processor.processAll(msgs.slice(0, 100));
  t = performance.now();
  let notChunked = 0;
  // In slices, as the worker does, so that all the output is not held at once.
  for (let i = 0; i < msgs.length; i += 500) {
    for (const o of await processor.processAll(msgs.slice(i, i + 500))) if (o.outcome !== 'chunked') notChunked++;
  }
  const inSeconds = (performance.now() - t) / 1000;
  if (notChunked > 0) throw new Error(`${notChunked} documents were not chunked in-process`);

  const result = {
    docs: docs.length,
    mb,
    chunks,
    maxTokens,
    partitions: PARTITIONS,
    chunkingOnly: { seconds: chunkSeconds, mbPerSecond: mb / chunkSeconds },
    inProcess: { seconds: inSeconds, mbPerSecond: mb / inSeconds },
    modes: [],
  };
  if (!process.env.KAFKA_BROKERS) log?.(`e2e: starting the local broker on 127.0.0.1:${E2E_PORT}`);
  const broker = startKafka(E2E_PORT);
  try {
    const kafka = new Kafka({
      clientId: 'chunkline-e2e',
      brokers: broker.brokers.split(','),
      logLevel: logLevel.NOTHING,
    });
    for (const delivery of modes) {
      log?.(`e2e: ${delivery}, ${docs.length} documents`);
      const r = await runMode(kafka, broker.brokers, docs, delivery, { maxTokens, timeoutS });
      const sustained = mb / r.sustainedSeconds;
      result.modes.push({
        delivery,
        ...r,
        wallMbPerSecond: mb / r.wallSeconds,
        sustainedMbPerSecond: sustained,
        ratio: sustained / result.inProcess.mbPerSecond,
      });
    }
  } finally {
    broker.stop();
  }
  return result;
}

export function printE2E(r) {
  console.log(
    `${r.docs} documents of 1-16 KB, ${r.mb.toFixed(2)} MB, ${r.chunks} chunks at max ${r.maxTokens} tokens, ${r.partitions} partitions, bert-base-uncased`,
  );
  console.log(`what                                          seconds   docs/s    MB/s   vs in-process`);
  const line = (what, s, mbps, ratio) =>
    console.log(
      `${what.padEnd(44)} ${s.toFixed(2).padStart(8)} ${(r.docs / s).toFixed(0).padStart(8)} ${mbps.toFixed(2).padStart(7)}   ${ratio}`,
    );
  line(
    'in-process chunking only, one thread',
    r.chunkingOnly.seconds,
    r.chunkingOnly.mbPerSecond,
    `${(r.chunkingOnly.mbPerSecond / r.inProcess.mbPerSecond).toFixed(2)}x`,
  );
  line('in-process decode+chunk+encode, one thread', r.inProcess.seconds, r.inProcess.mbPerSecond, '1.00x');
  for (const m of r.modes) {
    line(
      `worker via Kafka, ${m.delivery}, sustained`,
      m.sustainedSeconds,
      m.sustainedMbPerSecond,
      `${m.ratio.toFixed(2)}x`,
    );
    line(
      `  wall from worker start (first output ${m.startSeconds.toFixed(1)} s)`,
      m.wallSeconds,
      m.wallMbPerSecond,
      `${(m.wallMbPerSecond / r.inProcess.mbPerSecond).toFixed(2)}x`,
    );
  }
  console.log(
    '(sustained: first manifest to last, read_committed; wall adds process start, group join and producer set-up)',
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { ensureCorpus, listCorpusFiles, loadDocs } = await import('./lib/corpus.mjs');
  const dir = ensureCorpus(ROOT, process.env, (m) => process.stderr.write(`${m}\n`));
  const targetMb = Number(process.env.E2E_MB ?? 40);
  const source = loadDocs(dir, listCorpusFiles(dir), targetMb * 1e6, 'mixed');
  const docs = cutDocs(source, targetMb * 1e6);
  const modes = (process.env.E2E_MODES ?? 'exactly-once').split(',').map((s) => s.trim());
  const r = await runE2E({
    docs,
    maxTokens: Number(process.env.E2E_MAX_TOKENS ?? 512),
    modes,
    timeoutS: Number(process.env.E2E_TIMEOUT_S ?? 300),
    log: (m) => process.stderr.write(`${m}\n`),
  });
  printE2E(r);
}
