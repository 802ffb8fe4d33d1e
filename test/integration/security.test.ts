/**
 * The worker against a SASL_SSL broker (SCRAM-SHA-512 over TLS, certificates made at test time) of
 * its own, started by test/reliability/secure-kafka.sh on free ports (from
 * CHUNKLINE_TEST_SECURE_KAFKA_PORT, default 19392) and stopped after the tests; the plain broker of
 * the global setup is not used. The scenarios and what passes are defined once, in
 * test/reliability/secure-checks.mjs (also behind `npm run reliability:security`); each check is
 * asserted here, with the key observations asserted directly too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  acceptedChecks,
  freePortTriple,
  otherCaFile,
  rejectedChecks,
  runAccepted,
  runRejected,
  setUpTopics,
  startSecureBroker,
} from '../reliability/secure-checks.mjs';

interface Row {
  name: string;
  ok: boolean;
  detail: string;
}
type Broker = Awaited<ReturnType<typeof startSecureBroker>>;
type Topics = Awaited<ReturnType<typeof setUpTopics>>;

const DOCUMENTS = 5;
let broker: Broker | undefined;
let topics: Topics;
let otherCa: Awaited<ReturnType<typeof otherCaFile>> | undefined;

function failed(rows: Row[]): string[] {
  return rows.filter((r) => !r.ok).map((r) => `${r.name}: ${r.detail}`);
}

beforeAll(async () => {
  const port = await freePortTriple(Number(process.env.CHUNKLINE_TEST_SECURE_KAFKA_PORT ?? '19392'));
  [broker, otherCa] = await Promise.all([startSecureBroker(port), otherCaFile()]);
  topics = await setUpTopics(broker, DOCUMENTS);
}, 180_000);

afterAll(async () => {
  otherCa?.remove();
  await broker?.stop();
}, 60_000);

describe('SASL_SSL (SCRAM-SHA-512 over TLS)', () => {
  // The four workers run side by side: the three refused ones only wait, so this keeps the file
  // well under a minute and a half on two cores.
  it.concurrent('right credentials: documents chunked and read back, ready, no secret in logs or metrics', async () => {
    const b = broker!;
    const obs = await runAccepted(b, topics, DOCUMENTS);
    expect(failed(acceptedChecks(obs, b.password))).toEqual([]);
    expect(obs.manifests).toBe(DOCUMENTS);
    expect(obs.ready).toBe(200);
    expect(obs.metrics).not.toContain(b.password);
    expect(obs.lines.some((l: { text: string }) => l.text.includes(b.password))).toBe(false);
    expect(obs.stop.code).toBe(0);
  });

  it.concurrent(
    'wrong password: one authentication error per attempt, retrying with backoff, not ready, SIGTERM exit 0',
    async () => {
      const b = broker!;
      const wrong = `wrong-${b.password.slice(0, 6)}`;
      const obs = await runRejected(b, topics, { password: wrong, caFile: b.caFile });
      const rows: Row[] = rejectedChecks(obs, 'authentication', [b.password, wrong]);
      expect(failed(rows)).toEqual([]);
      const attempts = obs.lines.filter((l: { json?: { event?: string } }) => l.json?.event === 'connect-failed');
      expect(attempts.length).toBeGreaterThanOrEqual(2);
      expect(attempts[0].json).toMatchObject({ level: 'error', kind: 'authentication', attempt: 1, delayMs: 1000 });
      expect(attempts[1].json).toMatchObject({ attempt: 2, delayMs: 2000 });
      expect(obs.polls.readyz).not.toContain(200);
      expect(obs.exitedEarly).toBeUndefined();
      expect(obs.stop.code).toBe(0);
    },
  );

  it.concurrent(
    'no CA file (the system CAs do not know the broker’s): a TLS error per attempt, retrying, SIGTERM exit 0',
    async () => {
      const b = broker!;
      const obs = await runRejected(b, topics, { password: b.password, caFile: undefined });
      expect(failed(rejectedChecks(obs, 'tls', [b.password]))).toEqual([]);
      expect(obs.polls.readyz).not.toContain(200);
      expect(obs.stop.code).toBe(0);
    },
  );

  it.concurrent('another CA: a TLS error per attempt, retrying, SIGTERM exit 0', async () => {
    const b = broker!;
    const obs = await runRejected(b, topics, { password: b.password, caFile: otherCa!.file });
    expect(failed(rejectedChecks(obs, 'tls', [b.password]))).toEqual([]);
    expect(obs.polls.readyz).not.toContain(200);
    expect(obs.stop.code).toBe(0);
  });
});
