// Small helpers shared by the TypeScript test harness and the plain Node scripts (bench, demo,
// reliability), which cannot import TypeScript. Types: shared.d.mts.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const KAFKA_SH = path.join(ROOT, 'test', 'kafka', 'kafka.sh');

/** mulberry32: a small fixed-seed PRNG, so "random" test data is the same on every run and machine. */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The topic names of one test run with prefix `id`: input, chunks, manifests, dead letters, sections. */
export function topicNames(id) {
  return {
    input: `${id}.raw`,
    chunks: `${id}.chunks`,
    manifests: `${id}.manifests`,
    dlq: `${id}.dlq`,
    sections: `${id}.sections`,
  };
}

/**
 * The worker variables that point a chunkline-worker at `topics` (from {@link topicNames}), in a
 * consumer group of its own, with its HTTP server on a free port of 127.0.0.1.
 */
export function workerTopicEnv(topics) {
  return {
    CHUNKLINE_GROUP_ID: `${topics.input}-workers`,
    CHUNKLINE_INPUT_TOPIC: topics.input,
    CHUNKLINE_CHUNK_TOPIC: topics.chunks,
    CHUNKLINE_MANIFEST_TOPIC: topics.manifests,
    CHUNKLINE_DLQ_TOPIC: topics.dlq,
    CHUNKLINE_SECTION_TOPIC: topics.sections,
    CHUNKLINE_HTTP_PORT: '0',
    CHUNKLINE_HTTP_HOST: '127.0.0.1',
  };
}

/**
 * The broker of a script: `KAFKA_BROKERS` when it is set, else the local broker of test/kafka/kafka.sh
 * started on 127.0.0.1:`port` (its controller on `port` + 1), whose output goes to stderr.
 * `stop()` stops only a broker started here, once; `pid` is its process id when known.
 */
export function startKafka(port) {
  if (process.env.KAFKA_BROKERS) {
    return { brokers: process.env.KAFKA_BROKERS, started: false, pid: undefined, stop: () => undefined };
  }
  const env = { ...process.env, KAFKA_PORT: String(port), KAFKA_CONTROLLER_PORT: String(Number(port) + 1) };
  execFileSync('bash', [KAFKA_SH, 'start'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const pidFile = path.join(ROOT, '.cache', 'kafka', `kafka-${port}.pid`);
  const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : undefined;
  let stopped = false;
  return {
    brokers: `127.0.0.1:${port}`,
    started: true,
    pid,
    stop: () => {
      if (stopped) return;
      stopped = true;
      execFileSync('bash', [KAFKA_SH, 'stop'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    },
  };
}
