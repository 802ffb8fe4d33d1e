/**
 * The security checks of the worker against a SASL_SSL broker (SCRAM-SHA-512 over TLS, certificates
 * made at test time by test/reliability/secure-kafka.sh), shared by test/integration/security.test.ts
 * (CI, with assertions) and test/reliability/security.mjs (`npm run reliability:security`, a table).
 *
 * Scenarios run the real `chunkline-worker` binary (services/chunker/dist/main.js; build first):
 * - accepted: the right password and the broker's CA: it chunks documents, read back over SASL_SSL;
 * - rejected: a wrong password, no CA file (the system CAs do not know the test CA), or another CA:
 *   the worker must stay alive and not ready, report one clear error per connection attempt with a
 *   growing delay, write no flood, and exit 0 promptly on SIGTERM.
 * Each scenario returns what was observed; `acceptedChecks` and `rejectedChecks` turn that into rows
 * `{ name, ok, detail }`, the one definition of what passes.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { topicNames, workerTopicEnv } from '../support/shared.mjs';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..', '..');
const LAUNCHER = path.join(ROOT, 'test', 'reliability', 'secure-kafka.sh');
const WORKER = path.join(ROOT, 'services', 'chunker', 'dist', 'main.js');
const USERNAME = 'chunkline';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Whether nothing listens on 127.0.0.1:`port`. */
function portFree(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** The first port from `from` (stepping by 3) such that it and the next two are free (broker, controller, inter-broker). */
export async function freePortTriple(from) {
  for (let port = from; port < from + 300; port += 3) {
    if ((await portFree(port)) && (await portFree(port + 1)) && (await portFree(port + 2))) return port;
  }
  throw new Error(`no three free ports from ${from}`);
}

/**
 * Starts a SASL_SSL broker on `port` (secure-kafka.sh). Resolves with its address, the CA file, the
 * SCRAM password, and `stop()`, which stops it and deletes its directory.
 */
export async function startSecureBroker(port) {
  const env = { ...process.env, SECURE_KAFKA_PORT: String(port) };
  const { stdout } = await run('bash', [LAUNCHER, 'start'], { env, timeout: 180_000, maxBuffer: 1 << 20 });
  const info = Object.fromEntries(
    stdout
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  return {
    port,
    brokers: info.SECURE_BROKERS,
    caFile: info.CA,
    password: readFileSync(info.PASSWORD_FILE, 'utf8'),
    stop: async () => {
      await run('bash', [LAUNCHER, 'stop'], { env, timeout: 60_000 });
    },
  };
}

/** A kafkajs client of the secure broker with the right credentials and its CA. */
function client(broker) {
  return new Kafka({
    clientId: 'security-check',
    brokers: [broker.brokers],
    ssl: { ca: [readFileSync(broker.caFile, 'utf8')], rejectUnauthorized: true },
    sasl: { mechanism: 'scram-sha-512', username: USERNAME, password: broker.password },
    logLevel: logLevel.NOTHING,
  });
}

/** Creates fresh topics (one partition each) and produces `documents` JSON documents, over SASL_SSL. */
export async function setUpTopics(broker, documents) {
  const topics = topicNames(`sec-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`);
  const admin = client(broker).admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: Object.values(topics).map((topic) => ({ topic, numPartitions: 1, replicationFactor: 1 })),
    });
  } finally {
    await admin.disconnect();
  }
  const producer = client(broker).producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    await producer.send({
      topic: topics.input,
      acks: -1,
      messages: Array.from({ length: documents }, (_, i) => ({
        key: `d${i}`,
        value: JSON.stringify({ doc_id: `d${i}`, text: `Secure document ${i}. It travels over TLS.` }),
      })),
    });
  } finally {
    await producer.disconnect();
  }
  return topics;
}

/** A CA certificate that did not sign the broker's; `remove()` deletes it. */
export async function otherCaFile() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'chunkline-other-ca-'));
  const file = path.join(dir, 'ca.pem');
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    path.join(dir, 'ca.key'),
    '-out',
    file,
    '-days',
    '1',
    '-subj',
    '/CN=some-other-ca',
  ]);
  return { file, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Spawns the worker against the secure broker. `password` and `caFile` (undefined: no CA file, the
 * system CAs) are its credentials; `env` adds variables. Every output line is kept, parsed when JSON.
 */
function startWorker(broker, topics, { password, caFile, env = {} }) {
  const proc = spawn(process.execPath, [WORKER], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      KAFKA_BROKERS: broker.brokers,
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: USERNAME,
      KAFKA_SASL_PASSWORD: password,
      KAFKA_TLS: 'true',
      ...(caFile === undefined ? {} : { KAFKA_TLS_CA_FILE: caFile }),
      ...workerTopicEnv(topics),
      CHUNKLINE_MAX_TOKENS: '128',
      ...env,
    },
  });
  const w = { proc, lines: [], port: undefined, exit: undefined };
  const onData = (stream) => {
    let buf = '';
    return (d) => {
      buf += d.toString('utf8');
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const text = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let json;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        w.lines.push({ stream, text, json });
        if (w.port === undefined && typeof json?.httpPort === 'number') w.port = json.httpPort;
      }
    };
  };
  proc.stdout.on('data', onData('stdout'));
  proc.stderr.on('data', onData('stderr'));
  w.exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve((w.exit = code ?? signal))));
  /** GET on the worker's HTTP server: the status, or undefined when it does not answer (yet). */
  w.status = async (p) => {
    if (w.port === undefined) return undefined;
    try {
      const res = await fetch(`http://127.0.0.1:${w.port}${p}`);
      await res.arrayBuffer();
      return res.status;
    } catch {
      return undefined;
    }
  };
  w.text = async (p) => {
    if (w.port === undefined) return '';
    try {
      return await (await fetch(`http://127.0.0.1:${w.port}${p}`)).text();
    } catch {
      return '';
    }
  };
  /** SIGTERM, then the exit code and how long it took (SIGKILL after `maxWaitMs`: exit 'timeout'). */
  w.terminate = async (maxWaitMs = 15_000) => {
    const t0 = Date.now();
    if (w.exit === undefined) proc.kill('SIGTERM');
    const code = await Promise.race([w.exited, sleep(maxWaitMs).then(() => 'timeout')]);
    if (code === 'timeout') {
      proc.kill('SIGKILL');
      await w.exited;
    }
    return { code, ms: Date.now() - t0 };
  };
  return w;
}

/** Reads the manifest topic over SASL_SSL until `count` distinct documents have one, or `maxWaitMs`. */
async function countManifests(broker, topics, count, maxWaitMs) {
  const seen = new Set();
  const reader = client(broker).consumer({ groupId: `${topics.input}-reader`, readUncommitted: false });
  await reader.connect();
  try {
    await reader.subscribe({ topics: [topics.manifests], fromBeginning: true });
    await reader.run({ eachMessage: async ({ message }) => void seen.add(message.key?.toString()) });
    const deadline = Date.now() + maxWaitMs;
    while (seen.size < count && Date.now() < deadline) await sleep(200);
  } finally {
    await reader.disconnect();
  }
  return seen.size;
}

/**
 * The right password and CA, logging at debug: waits for the manifests of `documents` documents,
 * then reads /readyz and /metrics and stops the worker with SIGTERM.
 */
export async function runAccepted(broker, topics, documents, { maxWaitMs = 60_000 } = {}) {
  const t0 = Date.now();
  const w = startWorker(broker, topics, {
    password: broker.password,
    caFile: broker.caFile,
    env: { CHUNKLINE_LOG_LEVEL: 'debug' },
  });
  try {
    const manifests = await countManifests(broker, topics, documents, maxWaitMs);
    let ready;
    const deadline = Date.now() + 15_000;
    while ((ready = await w.status('/readyz')) !== 200 && Date.now() < deadline) await sleep(200);
    const metrics = await w.text('/metrics');
    const exitedEarly = w.exit;
    const stop = await w.terminate();
    return {
      documents,
      manifests,
      ready,
      metrics,
      exitedEarly,
      stop,
      lines: w.lines,
      seconds: (Date.now() - t0) / 1000,
    };
  } finally {
    if (w.exit === undefined) w.proc.kill('SIGKILL');
  }
}

/**
 * Credentials the broker must refuse (`password`, `caFile`; undefined: no CA file), logging at debug:
 * polls /readyz and /healthz every 200 ms for `observeMs` from the worker's first line, then SIGTERM.
 */
export async function runRejected(broker, topics, { password, caFile, observeMs = 11_000 }) {
  const w = startWorker(broker, topics, { password, caFile, env: { CHUNKLINE_LOG_LEVEL: 'debug' } });
  try {
    const polls = { readyz: [], healthz: [] };
    const started = Date.now();
    while (w.lines.length === 0 && w.exit === undefined && Date.now() - started < 30_000) await sleep(50);
    const deadline = Date.now() + observeMs;
    while (w.exit === undefined && Date.now() < deadline) {
      polls.readyz.push(await w.status('/readyz'));
      polls.healthz.push(await w.status('/healthz'));
      await sleep(200);
    }
    const exitedEarly = w.exit;
    const stop = await w.terminate();
    return { password, observeMs, polls, exitedEarly, stop, lines: w.lines };
  } finally {
    if (w.exit === undefined) w.proc.kill('SIGKILL');
  }
}

const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };
/** Lines at info or above: every non-JSON line (stderr) and JSON lines whose level is info or more. */
const visible = (lines) => lines.filter((l) => l.json === undefined || (LEVELS[l.json.level] ?? 60) >= LEVELS.info);
const row = (name, ok, detail = '') => ({ name, ok: Boolean(ok), detail });
const lastLines = (lines) =>
  lines
    .slice(-4)
    .map((l) => l.text.slice(0, 300))
    .join(' | ');

/** Rows for {@link runAccepted}. `password` must appear nowhere. */
export function acceptedChecks(obs, password) {
  const failures = obs.lines.filter((l) => l.json?.event === 'connect-failed');
  return [
    row(
      'SASL_SSL SCRAM-SHA-512: the worker chunks the documents (read back over SASL_SSL)',
      obs.manifests === obs.documents && obs.exitedEarly === undefined,
      `${obs.manifests}/${obs.documents} manifests in ${obs.seconds.toFixed(1)} s` +
        (obs.exitedEarly === undefined ? '' : `; exited ${obs.exitedEarly}: ${lastLines(obs.lines)}`),
    ),
    row('/readyz 200', obs.ready === 200, `/readyz ${obs.ready}`),
    row(
      'connected at the first attempt',
      failures.length === 0 && obs.lines.some((l) => l.json?.event === 'connected' && l.json.attempts === 1),
      `${failures.length} failed attempts`,
    ),
    row(
      'password not in /metrics',
      obs.metrics.includes('chunkline_ready') && !obs.metrics.includes(password),
      `${obs.metrics.length} bytes`,
    ),
    row(
      'password not in the logs (debug level)',
      obs.lines.length >= 10 && !obs.lines.some((l) => l.text.includes(password)),
      `${obs.lines.length} lines`,
    ),
    row('SIGTERM: exit 0', obs.stop.code === 0, `exit ${obs.stop.code} after ${obs.stop.ms} ms`),
  ];
}

/**
 * Rows for {@link runRejected}. `kind` is the expected `connect-failed` kind (`authentication`, `tls`);
 * `secrets` must appear in no line (debug included).
 */
export function rejectedChecks(obs, kind, secrets) {
  const what = kind === 'authentication' ? 'authentication failed' : 'TLS handshake failed';
  const cause = kind === 'authentication' ? /invalid credentials/ : /certificate/;
  const shown = visible(obs.lines);
  const warnings = shown.filter((l) => l.json !== undefined && LEVELS[l.json.level] >= LEVELS.warn);
  const attempts = obs.lines.filter((l) => l.json?.event === 'connect-failed');
  const numbers = attempts.map((l) => l.json.attempt);
  const delays = attempts.map((l) => l.json.delayMs);
  // The worker's own clock (pino's `time`, in ms): arrival times here would add the pipe's jitter.
  const times = attempts.map((l) => Date.parse(l.json.time));
  const gaps = times.slice(1).map((t, i) => t - times[i]);
  const answered = obs.polls.readyz.filter((s) => s !== undefined);
  const healthz = obs.polls.healthz.filter((s) => s !== undefined);
  return [
    row(
      `/readyz never 200 over ${(obs.observeMs / 1000).toFixed(0)} s`,
      answered.length >= 10 && answered.every((s) => s === 503),
      `${answered.length} answers: ${[...new Set(answered)].join(', ')}`,
    ),
    row(
      'alive while retrying: running, /healthz 200',
      obs.exitedEarly === undefined && healthz.length >= 10 && healthz.every((s) => s === 200),
      obs.exitedEarly === undefined
        ? `${healthz.length} answers: ${[...new Set(healthz)].join(', ')}`
        : `exited ${obs.exitedEarly}: ${lastLines(obs.lines)}`,
    ),
    row(
      'retries: at least 2 attempts, numbered 1, 2, ..., the delay doubling',
      attempts.length >= 2 &&
        numbers.every((n, i) => n === i + 1) &&
        delays[1] > delays[0] &&
        delays.every((d, i) => i === 0 || (d >= delays[i - 1] && d <= 2 * delays[i - 1])) &&
        gaps.every((g, i) => g >= delays[i] && (i === 0 || g > gaps[i - 1])),
      `${attempts.length} attempts, delays ${delays.join(', ')} ms, measured gaps ${gaps.join(', ')} ms`,
    ),
    row(
      `one clear ${kind} error per attempt, nothing else at warn or above`,
      attempts.length >= 1 &&
        warnings.length === attempts.length &&
        warnings.every(
          (l) =>
            l.json.event === 'connect-failed' &&
            l.json.kind === kind &&
            l.json.level === 'error' &&
            l.json.msg.includes(what) &&
            cause.test(l.json.msg),
        ),
      (attempts[0]?.json.msg ?? `${warnings.length} warnings, no connect-failed line`).slice(0, 200),
    ),
    row(
      'no stack traces and no kafkajs lines at info or above',
      !shown.some((l) => /"stack"|\n\s+at |^\s+at /.test(l.text) || l.json?.logger === 'kafkajs'),
      '',
    ),
    row(
      'no log flood: at most attempts + 6 lines at info or above',
      shown.length <= attempts.length + 6,
      `${shown.length} lines at info or above (${obs.lines.length} with debug)`,
    ),
    row('no secret in the logs (debug level)', !obs.lines.some((l) => secrets.some((s) => l.text.includes(s))), ''),
    row(
      'SIGTERM while retrying: exit 0 within 5 s',
      obs.stop.code === 0 && obs.stop.ms < 5_000,
      `exit ${obs.stop.code} after ${obs.stop.ms} ms`,
    ),
  ];
}
