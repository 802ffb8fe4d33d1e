/**
 * The soak run (issue 5): N input records (real text from test/fixtures/corpus plus edge cases, with
 * updates, tombstones and a few bad records) through two exactly-once workers in one group, while
 * workers are SIGKILLed and restarted at random moments and the broker is restarted once on its own
 * data (`kafka.sh restart`; SOAK_OUTAGE_MODE=freeze: SIGSTOP for SOAK_OUTAGE_SECONDS, then SIGCONT). Then an independent
 * read_committed consumer accounts for every input record: its chunks plus its manifest (chunk ids as
 * an in-process chunker gives them), a deleted manifest for a tombstone, or one dead letter.
 *
 * Runs inside vitest (it uses the integration harness): test/integration/soak.test.ts in CI, and
 * `npm run soak` with the knobs below for bigger runs.
 *   SOAK_DOCS (1000)  SOAK_KILLS (3)  SOAK_OUTAGE (1; 0 = none)  SOAK_OUTAGE_MODE (restart|freeze)
 *   SOAK_OUTAGE_SECONDS (10, freeze only)
 *   SOAK_MIN_BYTES (100)  SOAK_MAX_BYTES (200000)  SOAK_SEED (1)  SOAK_MAX_SECONDS (200)
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { createChunker, type Tokenizer } from '@chunkline/chunking';
import { loadTokenizer } from '@chunkline/tokenizers';
import {
  brokers,
  createTopics,
  decodeChunk,
  decodeManifest,
  kafka,
  ROOT,
  startWorker,
  unique,
  waitFor,
  type RawMessage,
  type WorkerProcess,
} from '../integration/harness.js';
import { prng } from './bad-inputs.js';

export interface SoakOptions {
  docs: number;
  kills: number;
  outage: boolean;
  /** `restart`: kafka.sh restart (SIGTERM, start again on the same data); `freeze`: SIGSTOP for outageSeconds. */
  outageMode: 'restart' | 'freeze';
  outageSeconds: number;
  /** Delivery of the workers. At-least-once may replay output; replays must be byte-identical. */
  delivery: 'exactly-once' | 'at-least-once';
  minBytes: number;
  maxBytes: number;
  seed: number;
  maxSeconds: number;
}

function outageModeOf(v: string | undefined): 'restart' | 'freeze' {
  if (v === undefined || v === '' || v === 'restart') return 'restart';
  if (v === 'freeze') return 'freeze';
  throw new Error(`SOAK_OUTAGE_MODE must be restart or freeze, got ${v}`);
}

function deliveryOf(v: string | undefined): 'exactly-once' | 'at-least-once' {
  if (v === undefined || v === '' || v === 'exactly-once') return 'exactly-once';
  if (v === 'at-least-once') return 'at-least-once';
  throw new Error(`SOAK_DELIVERY must be exactly-once or at-least-once, got ${v}`);
}

export function soakOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): SoakOptions {
  const n = (name: string, d: number): number => {
    const v = env[name];
    if (v === undefined || v === '') return d;
    const x = Number(v);
    if (!Number.isFinite(x) || x < 0) throw new Error(`${name} must be a number >= 0, got ${v}`);
    return x;
  };
  return {
    docs: n('SOAK_DOCS', 1000),
    kills: n('SOAK_KILLS', 3),
    outage: n('SOAK_OUTAGE', 1) !== 0,
    outageMode: outageModeOf(env.SOAK_OUTAGE_MODE),
    outageSeconds: n('SOAK_OUTAGE_SECONDS', 10),
    delivery: deliveryOf(env.SOAK_DELIVERY),
    minBytes: n('SOAK_MIN_BYTES', 100),
    maxBytes: n('SOAK_MAX_BYTES', 200_000),
    seed: n('SOAK_SEED', 1),
    maxSeconds: n('SOAK_MAX_SECONDS', 200),
  };
}

export interface SoakReport {
  records: number;
  docIds: number;
  updates: number;
  tombstones: number;
  bad: number;
  inputBytes: number;
  kills: number;
  outages: number;
  outageNote: string;
  lost: number;
  /** Output seen more than once. Exactly-once: must be 0. At-least-once: replays, allowed if identical. */
  duplicated: number;
  /** Replayed output whose bytes differ from the first copy (must be 0 in both modes). */
  replaysDiffering: number;
  delivery: 'exactly-once' | 'at-least-once';
  extra: number;
  disagreeing: number;
  chunks: number;
  seconds: number;
  problems: string[];
}

const LIMITS = { maxTokens: 128, reservedTokens: 2, overlapTokens: 0 };
const ENV = { CHUNKLINE_MAX_TOKENS: '128', CHUNKLINE_RECORDS_PER_TRANSACTION: '20', CHUNKLINE_LOG_LEVEL: 'warn' };

/** All corpus text, concatenated (code points), to cut documents of any size from. */
function corpusText(): string[] {
  const dir = path.join(ROOT, 'test', 'fixtures', 'corpus');
  const parts: string[] = [];
  const walk = (d: string): void => {
    for (const f of readdirSync(d).sort()) {
      if (f.startsWith('.') || f === 'LICENSES') continue;
      const p = path.join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else parts.push(readFileSync(p, 'utf8'));
    }
  };
  walk(dir);
  return Array.from(parts.join('\n\n'));
}

interface Planned {
  message: RawMessage;
  kind: 'doc' | 'tombstone' | 'bad';
  docId: string;
  version: string;
  text: string;
  contentType: string;
  soakId: string;
}

const EDGE_TEXTS = [
  '',
  ' \n\t ',
  'NUL\u0000inside\u0000text.',
  'e\u0301\u0301 combining, 👩‍👩‍👧‍👦 family, 🇫🇷 flag.',
  '# Title\n\n## Sub\n\n```js\nconst x = 1;\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n',
  'x'.repeat(3000),
];

function plan(o: SoakOptions): Planned[] {
  const rnd = prng(o.seed);
  const cps = corpusText();
  const out: Planned[] = [];
  const live: string[] = [];
  let nextDoc = 0;
  let version = 0;
  for (let i = 0; i < o.docs; i++) {
    const soakId = `s${i}`;
    const r = rnd();
    if (r < 0.02) {
      out.push({
        message: { key: `bad-${i}`, value: `{"doc_id": "bad-${i}", "text": `, headers: { 'x-soak-id': soakId } },
        kind: 'bad',
        docId: `bad-${i}`,
        version: '',
        text: '',
        contentType: '',
        soakId,
      });
      continue;
    }
    if (r < 0.07 && live.length > 0) {
      const docId = live.splice(Math.floor(rnd() * live.length), 1)[0]!;
      out.push({
        message: { key: docId, value: null, headers: { 'x-soak-id': soakId } },
        kind: 'tombstone',
        docId,
        version: '',
        text: '',
        contentType: '',
        soakId,
      });
      continue;
    }
    const update = r < 0.2 && live.length > 0;
    const docId = update ? live[Math.floor(rnd() * live.length)]! : `doc-${nextDoc++}`;
    if (!update) live.push(docId);
    let text: string;
    let contentType = 'text/plain';
    if (rnd() < 0.03) {
      text = EDGE_TEXTS[Math.floor(rnd() * EDGE_TEXTS.length)]!;
      if (text.startsWith('#')) contentType = 'text/markdown';
    } else {
      // Sizes log-uniform-ish, skewed small: most documents are small, a few near maxBytes.
      const u = rnd();
      const len = Math.round(o.minBytes * Math.pow(o.maxBytes / o.minBytes, u * u * u));
      const start = Math.floor(rnd() * cps.length);
      const parts: string[] = [];
      let have = 0;
      for (let at = start; have < len; at = (at + 1) % cps.length) {
        parts.push(cps[at]!);
        have += parts[parts.length - 1]!.length;
      }
      text = parts.join('');
      if (rnd() < 0.2) contentType = 'text/markdown';
    }
    const v = `v${version++}`;
    out.push({
      message: {
        key: docId,
        value: JSON.stringify({ doc_id: docId, version: v, text, content_type: contentType }),
        headers: { 'x-soak-id': soakId },
      },
      kind: 'doc',
      docId,
      version: v,
      text,
      contentType,
      soakId,
    });
  }
  return out;
}

/** The port of the local kafka.sh broker serving `brokers()`, if that is what runs it. */
function localBrokerPort(): string | undefined {
  const m = /^127\.0\.0\.1:(\d+)$/.exec(brokers());
  return m?.[1];
}

/** The pid of the local kafka.sh broker serving `brokers()`, if that is what runs it. */
function localBrokerPid(): number | undefined {
  const port = localBrokerPort();
  if (port === undefined) return undefined;
  const file = path.join(ROOT, '.cache', 'kafka', `kafka-${port}.pid`);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmd.includes('kafka.Kafka') ? pid : undefined;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const execFileAsync = promisify(execFile);

export async function runSoak(o: SoakOptions, log: (s: string) => void = () => undefined): Promise<SoakReport> {
  const t0 = Date.now();
  const planned = plan(o);
  const topics = await createTopics(4);
  // The input goes in waves: one now, one after each kill and after the outage, so every fault
  // hits a worker with work to do. Sends of at most ~900 KB (the broker's max.message.bytes).
  const producer = kafka().producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const waves = o.kills + (o.outage ? 1 : 0) + 1;
  let produced = 0;
  const produceWave = async (): Promise<void> => {
    const upTo = Math.min(planned.length, produced + Math.ceil(planned.length / waves));
    let part: RawMessage[] = [];
    let size = 0;
    for (const p of planned.slice(produced, upTo)) {
      const n = 100 + (p.message.value?.length ?? 0);
      if (part.length > 0 && size + n > 900_000) {
        await producer.send({ topic: topics.input, acks: -1, messages: part });
        part = [];
        size = 0;
      }
      part.push(p.message);
      size += n;
    }
    if (part.length > 0) await producer.send({ topic: topics.input, acks: -1, messages: part });
    produced = upTo;
  };
  await produceWave();
  const inputBytes = planned.reduce((n, p) => n + (p.message.value?.length ?? 0), 0);
  log(`soak: ${planned.length} records (${(inputBytes / 1e6).toFixed(1)} MB) in ${waves} waves`);

  const env = { ...ENV, CHUNKLINE_DELIVERY: o.delivery };
  const workers: WorkerProcess[] = [startWorker(topics, env), startWorker(topics, env)];
  const everyWorker: WorkerProcess[] = [...workers];
  const rnd = prng(o.seed + 1000);
  let kills = 0;
  let outages = 0;
  let outageNote = o.outage ? '' : 'disabled (SOAK_OUTAGE=0)';
  const brokerPid = o.outage ? localBrokerPid() : undefined;
  let frozen = false;
  if (o.outage && brokerPid === undefined) outageNote = 'skipped: the broker is not a local kafka.sh broker';

  const docKeys = new Set(planned.filter((p) => p.kind === 'doc').map((p) => `${p.docId}\0${p.version}`));
  const tombstonesByDoc = new Map<string, number>();
  for (const p of planned)
    if (p.kind === 'tombstone') tombstonesByDoc.set(p.docId, (tombstonesByDoc.get(p.docId) ?? 0) + 1);
  const badIds = new Set(planned.filter((p) => p.kind === 'bad').map((p) => p.soakId));

  // The independent read_committed reader, running all along.
  const chunkSeen = new Map<string, number>(); // chunk_id -> times
  // The bytes of the first copy of each output record (sha256 of key, value and headers), to tell a
  // byte-identical replay from one that differs.
  const firstCopy = new Map<string, string>();
  let replaysDiffering = 0;
  const sameAsFirst = (id: string, message: { key: Buffer | null; value: Buffer | null }): void => {
    const h = createHash('sha256')
      .update(message.key ?? Buffer.alloc(0))
      .update('\0')
      .update(message.value ?? Buffer.alloc(0))
      .digest('hex');
    const prev = firstCopy.get(id);
    if (prev === undefined) firstCopy.set(id, h);
    else if (prev !== h) replaysDiffering++;
  };
  const chunksByVersion = new Map<string, string[]>(); // doc\0version -> chunk ids in arrival order
  const manifests = new Map<string, string[][]>(); // doc\0version -> manifests' chunk id lists
  const deleted = new Map<string, number>();
  const dlq = new Map<string, number>();
  const reader = kafka().consumer({ groupId: unique('soak-reader'), readUncommitted: false });
  await reader.connect();
  await reader.subscribe({ topics: [topics.chunks, topics.manifests, topics.dlq], fromBeginning: true });
  await reader.run({
    eachMessage: async ({ topic, partition, message }) => {
      const r = {
        topic,
        partition,
        offset: message.offset,
        key: message.key?.toString('utf8') ?? null,
        value: message.value,
        headers: message.headers ?? {},
      };
      if (topic === topics.chunks) {
        const c = decodeChunk(r);
        const times = (chunkSeen.get(c.chunk_id) ?? 0) + 1;
        chunkSeen.set(c.chunk_id, times);
        sameAsFirst(`chunk\0${c.chunk_id}`, message);
        const k = `${c.doc_id}\0${c.doc_version}`;
        if (times === 1) chunksByVersion.set(k, [...(chunksByVersion.get(k) ?? []), c.chunk_id]);
      } else if (topic === topics.manifests) {
        const m = decodeManifest(r);
        sameAsFirst(`manifest\0${m.doc_id}\0${m.doc_version}\0${m.deleted}`, message);
        if (m.deleted) deleted.set(m.doc_id, (deleted.get(m.doc_id) ?? 0) + 1);
        else {
          const k = `${m.doc_id}\0${m.doc_version}`;
          manifests.set(k, [...(manifests.get(k) ?? []), m.chunk_ids]);
        }
      } else {
        const id = r.headers['x-soak-id']?.toString() ?? '?';
        sameAsFirst(`dlq\0${id}`, message);
        dlq.set(id, (dlq.get(id) ?? 0) + 1);
      }
    },
  });

  const complete = (): boolean =>
    [...docKeys].every((k) => {
      const m = manifests.get(k);
      return m !== undefined && (chunksByVersion.get(k)?.length ?? 0) >= m[0]!.length;
    }) &&
    [...tombstonesByDoc].every(([d, n]) => (deleted.get(d) ?? 0) >= n) &&
    [...badIds].every((id) => dlq.has(id));

  // Chaos: K kills at random moments (restarting the killed worker at once), one broker freeze.
  const chaos = (async () => {
    // Start the chaos once output flows (not on /readyz: a joining member waits for the other
    // member's batch in flight, which under load can take long).
    await waitFor('first output', () => manifests.size > 0 || deleted.size > 0 || dlq.size > 0, {
      maxWaitMs: 120_000,
    });
    const outageAfter = brokerPid === undefined ? -1 : Math.floor(rnd() * (o.kills + 1));
    for (let k = 0; k <= o.kills; k++) {
      if (k === outageAfter && brokerPid !== undefined) {
        await sleep(500 + rnd() * 2000);
        if (o.outageMode === 'restart') {
          log(`soak: restarting the broker (pid ${brokerPid}): kafka.sh restart, same data`);
          const started = Date.now();
          await execFileAsync('bash', [path.join(ROOT, 'test', 'kafka', 'kafka.sh'), 'restart'], {
            env: { ...process.env, KAFKA_PORT: localBrokerPort() },
          });
          const down = ((Date.now() - started) / 1000).toFixed(1);
          log(`soak: broker serving again after ${down} s`);
          outageNote = `kafka.sh restart of the broker (SIGTERM, started again on the same data; ${down} s)`;
        } else {
          process.kill(brokerPid, 'SIGSTOP');
          frozen = true;
          log(`soak: broker frozen (SIGSTOP pid ${brokerPid}) for ${o.outageSeconds} s`);
          await sleep(o.outageSeconds * 1000);
          process.kill(brokerPid, 'SIGCONT');
          frozen = false;
          outageNote = `SIGSTOP/SIGCONT of the broker JVM for ${o.outageSeconds} s`;
        }
        outages++;
        await produceWave();
      }
      if (k === o.kills) break;
      await sleep(1000 + rnd() * 4000);
      const i = Math.floor(rnd() * workers.length);
      const victim = workers[i]!;
      victim.proc.kill('SIGKILL');
      await victim.exited;
      kills++;
      log(`soak: SIGKILL worker ${i} (kill ${kills}) at ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      workers[i] = startWorker(topics, env);
      everyWorker.push(workers[i]!);
      await produceWave();
    }
  })();

  const problems: string[] = [];
  try {
    await chaos;
    while (produced < planned.length) await produceWave();
    await waitFor('every input record accounted for', complete, {
      maxWaitMs: Math.max(10_000, o.maxSeconds * 1000 - (Date.now() - t0)),
      intervalMs: 250,
    }).catch((e: Error) => problems.push(e.message));
    // Read on a little longer: a duplicate committed late would show up here.
    await sleep(2000);
  } finally {
    if (frozen && brokerPid !== undefined) process.kill(brokerPid, 'SIGCONT'); // never leave it frozen
    await producer.disconnect();
    await reader.disconnect();
    for (const w of everyWorker) {
      if (w.proc.exitCode === null && w.proc.signalCode === null) w.proc.kill('SIGKILL');
      await w.exited;
    }
  }

  // Expected output: the same records chunked in-process with the same configuration (after the
  // run, so it does not compete with the workers for the CPU).
  const tokenizer: Tokenizer = await loadTokenizer('bert-base-uncased');
  const chunker = createChunker(tokenizer, LIMITS);
  const expected = new Map<string, string[]>(); // `${doc_id}\0${version}` -> chunk ids
  for (const p of planned) {
    if (p.kind !== 'doc') continue;
    const r = chunker.chunk({ docId: p.docId, version: p.version, text: p.text, contentType: p.contentType });
    expected.set(
      `${p.docId}\0${p.version}`,
      r.chunks.map((c) => c.chunk_id),
    );
  }
  const seconds = Math.round((Date.now() - t0) / 100) / 10;

  // Accounting.
  let lost = 0;
  let duplicated = 0;
  let extra = 0;
  let disagreeing = 0;
  const note = (s: string): void => {
    if (problems.length < 30) problems.push(s);
  };
  for (const [k, ids] of expected) {
    const ms = manifests.get(k) ?? [];
    if (ms.length === 0) {
      lost++;
      note(`lost: ${k.replace('\0', '@')}`);
      continue;
    }
    if (ms.length > 1) {
      duplicated++;
      note(`manifest ${k.replace('\0', '@')} seen ${ms.length} times`);
    }
    const got = chunksByVersion.get(k) ?? [];
    if (
      JSON.stringify(ms[0]) !== JSON.stringify(ids) ||
      JSON.stringify([...got].sort()) !== JSON.stringify([...ids].sort())
    ) {
      disagreeing++;
      note(`manifest or chunks of ${k.replace('\0', '@')} differ from in-process chunking`);
    }
  }
  for (const k of manifests.keys()) {
    if (!expected.has(k)) {
      extra++;
      note(`extra manifest ${k.replace('\0', '@')}`);
    }
  }
  for (const k of chunksByVersion.keys()) {
    if (!expected.has(k)) {
      extra++;
      note(`extra chunks of ${k.replace('\0', '@')}`);
    }
  }
  for (const [id, n] of chunkSeen) {
    if (n > 1) {
      duplicated++;
      note(`chunk ${id} seen ${n} times`);
    }
  }
  for (const [d, n] of tombstonesByDoc) {
    const got = deleted.get(d) ?? 0;
    if (got < n) {
      lost += n - got;
      note(`tombstone of ${d}: ${got} of ${n} deleted manifests`);
    }
    if (got > n) {
      duplicated += got - n;
      note(`tombstone of ${d}: ${got} deleted manifests for ${n}`);
    }
  }
  for (const d of deleted.keys()) {
    if (!tombstonesByDoc.has(d)) {
      extra++;
      note(`deleted manifest for ${d}`);
    }
  }
  for (const id of badIds) {
    if (!dlq.has(id)) {
      lost++;
      note(`dead letter ${id} missing`);
    }
  }
  for (const [id, n] of dlq) {
    if (!badIds.has(id)) {
      extra++;
      note(`unexpected dead letter ${id}`);
    } else if (n > 1) {
      duplicated += n - 1;
      note(`dead letter ${id} seen ${n} times`);
    }
  }
  const docIds = new Set(planned.map((p) => p.docId)).size;
  const firstSeen = new Set<string>();
  let updates = 0;
  for (const p of planned) {
    if (p.kind !== 'doc') continue;
    if (firstSeen.has(p.docId)) updates++;
    firstSeen.add(p.docId);
  }
  return {
    records: planned.length,
    docIds,
    updates,
    tombstones: planned.filter((p) => p.kind === 'tombstone').length,
    bad: badIds.size,
    inputBytes,
    kills,
    outages,
    outageNote,
    lost,
    duplicated,
    replaysDiffering,
    delivery: o.delivery,
    extra,
    disagreeing,
    chunks: chunkSeen.size,
    seconds,
    problems,
  };
}

export function formatReport(r: SoakReport): string {
  return [
    `soak: records ${r.records} (${r.docIds} doc ids, ${r.updates} updates, ${r.tombstones} tombstones, ${r.bad} bad), ${(r.inputBytes / 1e6).toFixed(1)} MB`,
    `soak: kills ${r.kills} | outages ${r.outages} (${r.outageNote || 'none'}) | chunks ${r.chunks}`,
    `soak: ${r.delivery} | lost ${r.lost} | duplicated ${r.duplicated} (replays differing ${r.replaysDiffering}) | extra ${r.extra} | manifests disagreeing ${r.disagreeing} | seconds ${r.seconds}`,
    ...r.problems.map((p) => `soak:   ${p}`),
  ].join('\n');
}
