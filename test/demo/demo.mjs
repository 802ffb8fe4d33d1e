// The whole pipeline on a real broker, step by step: ingest → worker → indexer → search, then an edit
// that shrinks a document and a deletion, published by `chunkline ingest --watch`, and the index
// converging. Run: npm run demo (builds first).
//
// Uses KAFKA_BROKERS when set, otherwise starts the local broker (test/kafka/kafka.sh) on DEMO_KAFKA_PORT
// (default 39092, controller on the next port) and stops it at the end. Fails after DEMO_TIMEOUT_S
// (default 300) seconds. Works in a temp folder holding a copy of test/fixtures/corpus.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { IndexStore } from '@chunkline/indexer';
import { startKafka, topicNames, workerTopicEnv } from '../support/shared.mjs';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const CLI = path.join(ROOT, 'services', 'cli', 'dist', 'main.js');
const WORKER = path.join(ROOT, 'services', 'chunker', 'dist', 'main.js');
const INDEXER = path.join(ROOT, 'services', 'indexer', 'dist', 'main.js');
const TIMEOUT_S = Number(process.env.DEMO_TIMEOUT_S ?? 300);
const deadline = Date.now() + TIMEOUT_S * 1000;

let stepNo = 0;
const t0 = Date.now();
function step(title) {
  stepNo += 1;
  console.log(`\n[${((Date.now() - t0) / 1000).toFixed(1)} s] ${stepNo}. ${title}`);
}
const say = (line) => console.log(`   ${line}`);

/** Polls `check` until it returns a truthy value; fails past the demo's deadline or `maxWaitMs`. */
async function waitFor(what, check, maxWaitMs = 120_000) {
  const until = Math.min(deadline, Date.now() + maxWaitMs);
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A child process whose output is kept (and shown if the demo fails). */
function start(name, args, { env = {}, cwd = ROOT } = {}) {
  const proc = spawn(process.execPath, args, { cwd, env: { PATH: process.env.PATH ?? '', ...env } });
  const lines = [];
  let buf = '';
  const onData = (d) => {
    buf += d.toString('utf8');
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      lines.push(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
  };
  proc.stdout.on('data', onData);
  proc.stderr.on('data', onData);
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve(code ?? signal)));
  return { name, proc, lines, exited };
}

/** SIGTERM, then wait (SIGKILL after 30 s). Returns the exit code. */
async function stop(p) {
  if (p.proc.exitCode !== null || p.proc.signalCode !== null) return p.exited;
  p.proc.kill('SIGTERM');
  const timer = setTimeout(() => p.proc.kill('SIGKILL'), 30_000);
  try {
    return await p.exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Runs the CLI to completion; returns its exit code and output. */
async function cli(args, cwd) {
  const p = start('chunkline', [CLI, ...args], { cwd, env: { KAFKA_BROKERS: brokers } });
  const code = await p.exited;
  return { code, out: p.lines };
}

/** The port a JSON log line announces (`"httpPort": n`). */
async function portFrom(p) {
  return waitFor(`${p.name} to start`, () => {
    if (p.proc.exitCode !== null) throw new Error(`${p.name} exited ${p.proc.exitCode}:\n${p.lines.join('\n')}`);
    for (const l of p.lines) {
      try {
        const j = JSON.parse(l);
        if (typeof j.httpPort === 'number') return j.httpPort;
      } catch {
        // not JSON
      }
    }
    return undefined;
  });
}

async function getJson(url) {
  try {
    const res = await fetch(url);
    return { status: res.status, body: await res.json() };
  } catch {
    return { status: 0, body: null };
  }
}

function filesUnder(dir) {
  const out = [];
  const walk = (d) => {
    for (const f of readdirSync(d).sort()) {
      if (f.startsWith('.')) continue;
      const p = path.join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(p);
    }
  };
  walk(dir);
  return out;
}

let brokers = '';
/** The broker (startKafka): stopped in cleanup when started here. */
let broker = null;
const running = [];
let work = null;

async function main() {
  step('Kafka broker');
  broker = startKafka(process.env.DEMO_KAFKA_PORT ?? '39092');
  brokers = broker.brokers;
  if (broker.started) {
    say(`started the local broker (test/kafka/kafka.sh) on ${brokers}`);
  } else {
    say(`using KAFKA_BROKERS=${brokers}`);
  }

  step('Topics');
  const id = `demo-${randomBytes(3).toString('hex')}`;
  const topics = topicNames(id);
  const kafka = new Kafka({ clientId: 'chunkline-demo', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: Object.values(topics).map((topic) => ({
      topic,
      numPartitions: 3,
      replicationFactor: 1,
      configEntries: topic === topics.manifests ? [{ name: 'cleanup.policy', value: 'compact' }] : [],
    })),
  });
  await admin.disconnect();
  say(Object.values(topics).join(', ') + ' (3 partitions; the manifest topic compacted)');

  work = mkdtempSync(path.join(os.tmpdir(), 'chunkline-demo-'));
  cpSync(path.join(ROOT, 'test', 'fixtures', 'corpus'), path.join(work, 'corpus'), { recursive: true });
  const files = filesUnder(path.join(work, 'corpus'));
  const db = path.join(work, 'index.db');
  const state = path.join(work, 'ingest-state.json');

  step('Worker and indexer');
  const worker = start('worker', [WORKER], {
    env: {
      KAFKA_BROKERS: brokers,
      ...workerTopicEnv(topics),
      CHUNKLINE_LOG_LEVEL: 'warn',
    },
  });
  running.push(worker);
  const indexer = start('indexer', [INDEXER], {
    env: {
      KAFKA_BROKERS: brokers,
      CHUNKLINE_INDEXER_GROUP_ID: `${id}-indexer`,
      CHUNKLINE_CHUNK_TOPIC: topics.chunks,
      CHUNKLINE_MANIFEST_TOPIC: topics.manifests,
      CHUNKLINE_INDEX_DB: db,
      CHUNKLINE_INDEXER_HTTP_PORT: '0',
      CHUNKLINE_HTTP_HOST: '127.0.0.1',
    },
  });
  running.push(indexer);
  // No need to wait for the worker: what ingest publishes waits in the topic until it joins.
  const indexerPort = await portFrom(indexer);
  await waitFor(
    'the indexer to join its group',
    async () => (await getJson(`http://127.0.0.1:${indexerPort}/readyz`)).status === 200,
  );
  say(`chunkline-worker (pid ${worker.proc.pid}) and chunkline-indexer (pid ${indexer.proc.pid}, index ${db})`);
  const stats = async () => (await getJson(`http://127.0.0.1:${indexerPort}/stats`)).body?.index ?? null;

  step(`Ingest ${files.length} files of the sample corpus`);
  say(`$ chunkline ingest corpus --topic ${topics.input} --state ingest-state.json   (in ${work})`);
  const first = await cli(['ingest', 'corpus', '--topic', topics.input, '--state', state, '--quiet'], work);
  for (const l of first.out) say(l);
  if (first.code !== 0) throw new Error(`ingest exited ${first.code}`);

  step('Wait until the index holds every document');
  const t1 = Date.now();
  const full = await waitFor(
    'every document in the index',
    async () => {
      const s = await stats();
      return s && s.documents === files.length && s.incompleteDocuments === 0 ? s : undefined;
    },
    180_000,
  );
  say(`${full.documents} documents, ${full.chunks} chunks searchable after ${((Date.now() - t1) / 1000).toFixed(1)} s`);

  step('Search');
  say('$ chunkline search "warranty of merchantability" --k 3');
  const search = await cli(['search', 'warranty of merchantability', '--db', db, '--k', '3'], work);
  for (const l of search.out.slice(0, 12)) say(l.length > 150 ? `${l.slice(0, 150)}…` : l);

  step('Edit one file (shrink it) and delete another, with `chunkline ingest --watch` running');
  const watch = start(
    'ingest --watch',
    [CLI, 'ingest', 'corpus', '--topic', topics.input, '--state', state, '--watch', '--quiet'],
    { cwd: work, env: { KAFKA_BROKERS: brokers } },
  );
  running.push(watch);
  await waitFor('the watcher to start', () => watch.lines.some((l) => l.includes('watching')));
  const rel = (f) => path.relative(work, f).split(path.sep).join('/');
  const edited = files.reduce((a, b) => (statSync(b).size > statSync(a).size ? b : a));
  const deleted = files.find((f) => f !== edited && f.endsWith('.md')) ?? files[0];
  const store = () => IndexStore.open(db, { readonly: true });
  const before = (() => {
    const s = store();
    try {
      return { edited: s.document(rel(edited)), deleted: s.document(rel(deleted)), stats: s.stats() };
    } finally {
      s.close();
    }
  })();
  const text = readFileSync(edited, 'utf8');
  const cut = text.indexOf('\n', Math.floor(text.length / 5));
  const shrunk = text.slice(0, cut < 0 ? Math.floor(text.length / 5) : cut + 1);
  writeFileSync(edited, shrunk);
  unlinkSync(deleted);
  const changedAt = Date.now();
  const newVersion = `sha256:${createHash('sha256').update(Buffer.from(shrunk, 'utf8')).digest('hex')}`;
  say(
    `edited  ${rel(edited)}: ${text.length} → ${shrunk.length} characters (${before.edited.chunkIds.length} chunks before)`,
  );
  say(`deleted ${rel(deleted)} (${before.deleted.chunkIds.length} chunks before)`);

  step('Watch the index converge');
  const after = await waitFor(
    'the edit and the deletion to reach the index',
    () => {
      const s = store();
      try {
        const e = s.document(rel(edited));
        const d = s.document(rel(deleted));
        const st = s.stats();
        if (e?.docVersion !== newVersion || e.visibleChunks !== e.chunkIds.length || !d?.deleted) return undefined;
        if (st.incompleteDocuments !== 0) return undefined;
        const visible = new Set(s.visibleChunks().map((c) => c.chunkId));
        return { edited: e, deleted: d, stats: st, visible };
      } finally {
        s.close();
      }
    },
    120_000,
  );
  const latencyS = (Date.now() - changedAt) / 1000;
  const oldGone = before.edited.chunkIds
    .filter((c) => !after.edited.chunkIds.includes(c))
    .every((c) => !after.visible.has(c));
  const deletedGone = before.deleted.chunkIds.every((c) => !after.visible.has(c));
  say(`converged ${latencyS.toFixed(1)} s after the change (watch polls every 1 s)`);
  say(
    `documents ${before.stats.documents} → ${after.stats.documents}, chunks ${before.stats.chunks} → ${after.stats.chunks}`,
  );
  say(
    `${rel(edited)}: ${before.edited.chunkIds.length} → ${after.edited.chunkIds.length} chunks; old chunks gone from the index: ${oldGone}`,
  );
  say(`${rel(deleted)}: deleted in the index: ${after.deleted.deleted}, its chunks gone: ${deletedGone}`);
  for (const l of watch.lines.filter((l) => !l.includes('watching'))) say(`ingest --watch: ${l}`);
  if (!oldGone || !deletedGone || after.stats.documents !== files.length - 1)
    throw new Error('the index did not converge');

  step('Search again: hits are checked against the files on disk');
  const again = await cli(['search', 'warranty of merchantability', '--db', db, '--k', '3'], work);
  for (const l of again.out.filter((l) => /^\d+\. /.test(l))) say(l);

  step('Stop everything (SIGTERM)');
  for (const p of [watch, indexer, worker]) say(`${p.name}: exit ${await stop(p)}`);
  running.length = 0;
}

async function cleanup() {
  for (const p of running) await stop(p).catch(() => undefined);
  if (broker?.started) {
    broker.stop();
    say('stopped the local broker');
  }
  if (work !== null) rmSync(work, { recursive: true, force: true });
}

const timer = setTimeout(() => {
  console.error(`demo: over ${TIMEOUT_S} s, giving up`);
  for (const p of running) p.proc.kill('SIGKILL');
  process.exit(1);
}, TIMEOUT_S * 1000);

try {
  await main();
  await cleanup();
  console.log(`\ndemo finished in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  clearTimeout(timer);
} catch (err) {
  console.error(`\ndemo failed: ${err instanceof Error ? err.message : err}`);
  for (const p of running) console.error(`--- last output of ${p.name}:\n${p.lines.slice(-20).join('\n')}`);
  await cleanup().catch((e) => console.error(`cleanup failed: ${e}`));
  clearTimeout(timer);
  process.exitCode = 1;
}
