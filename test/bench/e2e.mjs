// End-to-end throughput of the streaming worker through a real Kafka broker, beside in-process
// chunking of the same documents. Run: npm run bench:e2e (builds first).
//
// Uses KAFKA_BROKERS when set, otherwise starts the local broker (test/kafka/kafka.sh) on
// E2E_KAFKA_PORT (default 29092) and stops it at the end. Bounded: E2E_DOCS documents (default 2000)
// of real text from the fixture corpus, one worker process per delivery mode, E2E_TIMEOUT_S per run.
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { createChunker } from '@chunkline/chunking';
import { loadTokenizer } from '@chunkline/tokenizers';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const N = Number(process.env.E2E_DOCS ?? 2000);
const TIMEOUT_S = Number(process.env.E2E_TIMEOUT_S ?? 300);
const MAX_TOKENS = Number(process.env.E2E_MAX_TOKENS ?? 512);
const PARTITIONS = 4;

function corpus() {
  const files = [];
  const walk = (d) => {
    for (const f of readdirSync(d).sort()) {
      if (f.startsWith('.') || f === 'LICENSES') continue;
      const p = path.join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (statSync(p).size > 2000) files.push(p);
    }
  };
  walk(path.join(ROOT, 'test', 'fixtures', 'corpus'));
  const docs = [];
  for (let i = 0; i < N; i++) {
    const cps = Array.from(readFileSync(files[i % files.length], 'utf8'));
    const len = 1000 + ((i * 7919) % 9000);
    const start = (i * 104729) % Math.max(1, cps.length - len);
    docs.push({ id: `e2e-${i}`, text: cps.slice(start, start + len).join('') });
  }
  return docs;
}

let startedBroker = null;
function brokers() {
  if (process.env.KAFKA_BROKERS) return process.env.KAFKA_BROKERS;
  const port = process.env.E2E_KAFKA_PORT ?? '29092';
  const env = { ...process.env, KAFKA_PORT: port, KAFKA_CONTROLLER_PORT: String(Number(port) + 1) };
  execFileSync('bash', [path.join(ROOT, 'test', 'kafka', 'kafka.sh'), 'start'], {
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  startedBroker = env;
  return `127.0.0.1:${port}`;
}

async function run(kafka, bootstrap, docs, delivery) {
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
  for (let i = 0; i < docs.length; i += 500) {
    await producer.send({
      topic: topics.input,
      acks: -1,
      messages: docs
        .slice(i, i + 500)
        .map((d) => ({ key: d.id, value: JSON.stringify({ doc_id: d.id, text: d.text }) })),
    });
  }
  await producer.disconnect();

  // Count manifests as a read_committed consumer, from before the worker starts.
  const consumer = kafka.consumer({ groupId: `${id}-reader`, readUncommitted: false });
  await consumer.connect();
  await consumer.subscribe({ topics: [topics.manifests], fromBeginning: true });
  let manifests = 0;
  let done;
  const allDone = new Promise((r) => (done = r));
  await consumer.run({
    eachMessage: async () => {
      if (++manifests === docs.length) done();
    },
  });

  const t0 = performance.now();
  const worker = spawn(process.execPath, [path.join(ROOT, 'services', 'chunker', 'dist', 'main.js')], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      PATH: process.env.PATH,
      KAFKA_BROKERS: bootstrap,
      CHUNKLINE_GROUP_ID: `${id}-workers`,
      CHUNKLINE_INPUT_TOPIC: topics.input,
      CHUNKLINE_CHUNK_TOPIC: topics.chunks,
      CHUNKLINE_MANIFEST_TOPIC: topics.manifests,
      CHUNKLINE_DLQ_TOPIC: topics.dlq,
      CHUNKLINE_DELIVERY: delivery,
      CHUNKLINE_MAX_TOKENS: String(MAX_TOKENS),
      CHUNKLINE_HTTP_PORT: '0',
      CHUNKLINE_HTTP_HOST: '127.0.0.1',
      CHUNKLINE_LOG_LEVEL: 'warn',
    },
  });
  const timeout = new Promise((_, reject) =>
    setTimeout(
      () => reject(new Error(`${delivery}: timed out after ${TIMEOUT_S} s with ${manifests} manifests`)),
      TIMEOUT_S * 1000,
    ).unref(),
  );
  try {
    await Promise.race([allDone, timeout]);
  } finally {
    worker.kill('SIGTERM');
    await new Promise((r) => worker.on('exit', r));
    await consumer.disconnect();
  }
  return (performance.now() - t0) / 1000;
}

const docs = corpus();
const mb = docs.reduce((n, d) => n + Buffer.byteLength(d.text), 0) / 1e6;
const tok = await loadTokenizer('bert-base-uncased');
const chunker = createChunker(tok, { maxTokens: MAX_TOKENS });
chunker.chunk({ docId: 'warm', text: docs[0].text });
let t = performance.now();
let chunks = 0;
for (const d of docs) chunks += chunker.chunk({ docId: d.id, text: d.text }).chunks.length;
const inProcess = (performance.now() - t) / 1000;

const bootstrap = brokers();
const kafka = new Kafka({ clientId: 'chunkline-e2e', brokers: bootstrap.split(','), logLevel: logLevel.NOTHING });
try {
  const rows = [['in-process chunking (same docs, one thread)', inProcess]];
  for (const delivery of ['exactly-once', 'at-least-once'])
    rows.push([`worker through Kafka, ${delivery}`, await run(kafka, bootstrap, docs, delivery)]);
  console.log(
    `\n${docs.length} documents, ${mb.toFixed(2)} MB, ${chunks} chunks at max ${MAX_TOKENS} tokens, ${PARTITIONS} partitions, bert-base-uncased`,
  );
  console.log('what'.padEnd(46), 'seconds'.padStart(8), 'docs/s'.padStart(8), 'MB/s'.padStart(7));
  for (const [what, s] of rows) {
    console.log(
      what.padEnd(46),
      s.toFixed(2).padStart(8),
      (docs.length / s).toFixed(0).padStart(8),
      (mb / s).toFixed(2).padStart(7),
    );
  }
  console.log('(worker times include joining the group and the first transaction set-up)');
} finally {
  if (startedBroker)
    execFileSync('bash', [path.join(ROOT, 'test', 'kafka', 'kafka.sh'), 'stop'], {
      env: startedBroker,
      stdio: 'ignore',
    });
}
