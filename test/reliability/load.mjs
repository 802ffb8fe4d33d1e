#!/usr/bin/env node
/**
 * The load curve of the streaming worker (issue 5, part 3): for each document size and each number of
 * workers, documents are produced at a fixed rate for one step, the rate doubles step by step until the
 * worker no longer keeps up (latency rising through the step, output below the sent rate, or the
 * backlog growing: judgeStep), then one step between the last rate that kept up and the first that did
 * not (nextRate), and the series stops. Per step: offered and achieved rates, docs/s and MB/s out, p50/p95/p99 time
 * from produce to the manifest seen by an independent read_committed consumer, backlog, worker RSS and
 * CPU. Prints Markdown tables and a summary; exits 1 on any error (a document not answered within
 * LOAD_DRAIN_SECONDS after its step stopped producing is lost, a duplicate or a dead letter, a worker
 * that exits).
 *
 * Run: npm run reliability:load (builds first). Not in CI (minutes of CPU on purpose).
 * Uses KAFKA_BROKERS when set, otherwise starts test/kafka/kafka.sh on LOAD_KAFKA_PORT (29192, the
 * controller on the next port) and stops it at the end. Knobs (defaults):
 *   LOAD_SIZES (1KB,100KB,5MB; decimal units)  LOAD_WORKERS (1,2)  LOAD_STEP_SECONDS (8)
 *   LOAD_MIN_STEP_DOCS (4: a step lasts at least this many documents)  LOAD_MAX_STEPS (8 per series)
 *   LOAD_START_RATE (docs/s of the first step; default per size: 500 KB/s of documents, within 0.25..100)
 *   LOAD_MAX_SECONDS (570: no step starts after this; the run ends by it plus the drain and teardown)
 *   LOAD_DRAIN_SECONDS (60)  LOAD_PARTITIONS (4)  LOAD_MAX_TOKENS (512)  LOAD_WORKER_THREADS (unset;
 *   passed to the worker as CHUNKLINE_WORKER_THREADS)  LOAD_KAFKA_PORT (29192)
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { manifestCodec } from '@chunkline/records';
import { startKafka } from '../support/shared.mjs';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const WORKER_MAIN = path.join(ROOT, 'services', 'chunker', 'dist', 'main.js');
/** Input and dead-letter topics take documents of up to this many bytes (the broker default is ~1 MB). */
const BIG_TOPIC_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
/** Producer-side bound on bytes handed to kafkajs and not yet acknowledged. */
const MAX_INFLIGHT_BYTES = 64 * 1024 * 1024;
const SAMPLE_INTERVAL_MS = 250;
const TICK_MS = 20;
const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ of /proc/<pid>/stat on Linux

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => Date.now();

// ---------------------------------------------------------------------------------------------
// Pure helpers: knobs, percentiles, the step verdict, formatting.

/** Parses "1KB", "100 KB", "5MB", "2500" (decimal units: 1 KB = 1000 bytes) into bytes. */
export function parseSize(s) {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|k|mb|m)?\s*$/i.exec(s);
  if (m === null) throw new Error(`LOAD_SIZES: "${s}" is not a size like 1KB, 100KB or 5MB`);
  const unit = (m[2] ?? 'b').toLowerCase();
  const bytes = Math.round(Number(m[1]) * (unit.startsWith('m') ? 1e6 : unit.startsWith('k') ? 1e3 : 1));
  if (bytes < 1) throw new Error(`LOAD_SIZES: "${s}" must be at least 1 byte`);
  return bytes;
}

/** "1 KB", "100 KB", "5 MB". */
export function formatSize(bytes) {
  if (bytes >= 1e6) return `${+(bytes / 1e6).toFixed(2)} MB`;
  if (bytes >= 1e3) return `${+(bytes / 1e3).toFixed(2)} KB`;
  return `${bytes} B`;
}

/** The knobs, from the environment, checked. */
export function loadOptions(env) {
  const num = (name, d, min = 0) => {
    const v = env[name];
    if (v === undefined || v === '') return d;
    const x = Number(v);
    if (!Number.isFinite(x) || x < min) throw new Error(`${name} must be a number >= ${min}, got "${v}"`);
    return x;
  };
  const list = (name, d) => (env[name] ?? d).split(',').filter((s) => s.trim() !== '');
  const workers = list('LOAD_WORKERS', '1,2').map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1 || n > 8) throw new Error(`LOAD_WORKERS: "${s}" is not a count from 1 to 8`);
    return n;
  });
  const threads = env.LOAD_WORKER_THREADS;
  return Object.freeze({
    sizes: list('LOAD_SIZES', '1KB,100KB,5MB').map(parseSize),
    workers,
    stepSeconds: num('LOAD_STEP_SECONDS', 8, 1),
    minStepDocs: num('LOAD_MIN_STEP_DOCS', 4, 1),
    maxSteps: num('LOAD_MAX_STEPS', 8, 1),
    startRate: env.LOAD_START_RATE ? num('LOAD_START_RATE', 0, 0.001) : undefined,
    maxSeconds: num('LOAD_MAX_SECONDS', 570, 10),
    drainSeconds: num('LOAD_DRAIN_SECONDS', 60, 1),
    partitions: num('LOAD_PARTITIONS', 4, 1),
    maxTokens: num('LOAD_MAX_TOKENS', 512, 8),
    workerThreads: threads !== undefined && threads !== '' ? threads : undefined,
    kafkaPort: num('LOAD_KAFKA_PORT', 29192, 1),
  });
}

/** The first step's rate: 500 KB/s of documents, at least 0.25 and at most 100 documents/s. */
export function defaultStartRate(sizeBytes) {
  return Math.min(100, Math.max(0.25, 500_000 / sizeBytes));
}

/** Nearest-rank percentile of `values` (any order); NaN for none. */
export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

const mean = (xs) => (xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length);

/**
 * Did the worker keep up during a step? `latenciesMs` are in produce order; `backlog` samples
 * ({ atMs, docs }) cover the producing window [0, stepMs); `outRate` is the rate at which the step's
 * manifests came out (first to last), `sentRate` the rate they were produced at. Lag grows when any of:
 * - latency rises through the step: the median latency of the last third of the documents exceeds
 *   that of the first third by more than max(5% of the step, half the first third's median). Over
 *   capacity by a factor f, a queue builds up and each later document waits longer: the latency rises
 *   by about (f - 1) x the step, so this catches f above ~1.08 (or a doubling for slow documents);
 * - the output rate falls behind: outRate < 90% of sentRate (over capacity, manifests come out at the
 *   capacity whatever the offered rate);
 * - the backlog (produced - answered) grows: its mean over the last quarter of the step exceeds its mean
 *   over the second quarter by more than max(3, 5% of the step's documents).
 * Returns { verdict: 'ok' | 'lag grows' | 'producer behind' | 'lost', and which signals fired }.
 */
export function judgeStep({ rate, stepMs, sent, sentRate, outRate, latenciesMs, backlog, lost }) {
  const n = latenciesMs.length;
  const third = Math.max(1, Math.floor(n / 3));
  const first = percentile(latenciesMs.slice(0, third), 50);
  const last = percentile(latenciesMs.slice(n - third), 50);
  const latencyRising = n >= 3 && last - first > Math.max(0.05 * stepMs, 0.5 * first);
  const outputBehind = n >= 2 && outRate < 0.9 * sentRate;
  const quarter = (q) => backlog.filter((s) => s.atMs >= (q * stepMs) / 4 && s.atMs < ((q + 1) * stepMs) / 4);
  const growth = mean(quarter(3).map((s) => s.docs)) - mean(quarter(1).map((s) => s.docs));
  const backlogGrowing = growth > Math.max(3, 0.05 * sent);
  let verdict = 'ok';
  if (lost > 0) verdict = 'lost';
  else if (sent < 0.9 * rate * (stepMs / 1000)) verdict = 'producer behind';
  else if (latencyRising || outputBehind || backlogGrowing) verdict = 'lag grows';
  return {
    verdict,
    latencyRising,
    outputBehind,
    backlogGrowing,
    firstThirdMs: first,
    lastThirdMs: last,
    backlogGrowth: growth,
  };
}

/**
 * The next rate of a series, or undefined to stop. Before any step failed: double. Before any step
 * kept up: halve (not below `minRate`). Once the knee is bracketed (kept up at `sustainedRate`, lag
 * grew at `failedRate`): one more step at their geometric mean while they are more than 1.5x apart,
 * then stop. After 'producer behind' or 'lost': stop (a higher rate would measure the load generator).
 */
export function nextRate({ verdict, sustainedRate, failedRate, minRate }) {
  if (verdict !== 'ok' && verdict !== 'lag grows') return undefined;
  if (failedRate === undefined) return sustainedRate * 2;
  if (sustainedRate === undefined) return failedRate / 2 >= minRate ? failedRate / 2 : undefined;
  return failedRate / sustainedRate > 1.5 ? Math.sqrt(failedRate * sustainedRate) : undefined;
}

const fmt = (x, digits = 0) => (Number.isFinite(x) ? x.toFixed(digits) : '-');
const fmtRate = (x) => (!Number.isFinite(x) ? '-' : x >= 10 ? x.toFixed(0) : x >= 1 ? x.toFixed(1) : x.toFixed(3));

/** A Markdown table. */
export function table(header, rows) {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`]
    .concat(rows.map((r) => `| ${r.join(' | ')} |`))
    .join('\n');
}

// ---------------------------------------------------------------------------------------------
// Documents: the fixture corpus (as test/fixtures/fixtures.ts lists it), cut and concatenated to size.

export function corpusBytes() {
  const dir = path.join(ROOT, 'test', 'fixtures', 'corpus');
  const files = [];
  const walk = (d) => {
    for (const f of readdirSync(d).sort()) {
      const p = path.join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else files.push(path.relative(dir, p));
    }
  };
  walk(dir);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const texts = files
    .filter((f) => !f.startsWith('LICENSES') && f !== 'SOURCES.md' && !f.split('/').some((p) => p.startsWith('.')))
    .map((f) => decoder.decode(readFileSync(path.join(dir, f))));
  return Buffer.from(texts.join('\n\n'), 'utf8');
}

const isContinuation = (b) => (b & 0xc0) === 0x80;

/**
 * `bytes` bytes (at most; cut back to a code point boundary) of the corpus ring from about byte
 * `start`, wrapping around: real text, valid UTF-8.
 */
export function cutText(ring, start, bytes) {
  let at = start % ring.length;
  while (isContinuation(ring[at])) at = (at + 1) % ring.length;
  const parts = [];
  let have = 0;
  while (have < bytes) {
    const take = Math.min(bytes - have, ring.length - at);
    parts.push(ring.subarray(at, at + take));
    have += take;
    at = 0;
  }
  const buf = parts.length === 1 ? parts[0] : Buffer.concat(parts);
  // Drop the last code point if the cut went through it.
  let end = buf.length;
  let lead = end - 1;
  while (lead > 0 && isContinuation(buf[lead])) lead--;
  const b = buf[lead];
  const width = b < 0x80 ? 1 : b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
  if (lead + width > end) end = lead;
  return buf.subarray(0, end).toString('utf8');
}

// ---------------------------------------------------------------------------------------------
// Processes: the broker, workers, /proc sampling.

function procStatus(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /VmRSS:\s+(\d+) kB/.exec(status);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { rssBytes: rss ? Number(rss[1]) * 1024 : NaN, cpuTicks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined;
  }
}

/** Busy CPU ticks of the whole machine, all cores (/proc/stat: user nice system idle iowait irq softirq steal). */
function machineBusyTicks() {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    return f[0] + f[1] + f[2] + f[5] + f[6] + f[7];
  } catch {
    return NaN;
  }
}

/** The 1-minute load average of the machine (other processes share the 2 cores). */
function loadAverage() {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
  } catch {
    return '?';
  }
}

function startWorker(o, bootstrap, topics) {
  const env = {
    PATH: process.env.PATH ?? '',
    KAFKA_BROKERS: bootstrap,
    CHUNKLINE_GROUP_ID: topics.group,
    CHUNKLINE_INPUT_TOPIC: topics.input,
    CHUNKLINE_CHUNK_TOPIC: topics.chunks,
    CHUNKLINE_MANIFEST_TOPIC: topics.manifests,
    CHUNKLINE_DLQ_TOPIC: topics.dlq,
    CHUNKLINE_SECTION_TOPIC: topics.sections,
    CHUNKLINE_DELIVERY: 'exactly-once',
    CHUNKLINE_MAX_TOKENS: String(o.maxTokens),
    CHUNKLINE_HTTP_PORT: '0',
    CHUNKLINE_HTTP_HOST: '127.0.0.1',
    CHUNKLINE_LOG_LEVEL: 'warn',
    // kafkajs's one-time "switched default partitioner" warning: noise in a load run.
    KAFKAJS_NO_PARTITIONER_WARNING: '1',
  };
  if (o.workerThreads !== undefined) env.CHUNKLINE_WORKER_THREADS = o.workerThreads;
  const proc = spawn(process.execPath, [WORKER_MAIN], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs = [];
  const keep = (d) => {
    for (const line of d.toString('utf8').split('\n')) if (line !== '') logs.push(line);
    if (logs.length > 200) logs.splice(0, logs.length - 200);
  };
  proc.stdout.on('data', keep);
  proc.stderr.on('data', keep);
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve(code ?? signal)));
  return { proc, logs, exited, expectedExit: false };
}

async function stopWorker(w) {
  w.expectedExit = true;
  if (w.proc.exitCode !== null || w.proc.signalCode !== null) return;
  w.proc.kill('SIGTERM');
  const timer = setTimeout(() => w.proc.kill('SIGKILL'), 30_000);
  await w.exited;
  clearTimeout(timer);
}

async function waitFor(what, check, maxWaitMs, intervalMs = 100) {
  const deadline = now() + maxWaitMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (now() > deadline) throw new Error(`timed out after ${Math.round(maxWaitMs / 1000)} s waiting for ${what}`);
    await sleep(intervalMs);
  }
}

// ---------------------------------------------------------------------------------------------
// The run.

async function main() {
  const o = loadOptions(process.env);
  const t0 = now();
  const deadline = t0 + o.maxSeconds * 1000;
  const errors = [];
  const ring = corpusBytes();
  const broker = startKafka(o.kafkaPort);
  const kafka = new Kafka({
    clientId: 'chunkline-load',
    brokers: broker.brokers.split(','),
    logLevel: logLevel.NOTHING,
  });
  const runId = randomBytes(4).toString('hex');
  const series = [];
  for (const workers of o.workers)
    for (const size of o.sizes) {
      const id = `load-${runId}-${size}-w${workers}`;
      series.push({
        size,
        workers,
        topics: {
          input: `${id}.raw`,
          chunks: `${id}.chunks`,
          manifests: `${id}.manifests`,
          dlq: `${id}.dlq`,
          sections: `${id}.sections`,
          group: `${id}-workers`,
        },
      });
    }

  /** Every produced document: doc_id -> { version, producedAt, answeredAt, bytes, step }. */
  const docs = new Map();
  let duplicates = 0;
  let unexpected = 0;
  const deadLetters = [];
  let liveWorkers = [];
  let producer;
  let reader;
  let admin;

  const cleanup = async () => {
    for (const w of liveWorkers) await stopWorker(w);
    liveWorkers = [];
    await reader?.disconnect().catch(() => undefined);
    await producer?.disconnect().catch(() => undefined);
    await admin?.disconnect().catch(() => undefined);
    broker.stop();
  };
  const onSignal = (sig) => {
    process.stderr.write(`load: ${sig}, stopping workers and broker\n`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  /** waitFor that gives up at once when a worker has failed. */
  const until = (what, check, maxWaitMs, intervalMs) =>
    waitFor(
      what,
      () => {
        if (errors.length > 0) throw new Error(errors[errors.length - 1]);
        return check();
      },
      maxWaitMs,
      intervalMs,
    );
  const log = (s) => process.stderr.write(`load: [${((now() - t0) / 1000).toFixed(0)} s] ${s}\n`);
  const results = [];
  try {
    admin = kafka.admin();
    await admin.connect();
    const big = [{ name: 'max.message.bytes', value: String(BIG_TOPIC_MAX_MESSAGE_BYTES) }];
    await admin.createTopics({
      waitForLeaders: true,
      topics: series.flatMap(({ topics }) =>
        [topics.input, topics.chunks, topics.manifests, topics.dlq, topics.sections].map((topic) => ({
          topic,
          numPartitions: o.partitions,
          replicationFactor: 1,
          configEntries:
            topic === topics.manifests
              ? [{ name: 'cleanup.policy', value: 'compact' }]
              : topic === topics.input || topic === topics.dlq
                ? big
                : [],
        })),
      ),
    });

    producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();

    // The independent reader: manifests and dead letters of every series, read_committed, one group.
    reader = kafka.consumer({ groupId: `load-${runId}-reader`, readUncommitted: false, maxWaitTimeInMs: 250 });
    let readerJoined = false;
    reader.on(reader.events.GROUP_JOIN, () => (readerJoined = true));
    await reader.connect();
    await reader.subscribe({
      topics: series.flatMap((s) => [s.topics.manifests, s.topics.dlq]),
      fromBeginning: true,
    });
    await reader.run({
      eachMessage: async ({ topic, message }) => {
        const at = now();
        if (topic.endsWith('.dlq')) {
          deadLetters.push(`${topic}: ${message.key?.toString('utf8')}`);
          return;
        }
        if (message.value === null) return;
        const m = manifestCodec.decodeSingleObject(message.value);
        const d = docs.get(m.doc_id);
        if (d === undefined || d.version !== m.doc_version || m.deleted) {
          unexpected++;
          return;
        }
        if (d.answeredAt !== undefined) {
          duplicates++;
          return;
        }
        d.answeredAt = at;
        d.chunks = m.chunk_count;
        if (d.step !== undefined) {
          d.step.answered++;
          d.step.answeredBytes += d.bytes;
        }
      },
    });
    await waitFor('the reader to join its group', () => readerJoined, 60_000);
    log(`broker ${broker.brokers}, reader joined; ${series.length} series`);

    let inflightBytes = 0;
    let sendError;
    const pending = new Set();
    /** Hands documents to the producer without waiting (open loop), stamped with the send time. */
    const send = (topic, batch) => {
      const at = now();
      for (const d of batch) {
        d.producedAt = at;
        docs.set(d.id, d);
        inflightBytes += d.value.length;
      }
      const p = producer
        .send({
          topic,
          acks: -1,
          messages: batch.map((d) => ({
            key: d.id,
            value: d.value,
            partition: d.partition,
            timestamp: String(at),
            headers: { 'x-load-produced-ms': String(at) },
          })),
        })
        .catch((e) => (sendError ??= e))
        .finally(() => {
          for (const d of batch) {
            inflightBytes -= d.value.length;
            d.value = undefined; // let the text go
          }
          pending.delete(p);
        });
      pending.add(p);
    };
    let docCounter = 0;
    const makeDoc = (prefix, bytes, step, partition) => {
      const i = docCounter++;
      const id = `${prefix}-${i}`;
      const text = cutText(ring, (i * 7919 * 131) % ring.length, bytes);
      const value = Buffer.from(JSON.stringify({ doc_id: id, version: `v${i}`, text, content_type: 'text/plain' }));
      return { id, version: `v${i}`, bytes: Buffer.byteLength(text), value, step, partition };
    };

    /** One step: produce at `rate` for `stepMs`, then wait for every answer (bounded), sampling. */
    async function runStep({ s, si, k, rate, stepMs, workers }) {
      const step = { answered: 0, answeredBytes: 0, docs: [] };
      const prefix = `d-${si}-${k}`;
      const total = Math.ceil((rate * stepMs) / 1000 - 1e-9);
      const samples = [];
      const rssPeak = new Map();
      const cpuStart = new Map(workers.map((w) => [w.proc.pid, procStatus(w.proc.pid)?.cpuTicks ?? 0]));
      const brokerCpuStart = broker.pid === undefined ? undefined : procStatus(broker.pid)?.cpuTicks;
      const selfCpuStart = process.cpuUsage();
      const machineStart = machineBusyTicks();
      const start = now();
      const sample = () => {
        samples.push({ atMs: now() - start, docs: step.docs.length - step.answered });
        for (const w of workers) {
          const st = procStatus(w.proc.pid);
          if (st !== undefined) rssPeak.set(w.proc.pid, Math.max(rssPeak.get(w.proc.pid) ?? 0, st.rssBytes));
        }
      };
      const sampler = setInterval(sample, SAMPLE_INTERVAL_MS);
      let behind = 0;
      try {
        while (now() - start < stepMs && step.docs.length < total && errors.length === 0) {
          const due = Math.min(total, Math.floor(((now() - start) / 1000) * rate) + 1);
          if (due > step.docs.length) {
            if (inflightBytes > MAX_INFLIGHT_BYTES) behind++;
            else {
              const batch = [];
              while (step.docs.length + batch.length < due) batch.push(makeDoc(prefix, s.size, step));
              step.docs.push(...batch);
              send(s.topics.input, batch);
            }
          }
          if (sendError !== undefined) throw sendError;
          await sleep(TICK_MS);
        }
        const producedMs = Math.max(now() - start, stepMs);
        const sendsDone = Promise.all([...pending]);
        const backlogEnd = step.docs.length - step.answered;
        const answeredInWindow = step.answered;
        const drainUntil = now() + o.drainSeconds * 1000;
        while (step.answered < step.docs.length && now() < drainUntil && errors.length === 0) await sleep(50);
        await sendsDone;
        if (sendError !== undefined) throw sendError;
        sample();
        const end = now();
        const answered = step.docs.filter((d) => d.answeredAt !== undefined);
        const latencies = answered.map((d) => d.answeredAt - d.producedAt);
        const outTimes = answered.map((d) => d.answeredAt).sort((a, b) => a - b);
        const outSpan = outTimes.length >= 2 ? (outTimes[outTimes.length - 1] - outTimes[0]) / 1000 : NaN;
        const outRate = (answered.length - 1) / outSpan;
        const meanBytes = mean(step.docs.map((d) => d.bytes));
        const judged = judgeStep({
          rate,
          stepMs,
          sent: step.docs.length,
          sentRate: step.docs.length / (producedMs / 1000),
          outRate,
          latenciesMs: latencies,
          backlog: samples.filter((x) => x.atMs < stepMs),
          lost: step.docs.length - answered.length,
        });
        const secs = (end - start) / 1000;
        const cpu = (ticks) => (100 * ticks) / CLOCK_TICKS_PER_SECOND / secs;
        const workerTicks = workers.reduce(
          (n, w) => n + (procStatus(w.proc.pid)?.cpuTicks ?? 0) - (cpuStart.get(w.proc.pid) ?? 0),
          0,
        );
        const brokerCpuEnd = broker.pid === undefined ? undefined : procStatus(broker.pid)?.cpuTicks;
        const self = process.cpuUsage(selfCpuStart);
        const selfTicks = ((self.user + self.system) / 1e6) * CLOCK_TICKS_PER_SECOND;
        const brokerTicks =
          brokerCpuStart !== undefined && brokerCpuEnd !== undefined ? brokerCpuEnd - brokerCpuStart : 0;
        const otherTicks = machineBusyTicks() - machineStart - workerTicks - brokerTicks - selfTicks;
        return {
          rate,
          seconds: stepMs / 1000,
          sent: step.docs.length,
          sentRate: step.docs.length / (producedMs / 1000),
          behindTicks: behind,
          answeredInWindow,
          outRate,
          outMBps: (outRate * meanBytes) / 1e6,
          inMBps: ((step.docs.length / (producedMs / 1000)) * meanBytes) / 1e6,
          p50: percentile(latencies, 50),
          p95: percentile(latencies, 95),
          p99: percentile(latencies, 99),
          maxLatency: Math.max(...latencies),
          backlogEnd,
          maxBacklog: Math.max(backlogEnd, ...samples.map((x) => x.docs)),
          rssPeak: Math.max(...rssPeak.values()),
          workerCpu: cpu(workerTicks),
          brokerCpu:
            brokerCpuStart !== undefined && brokerCpuEnd !== undefined ? cpu(brokerCpuEnd - brokerCpuStart) : NaN,
          selfCpu: cpu(selfTicks),
          otherCpu: Math.max(0, cpu(otherTicks)),
          lost: step.docs.length - answered.length,
          chunksPerDoc: mean(answered.map((d) => d.chunks)),
          ...judged,
        };
      } finally {
        clearInterval(sampler);
      }
    }

    for (let si = 0; si < series.length; si++) {
      const s = series[si];
      const label = `${formatSize(s.size)} documents, ${s.workers} worker${s.workers > 1 ? 's' : ''}`;
      const seriesDeadline = now() + (deadline - now()) / (series.length - si);
      const res = {
        ...s,
        label,
        rows: [],
        note: '',
        sustained: undefined,
        failed: undefined,
        rssAfterWarmUp: NaN,
        loadAverage: loadAverage(),
      };
      results.push(res);
      if (now() > deadline - 20_000) {
        res.note = 'skipped: LOAD_MAX_SECONDS used up';
        log(`${label}: ${res.note}`);
        continue;
      }
      const workers = Array.from({ length: s.workers }, () => startWorker(o, broker.brokers, s.topics));
      liveWorkers = workers;
      for (const w of workers)
        void w.exited.then((code) => {
          if (!w.expectedExit) errors.push(`${label}: a worker exited (${code}): ${w.logs.slice(-10).join(' | ')}`);
        });
      try {
        const groupReady = async () => {
          const { groups } = await admin.describeGroups([s.topics.group]);
          const g = groups[0];
          return g !== undefined && g.state === 'Stable' && g.members.length === s.workers;
        };
        await until(`${s.workers} worker(s) in a stable group`, groupReady, 120_000, 250);
        // Warm-up: one document per partition (first transactions, JIT), untimed.
        const warm = Array.from({ length: o.partitions }, (_, p) =>
          makeDoc(`warm-${si}`, Math.min(s.size, 100_000), undefined, p),
        );
        send(s.topics.input, warm);
        await until('the warm-up documents', () => warm.every((d) => d.answeredAt !== undefined), 180_000);
        const rssAfterWarmUp = workers.map((w) => procStatus(w.proc.pid)?.rssBytes ?? NaN);
        res.rssAfterWarmUp = Math.max(...rssAfterWarmUp);
        log(`${label}: ready, RSS after warm-up ${rssAfterWarmUp.map((b) => fmt(b / 2 ** 20)).join(', ')} MiB`);

        let rate = o.startRate ?? defaultStartRate(s.size);
        const minRate = rate / 8;
        for (let k = 0; k < o.maxSteps && rate !== undefined; k++) {
          const stepMs = Math.max(o.stepSeconds, o.minStepDocs / rate) * 1000;
          if (now() + stepMs + 5_000 > seriesDeadline) {
            res.note = `stopped before ${fmtRate(rate)} docs/s: time budget (LOAD_MAX_SECONDS)`;
            break;
          }
          const row = await runStep({ s, si, k, rate, stepMs, workers });
          res.rows.push(row);
          log(
            `${label}: ${fmtRate(rate)} docs/s -> ${row.verdict} (p50 ${fmt(row.p50)} ms, backlog end ${row.backlogEnd})`,
          );
          if (row.lost > 0) {
            errors.push(`${label}: ${row.lost} document(s) of the ${fmtRate(rate)} docs/s step never answered`);
            break;
          }
          if (errors.length > 0) break;
          if (row.verdict === 'ok' && (res.sustained === undefined || rate > res.sustained.rate)) res.sustained = row;
          if (row.verdict === 'lag grows' && (res.failed === undefined || rate < res.failed.rate)) res.failed = row;
          if (row.verdict === 'producer behind') res.note = 'stopped: the load generator could not send faster';
          rate = nextRate({
            verdict: row.verdict,
            sustainedRate: res.sustained?.rate,
            failedRate: res.failed?.rate,
            minRate,
          });
          if (res.rows.length === o.maxSteps && rate !== undefined) res.note = 'stopped: LOAD_MAX_STEPS';
        }
      } catch (e) {
        errors.push(`${label}: ${e instanceof Error ? e.message : String(e)}`);
      } finally {
        res.loadAverage += ` → ${loadAverage()}`;
        for (const w of workers) await stopWorker(w);
        liveWorkers = [];
      }
      printSeries(res, o);
    }
  } catch (e) {
    errors.push(e instanceof Error ? (e.stack ?? e.message) : String(e));
  } finally {
    await cleanup();
  }

  if (duplicates > 0) errors.push(`${duplicates} manifest(s) seen twice (exactly-once)`);
  if (unexpected > 0) errors.push(`${unexpected} manifest(s) for no produced document`);
  if (deadLetters.length > 0)
    errors.push(`${deadLetters.length} dead letter(s): ${deadLetters.slice(0, 5).join(', ')}`);
  printSummary(results, o, (now() - t0) / 1000);
  if (errors.length > 0) {
    process.stdout.write(`\nERRORS:\n${errors.map((e) => `- ${e}`).join('\n')}\n`);
    process.exitCode = 1;
  }
}

function printSeries(res, o) {
  const header = [
    'offered docs/s',
    'sent docs/s',
    'docs',
    'out docs/s',
    'out MB/s',
    'p50 ms',
    'p95 ms',
    'p99 ms',
    'p50 1st→last third ms',
    'backlog end (max)',
    'worker RSS peak MiB',
    'CPU % workers / broker / load / others',
    'verdict',
  ];
  const rows = res.rows.map((r) => [
    fmtRate(r.rate),
    fmtRate(r.sentRate),
    String(r.sent),
    fmtRate(r.outRate),
    fmt(r.outMBps, 2),
    fmt(r.p50),
    fmt(r.p95),
    fmt(r.p99),
    `${fmt(r.firstThirdMs)} → ${fmt(r.lastThirdMs)}`,
    `${r.backlogEnd} (${r.maxBacklog})`,
    fmt(r.rssPeak / 2 ** 20),
    `${fmt(r.workerCpu)} / ${fmt(r.brokerCpu)} / ${fmt(r.selfCpu)} / ${fmt(r.otherCpu)}`,
    r.verdict +
      (r.verdict === 'lag grows'
        ? ` (${[r.latencyRising && 'latency', r.outputBehind && 'output', r.backlogGrowing && 'backlog'].filter(Boolean).join(', ')})`
        : ''),
  ]);
  const chunks = res.rows.find((r) => Number.isFinite(r.chunksPerDoc))?.chunksPerDoc;
  process.stdout.write(
    `\n### ${res.label}\n\n` +
      `${o.partitions} partitions, exactly-once, max ${o.maxTokens} tokens, ~${fmt(chunks, 1)} chunks per document; ` +
      `worker RSS after warm-up ${fmt(res.rssAfterWarmUp / 2 ** 20)} MiB; machine load average ${res.loadAverage}` +
      `${res.note ? `; ${res.note}` : ''}\n\n` +
      `${table(header, rows)}\n`,
  );
}

function printSummary(results, o, seconds) {
  const rows = results.map((r) => {
    const s = r.sustained;
    const f = r.failed;
    return [
      formatSize(r.size),
      String(r.workers),
      s ? fmtRate(s.sentRate) : '-',
      s ? fmt(s.inMBps, 2) : '-',
      s ? `${fmt(s.p50)} / ${fmt(s.p95)} / ${fmt(s.p99)}` : '-',
      f ? `${fmtRate(f.rate)} (out ${fmtRate(f.outRate)} docs/s, ${fmt(f.outMBps, 2)} MB/s)` : '-',
      fmt(Math.max(0, ...r.rows.map((x) => x.rssPeak)) / 2 ** 20),
      r.note || (s === undefined ? 'no step kept up' : ''),
    ];
  });
  process.stdout.write(
    `\n### Summary (max sustained rate)\n\n` +
      `${table(
        [
          'size',
          'workers',
          'max sustained docs/s',
          'MB/s',
          'p50 / p95 / p99 ms there',
          'first rate where lag grows',
          'worker RSS peak MiB',
          'note',
        ],
        rows,
      )}\n\n` +
      `${Math.round(seconds)} s in total; step ${o.stepSeconds} s (at least ${o.minStepDocs} documents), ` +
      `worker threads ${o.workerThreads ?? 'default'}\n`,
  );
}

// Run when executed, not when imported (the pure helpers above can be imported on their own).
if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
