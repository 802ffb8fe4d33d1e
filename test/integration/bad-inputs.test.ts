/**
 * The bad-input matrix (test/reliability/bad-inputs.ts) against the real worker: each bad record is
 * followed by a good one on a single-partition topic. For every row: the expected outcome (its chunks
 * and manifest, or one dead letter with the expected `chunkline.error.class`, original key, value and
 * headers byte for byte), the good record after it processed, the worker alive, and the consumer lag
 * in /metrics back to 0. Prints the table (class | outcome | reason | ok).
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createChunker, type ChunkRecord, type DocumentManifest, type Tokenizer } from '@chunkline/chunking';
import { loadTokenizer } from '@chunkline/tokenizers';
import {
  createTopics,
  decodeChunk,
  decodeManifest,
  jsonDoc,
  kafka,
  readUntil,
  startWorker,
  waitFor,
  type Consumed,
  type RawMessage,
  type Topics,
  type WorkerProcess,
} from './harness.js';
import { badInputCases, ODD_HEADERS, PHASE_ENV, type BadInputCase, type Phase } from '../reliability/bad-inputs.js';

const running: WorkerProcess[] = [];
let bert: Tokenizer;

beforeAll(async () => {
  bert = await loadTokenizer('bert-base-uncased');
});

afterEach(async () => {
  for (const w of running.splice(0)) {
    w.proc.kill('SIGKILL');
    await w.exited;
  }
});

interface Row {
  name: string;
  outcome: string;
  reason: string;
  ok: boolean;
  problem?: string;
}

function lagValues(metrics: string): number[] {
  return [...metrics.matchAll(/^chunkline_consumer_lag\{[^}]*\} (\S+)$/gm)].map((m) => Number(m[1]));
}

async function runPhase(phase: Phase, cases: BadInputCase[], topics: Topics): Promise<Row[]> {
  const messages: RawMessage[] = [];
  cases.forEach((c, i) => {
    messages.push({ key: c.key, value: c.value, headers: { ...ODD_HEADERS, 'x-case': String(i) } });
    messages.push(jsonDoc(`good-${phase}-${i}`, `Good document ${i} after "${c.name}".`));
  });
  // One send per record: a batch of two 1 MB records would be over the broker's message.max.bytes.
  const producer = kafka().producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (const m of messages) await producer.send({ topic: topics.input, acks: -1, messages: [m] });
  } finally {
    await producer.disconnect();
  }
  const t0 = Date.now();
  const w = startWorker(topics, PHASE_ENV[phase]);
  running.push(w);
  await w.ready();
  const goodIds = cases.map((_, i) => `good-${phase}-${i}`);
  const manifestIds = new Set([
    ...goodIds,
    ...cases.flatMap((c) => (c.expected.kind === 'dead-letter' ? [] : [c.expected.docId])),
  ]);
  const dlqCount = cases.filter((c) => c.expected.kind === 'dead-letter').length;
  const records = await readUntil(
    [topics.chunks, topics.manifests, topics.dlq],
    (rs) => {
      const dlq = rs.filter((r) => r.topic === topics.dlq).length;
      const seen = new Map(rs.filter((r) => r.topic === topics.manifests).map((r) => [r.key, r]));
      if (dlq < dlqCount || ![...manifestIds].every((id) => seen.has(id))) return false;
      // The chunk topic is fetched on its own: wait until every manifest's chunks have arrived too.
      const chunkCount = new Map<string | null, number>();
      for (const r of rs) if (r.topic === topics.chunks) chunkCount.set(r.key, (chunkCount.get(r.key) ?? 0) + 1);
      return [...seen].every(([key, r]) => decodeManifest(r).chunk_count === (chunkCount.get(key) ?? 0));
    },
    { maxWaitMs: 180_000 },
  ).catch((err: Error) => {
    throw new Error(`phase ${phase}: ${err.message}\nworker log:\n${w.logs.slice(-15).join('\n').slice(0, 6000)}`);
  });
  const seconds = (Date.now() - t0) / 1000;
  // Within time: the 1 MB line with no whitespace (qwen3, ~1000 chunks) takes about 15 s on 2 cores.
  expect(seconds, `phase ${phase} took ${seconds} s`).toBeLessThan(150);
  // No stalled partition: the lag gauge comes back to 0 for the input partition.
  await waitFor('consumer lag 0 in /metrics', async () => {
    const lags = lagValues(await w.metrics());
    return lags.length > 0 && lags.every((l) => l === 0);
  });
  expect(w.proc.exitCode, 'the worker must not crash').toBeNull();
  expect(w.logs.filter((l) => l.includes('"level":60'))).toEqual([]);

  const chunks = new Map<string, ChunkRecord[]>();
  const manifests = new Map<string, DocumentManifest[]>();
  const dlq = new Map<string, Consumed>();
  for (const r of records) {
    if (r.topic === topics.chunks) {
      const ch = decodeChunk(r);
      chunks.set(ch.doc_id, [...(chunks.get(ch.doc_id) ?? []), ch]);
    } else if (r.topic === topics.manifests) {
      const m = decodeManifest(r);
      manifests.set(m.doc_id, [...(manifests.get(m.doc_id) ?? []), m]);
    } else {
      dlq.set(r.headers['chunkline.error.offset']?.toString() ?? '?', r);
    }
  }
  expect(dlq.size, 'dead letters').toBe(dlqCount);
  const chunker = createChunker(bert, { maxTokens: 128, reservedTokens: 2, overlapTokens: 0 });
  const rows: Row[] = [];
  cases.forEach((c, i) => {
    const problems: string[] = [];
    const offset = String(2 * i);
    const d = dlq.get(offset);
    let outcome: string;
    if (d !== undefined) {
      const cls = d.headers['chunkline.error.class']?.toString() ?? '?';
      outcome = `dead letter ${cls}`;
      if (c.expected.kind !== 'dead-letter') problems.push(`expected ${c.expected.kind}`);
      else if (cls !== c.expected.errorClass) problems.push(`expected class ${c.expected.errorClass}`);
      else if (
        c.expected.messageIncludes !== undefined &&
        !(d.headers['chunkline.error.message']?.toString() ?? '').includes(c.expected.messageIncludes)
      )
        problems.push(`message without "${c.expected.messageIncludes}"`);
      // (the reader decodes keys as UTF-8 text: compare in that form)
      const key = c.key === null ? null : Buffer.from(c.key).toString('utf8');
      if (d.key !== key) problems.push('key differs');
      const value = c.value === null ? null : Buffer.from(c.value);
      if ((d.value === null) !== (value === null) || (value !== null && !value.equals(d.value!)))
        problems.push('value not byte for byte');
      for (const [h, v] of Object.entries(ODD_HEADERS)) {
        const got = d.headers[h];
        if (got === undefined || !Buffer.from(got as Buffer).equals(v as Buffer)) problems.push(`header ${h} changed`);
      }
      for (const h of ['stage', 'message', 'topic', 'partition', 'offset'])
        if (d.headers[`chunkline.error.${h}`] === undefined) problems.push(`no chunkline.error.${h}`);
    } else if (c.expected.kind === 'deleted') {
      const m = manifests.get(c.expected.docId) ?? [];
      outcome = m.length === 1 && m[0]!.deleted ? 'deleted manifest' : `manifests: ${m.length}`;
      if (outcome !== 'deleted manifest') problems.push('no deleted manifest');
    } else if (c.expected.kind === 'chunks') {
      const e = c.expected;
      const m = manifests.get(e.docId) ?? [];
      const cs = (chunks.get(e.docId) ?? []).sort((a, b) => a.chunk_index - b.chunk_index);
      outcome = `${cs.length} chunks + manifest`;
      if (m.length !== 1) problems.push(`${m.length} manifests`);
      else if (JSON.stringify(m[0]!.chunk_ids) !== JSON.stringify(cs.map((x) => x.chunk_id)))
        problems.push('manifest lists other chunk ids');
      if (cs.length < e.minChunks || (e.maxChunks !== undefined && cs.length > e.maxChunks))
        problems.push(`chunk count ${cs.length} outside [${e.minChunks}, ${e.maxChunks ?? '∞'}]`);
      const cps = Array.from(e.text);
      for (const ch of cs) {
        if (cps.slice(ch.char_start, ch.char_end).join('') !== ch.text) {
          problems.push(`chunk ${ch.chunk_index} is not the exact text`);
          break;
        }
      }
      if (phase === 'base') {
        const want = chunker.chunk({ docId: e.docId, text: e.text, contentType: e.contentType ?? 'text/plain' });
        if (JSON.stringify(want.chunks.map((x) => x.chunk_id)) !== JSON.stringify(cs.map((x) => x.chunk_id)))
          problems.push('differs from in-process chunking');
      }
    } else {
      outcome = 'nothing';
      problems.push('no dead letter');
    }
    // The good record right after it was processed.
    if ((manifests.get(`good-${phase}-${i}`) ?? []).length !== 1) problems.push('next good record not processed');
    rows.push({
      name: c.name,
      outcome,
      reason: c.reason,
      ok: problems.length === 0,
      ...(problems.length > 0 ? { problem: problems.join('; ') } : {}),
    });
  });
  process.stdout.write(`phase ${phase}: ${cases.length} cases in ${seconds.toFixed(1)} s\n`);
  return rows;
}

function printTable(rows: Row[]): void {
  const w = [
    Math.max(5, ...rows.map((r) => r.name.length)),
    Math.max(7, ...rows.map((r) => r.outcome.length)),
    Math.max(6, ...rows.map((r) => r.reason.length)),
  ];
  const line = (a: string, b: string, c: string, d: string): string =>
    `| ${a.padEnd(w[0]!)} | ${b.padEnd(w[1]!)} | ${c.padEnd(w[2]!)} | ${d} |`;
  const out = [line('class', 'outcome', 'reason', 'ok'), `|${w.map((n) => '-'.repeat(n + 2)).join('|')}|----|`];
  for (const r of rows) out.push(line(r.name, r.outcome, r.reason, r.ok ? 'ok' : `FAIL: ${r.problem}`));
  process.stdout.write(`${out.join('\n')}\n`);
}

describe('bad-input matrix', () => {
  it('every class ends as expected, with no crash and no stalled partition', async () => {
    const all = badInputCases();
    expect(all.length).toBeGreaterThanOrEqual(20);
    const phases: Phase[] = ['base', 'limits', 'bpe'];
    const topics: Topics[] = [];
    for (let i = 0; i < phases.length; i++) topics.push(await createTopics(1)); // one at a time
    const results = await Promise.all(
      phases.map((p, i) =>
        runPhase(
          p,
          all.filter((c) => c.phase === p),
          topics[i]!,
        ),
      ),
    );
    const rows = results.flat();
    printTable(rows);
    expect(rows.filter((r) => !r.ok)).toEqual([]);
  }, 300_000);
});
