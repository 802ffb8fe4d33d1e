/**
 * Connecting: which failures are retried, the backoff loop of ChunkWorker.start() against a fake
 * kafkajs client (no broker), and when `producer-ready` is emitted. The same behaviour against a real
 * SASL_SSL broker is in test/integration/security.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  KafkaJSConnectionError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSSASLAuthenticationError,
  type Kafka,
} from 'kafkajs';
import { compileWorkerOptions, EventHub, type RecordHandler, type RuntimeEvent } from '@chunkline/runtime';
import { classify, connectFailureKind, rootMessage } from '../src/errors.js';
import { kafkaLogLevel } from '../src/kafka.js';
import { ChunkWorker } from '../src/worker.js';

const AUTH_MESSAGE = 'SASL SCRAM SHA512 authentication failed: invalid credentials';

describe('connectFailureKind', () => {
  it('finds authentication, TLS and connection failures through kafkajs wrappers', () => {
    const auth = new KafkaJSSASLAuthenticationError(AUTH_MESSAGE);
    expect(connectFailureKind(auth)).toBe('authentication');
    expect(connectFailureKind(new KafkaJSNonRetriableError(auth, { cause: auth }))).toBe('authentication');

    const tls = new KafkaJSConnectionError('Connection error: self-signed certificate in certificate chain', {
      broker: '127.0.0.1:1',
      code: 'SELF_SIGNED_CERT_IN_CHAIN',
    });
    const exhausted = new KafkaJSNumberOfRetriesExceeded(tls, { retryCount: 0, retryTime: 100 });
    expect(connectFailureKind(exhausted)).toBe('tls');
    expect(rootMessage(exhausted)).toBe('Connection error: self-signed certificate in certificate chain');
    const altName = new KafkaJSConnectionError('Connection error: bad name', { code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    expect(connectFailureKind(altName)).toBe('tls');

    const refused = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED', { code: 'ECONNREFUSED' });
    expect(connectFailureKind(new KafkaJSNumberOfRetriesExceeded(refused, { retryCount: 0, retryTime: 1 }))).toBe(
      'connection',
    );
  });

  it('leaves configuration problems and bugs fatal, and classify() unchanged', () => {
    expect(connectFailureKind(new TypeError('x is not a function'))).toBeUndefined();
    expect(connectFailureKind(new KafkaJSNonRetriableError('SASL mechanism PLAIN is not supported'))).toBeUndefined();
    expect(
      connectFailureKind(
        Object.assign(new Error('no topic'), { name: 'KafkaJSProtocolError', type: 'UNKNOWN_TOPIC_OR_PARTITION' }),
      ),
    ).toBeUndefined();
    // Once connected, an authentication failure in a batch is still fatal for the batch loop.
    expect(classify(new KafkaJSSASLAuthenticationError(AUTH_MESSAGE))).toBe('fatal');
  });

  it('does not loop on a cause cycle', () => {
    const a = new Error('a') as Error & { cause?: unknown };
    const b = new Error('b', { cause: a });
    a.cause = b;
    expect(connectFailureKind(a)).toBeUndefined();
  });
});

describe('kafkaLogLevel', () => {
  it('sends the per-layer duplicates of a connection failure to debug, and nothing else', () => {
    expect(kafkaLogLevel('Connection', 'error')).toBe('debug');
    expect(kafkaLogLevel('BrokerPool', 'error')).toBe('debug');
    expect(kafkaLogLevel('SaslAuthenticator-SCRAM-SHA-512', 'error')).toBe('debug');
    expect(kafkaLogLevel('Consumer', 'error')).toBe('error');
    expect(kafkaLogLevel('Runner', 'warn')).toBe('warn');
    expect(kafkaLogLevel(undefined, 'error')).toBe('error'); // kafkajs's root logger has no namespace
  });
});

describe('compileWorkerOptions, connection backoff', () => {
  it('defaults to 1 s doubling to 30 s and rejects a cap below the first delay', () => {
    const o = compileWorkerOptions({ groupId: 'g' });
    expect([o.connectRetryInitialDelayMs, o.connectRetryMaxDelayMs]).toEqual([1000, 30_000]);
    expect(() =>
      compileWorkerOptions({ groupId: 'g', connectRetryInitialDelayMs: 500, connectRetryMaxDelayMs: 100 }),
    ).toThrow(/connectRetryMaxDelayMs must be >= connectRetryInitialDelayMs/);
  });
});

type Handler = (e: { payload: Record<string, unknown> }) => void;

/** A kafkajs stand-in: `probe(attempt)` decides each admin connection; consumers and producers connect. */
function fakeKafka(probe: (attempt: number) => Promise<void>) {
  const handlers = new Map<string, Handler>();
  const calls = { probes: 0, consumerConnects: 0, consumerDisconnects: 0, producerConnects: 0, runs: 0 };
  const kafka = {
    admin: () => ({
      connect: () => probe(++calls.probes),
      disconnect: async () => undefined,
    }),
    consumer: () => ({
      events: { GROUP_JOIN: 'group_join', CRASH: 'crash' },
      on: (name: string, h: Handler) => void handlers.set(name, h),
      connect: async () => void calls.consumerConnects++,
      subscribe: async () => undefined,
      run: async () => void calls.runs++,
      stop: async () => undefined,
      disconnect: async () => void calls.consumerDisconnects++,
    }),
    producer: () => ({
      connect: async () => void calls.producerConnects++,
      disconnect: async () => undefined,
    }),
  };
  const join = (assignment: Record<string, number[]>) =>
    handlers.get('group_join')?.({ payload: { memberId: 'm-1', memberAssignment: assignment } });
  return { kafka: kafka as unknown as Kafka, calls, join };
}

const noRecords: RecordHandler = {
  processAll: () => Promise.reject(new Error('no records in these tests')),
};

/** A worker on `kafka` whose events are collected; connection retries of 20 ms doubling to 50 ms unless `retryMs` says. */
function worker(
  kafka: Kafka,
  delivery: 'exactly-once' | 'at-least-once' = 'exactly-once',
  retryMs: { initial: number; max: number } = { initial: 20, max: 50 },
) {
  const events: RuntimeEvent[] = [];
  const hub = new EventHub();
  hub.on((e) => events.push(e));
  const options = compileWorkerOptions({
    groupId: 'g',
    inputTopic: 'in',
    delivery,
    connectRetryInitialDelayMs: retryMs.initial,
    connectRetryMaxDelayMs: retryMs.max,
  });
  return { w: new ChunkWorker(kafka, options, noRecords, hub), events };
}

const authFailure = () => Promise.reject(new KafkaJSSASLAuthenticationError(AUTH_MESSAGE));

describe('ChunkWorker.start(), connecting', () => {
  it('retries an authentication failure with doubling delays up to the cap, then connects', async () => {
    const { kafka, calls } = fakeKafka((n) => (n <= 4 ? authFailure() : Promise.resolve()));
    const { w, events } = worker(kafka);
    await w.start();
    const failures = events.filter((e) => e.type === 'connect-failed');
    expect(failures.map((e) => [e.kind, e.attempt, e.delayMs])).toEqual([
      ['authentication', 1, 20],
      ['authentication', 2, 40],
      ['authentication', 3, 50],
      ['authentication', 4, 50],
    ]);
    expect(failures[0]).toMatchObject({ error: AUTH_MESSAGE });
    expect(events.filter((e) => e.type === 'connected')).toEqual([{ type: 'connected', attempts: 5 }]);
    expect(events.some((e) => e.type === 'fatal')).toBe(false);
    expect(w.state).toBe('RUNNING');
    // The consumer connects only after a probe succeeded.
    expect([calls.probes, calls.consumerConnects, calls.runs]).toEqual([5, 1, 1]);
    await w.stop();
    expect(w.state).toBe('STOPPED');
  });

  it('stops promptly while waiting to retry: start() resolves, state STOPPED, no fatal', async () => {
    const { kafka } = fakeKafka(authFailure);
    const { w, events } = worker(kafka, 'exactly-once', { initial: 60_000, max: 60_000 });
    const started = w.start();
    while (!events.some((e) => e.type === 'connect-failed')) await new Promise((r) => setTimeout(r, 5));
    const t0 = Date.now();
    await w.stop();
    await started;
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(w.state).toBe('STOPPED');
    expect(events.filter((e) => e.type === 'connect-failed')).toHaveLength(1);
    expect(events.some((e) => e.type === 'fatal' || e.type === 'connected')).toBe(false);
  });

  it('fails at once on an error that is not worth retrying', async () => {
    const { kafka } = fakeKafka(() => Promise.reject(new TypeError('bug')));
    const { w, events } = worker(kafka);
    await expect(w.start()).rejects.toThrow('bug');
    expect(w.state).toBe('FAILED');
    expect(events.filter((e) => e.type === 'connect-failed')).toHaveLength(0);
    expect(events.filter((e) => e.type === 'fatal')).toHaveLength(1);
  });
});

describe('producer-ready', () => {
  it('exactly-once: not before the group join, then once the partitions’ producers are connected', async () => {
    const { kafka, calls, join } = fakeKafka(() => Promise.resolve());
    const { w, events } = worker(kafka);
    await w.start();
    expect(events.some((e) => e.type === 'producer-ready')).toBe(false);
    expect(calls.producerConnects).toBe(0);
    join({ in: [0, 2] });
    await new Promise((r) => setTimeout(r, 10));
    expect(calls.producerConnects).toBe(2);
    expect(events.filter((e) => e.type === 'producer-ready')).toEqual([
      { type: 'producer-ready', ready: true, producers: 2 },
    ]);
    await w.stop();
  });

  it('exactly-once with no partition assigned: ready, with no producer', async () => {
    const { kafka, calls, join } = fakeKafka(() => Promise.resolve());
    const { w, events } = worker(kafka);
    await w.start();
    join({});
    expect(calls.producerConnects).toBe(0);
    expect(events.filter((e) => e.type === 'producer-ready')).toEqual([
      { type: 'producer-ready', ready: true, producers: 0 },
    ]);
    await w.stop();
  });

  it('at-least-once: after the shared producer connected', async () => {
    const { kafka, calls } = fakeKafka((n) => (n === 1 ? authFailure() : Promise.resolve()));
    const { w, events } = worker(kafka, 'at-least-once');
    await w.start();
    expect(calls.producerConnects).toBe(1);
    const types = events.map((e) => e.type);
    expect(types.indexOf('producer-ready')).toBeGreaterThan(types.indexOf('connect-failed'));
    expect(events.filter((e) => e.type === 'producer-ready')).toEqual([
      { type: 'producer-ready', ready: true, producers: 1 },
    ]);
    await w.stop();
  });
});
