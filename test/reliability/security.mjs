#!/usr/bin/env node
/**
 * Security checks of the worker against a SASL_SSL broker (SCRAM-SHA-512 over TLS, certificates made
 * at test time) started by test/reliability/secure-kafka.sh:
 * 1. with the right password and the CA file, the worker chunks documents (read back over SASL_SSL);
 * 2. the password appears in no log line and not in /metrics;
 * 3. with a wrong password: one clear authentication error, /readyz never 200, no log flood, and
 *    (as the worker is built) exit 1 for the orchestrator to restart it with its own backoff.
 * Prints a table and exits non-zero on any failed check. Run: npm run reliability:security
 * Env: SECURE_KAFKA_PORT (19192).
 */
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const LAUNCHER = path.join(ROOT, 'test', 'reliability', 'secure-kafka.sh');
const WORKER = path.join(ROOT, 'services', 'chunker', 'dist', 'main.js');
const port = process.env.SECURE_KAFKA_PORT ?? '19192';
const env = { ...process.env, SECURE_KAFKA_PORT: port };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const out = execFileSync('bash', [LAUNCHER, 'start'], { env, encoding: 'utf8' });
const info = Object.fromEntries(
  out
    .trim()
    .split('\n')
    .map((l) => l.split('=')),
);
const password = readFileSync(info.PASSWORD_FILE, 'utf8');
const ca = readFileSync(info.CA, 'utf8');
const rows = [];
const check = (name, ok, detail) => rows.push({ name, ok, detail });

const client = (pw) =>
  new Kafka({
    clientId: 'security-check',
    brokers: [info.SECURE_BROKERS],
    ssl: { ca: [ca], rejectUnauthorized: true },
    sasl: { mechanism: 'scram-sha-512', username: 'chunkline', password: pw },
    logLevel: logLevel.NOTHING,
  });

function worker(topics, pw, extra = {}) {
  const proc = spawn(process.execPath, [WORKER], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      KAFKA_BROKERS: info.SECURE_BROKERS,
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'chunkline',
      KAFKA_SASL_PASSWORD: pw,
      KAFKA_TLS: 'true',
      KAFKA_TLS_CA_FILE: info.CA,
      CHUNKLINE_GROUP_ID: `${topics.input}-workers`,
      CHUNKLINE_INPUT_TOPIC: topics.input,
      CHUNKLINE_CHUNK_TOPIC: topics.chunks,
      CHUNKLINE_MANIFEST_TOPIC: topics.manifests,
      CHUNKLINE_DLQ_TOPIC: topics.dlq,
      CHUNKLINE_HTTP_PORT: '0',
      CHUNKLINE_HTTP_HOST: '127.0.0.1',
      CHUNKLINE_MAX_TOKENS: '128',
      ...extra,
    },
  });
  const w = { proc, logs: [], port: undefined, exit: undefined };
  let buf = '';
  const onData = (d) => {
    buf += d.toString('utf8');
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      w.logs.push(line);
      const m = /"httpPort":(\d+)/.exec(line);
      if (m) w.port = Number(m[1]);
    }
  };
  proc.stdout.on('data', onData);
  proc.stderr.on('data', onData);
  w.exited = new Promise((r) => proc.on('exit', (code, sig) => r((w.exit = code ?? sig))));
  w.get = async (p) => {
    if (w.port === undefined) return undefined;
    try {
      return await fetch(`http://127.0.0.1:${w.port}${p}`);
    } catch {
      return undefined;
    }
  };
  return w;
}

let failed = false;
const workers = [];
try {
  const id = `sec-${Date.now().toString(36)}`;
  const topics = { input: `${id}.raw`, chunks: `${id}.chunks`, manifests: `${id}.manifests`, dlq: `${id}.dlq` };
  const admin = client(password).admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: Object.values(topics).map((topic) => ({ topic, numPartitions: 1, replicationFactor: 1 })),
  });
  await admin.disconnect();
  const producer = client(password).producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  await producer.send({
    topic: topics.input,
    messages: Array.from({ length: 5 }, (_, i) => ({
      key: `d${i}`,
      value: JSON.stringify({ doc_id: `d${i}`, text: `Secure document ${i}. It travels over TLS.` }),
    })),
  });
  await producer.disconnect();

  // 1. Right password.
  const good = worker(topics, password, { CHUNKLINE_LOG_LEVEL: 'debug' });
  workers.push(good);
  const seen = new Set();
  const reader = client(password).consumer({ groupId: `${id}-reader`, readUncommitted: false });
  await reader.connect();
  await reader.subscribe({ topics: [topics.manifests], fromBeginning: true });
  await reader.run({ eachMessage: async ({ message }) => void seen.add(message.key?.toString()) });
  const t0 = Date.now();
  while (seen.size < 5 && Date.now() - t0 < 90_000) await sleep(200);
  await reader.disconnect();
  const ready = (await good.get('/readyz'))?.status;
  check(
    'SASL_SSL SCRAM-SHA-512: worker chunks 5 documents',
    seen.size === 5,
    `${seen.size} manifests, /readyz ${ready}`,
  );
  const metrics = (await (await good.get('/metrics'))?.text()) ?? '';
  check('password not in /metrics', metrics.length > 0 && !metrics.includes(password), `${metrics.length} bytes`);
  good.proc.kill('SIGTERM');
  await good.exited;
  check(
    'password not in logs (debug level)',
    !good.logs.some((l) => l.includes(password)),
    `${good.logs.length} lines`,
  );

  // 2. Wrong password.
  const wrongPw = `wrong-${password.slice(0, 4)}-pw`;
  const bad = worker(topics, wrongPw);
  workers.push(bad);
  let everReady = false;
  const t1 = Date.now();
  while (bad.exit === undefined && Date.now() - t1 < 60_000) {
    if ((await bad.get('/readyz'))?.status === 200) everReady = true;
    await sleep(250);
  }
  const seconds = ((Date.now() - t1) / 1000).toFixed(1);
  const authLines = bad.logs.filter((l) => /authenticat/i.test(l));
  check('wrong password: /readyz never 200', !everReady, '');
  check(
    'wrong password: a clear authentication error',
    authLines.length > 0,
    (authLines[0] ?? bad.logs.slice(-1)[0] ?? '').slice(0, 160),
  );
  check(
    'wrong password: no log flood (<= 20 lines)',
    bad.logs.length <= 20,
    `${bad.logs.length} lines in ${seconds} s`,
  );
  check('wrong password: not in logs', !bad.logs.some((l) => l.includes(wrongPw)), '');
  check(
    'wrong password: exits (orchestrator restarts with backoff)',
    bad.exit !== undefined,
    `exit ${bad.exit} after ${seconds} s`,
  );
} catch (err) {
  failed = true;
  console.error(err);
} finally {
  for (const w of workers) if (w.exit === undefined) w.proc.kill('SIGKILL');
  execFileSync('bash', [LAUNCHER, 'stop'], { env });
}
if (process.env.SECURITY_SHOW_LOGS === '1') for (const w of workers.slice(1)) console.log(w.logs.join('\n'));
for (const r of rows) console.log(`| ${r.name} | ${r.ok ? 'ok' : 'FAIL'} | ${r.detail} |`);
process.exit(failed || rows.some((r) => !r.ok) ? 1 : 0);
