import { Writable } from 'node:stream';
import { createLogger, isObservabilityError, logEvents } from '@chunkline/observability';
import { describe, expect, it } from 'vitest';
import { REBALANCE_AND_STOP, STARTUP, WORK } from './events.js';

/** A destination stream that keeps every line it is given, parsed. */
function collector() {
  const text: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      text.push(chunk.toString());
      done();
    },
  });
  const lines = () =>
    text
      .join('')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { stream, text, lines };
}

describe('createLogger', () => {
  it('redacts secret-looking fields', () => {
    const out = collector();
    const logger = createLogger({ destination: out.stream, name: 'chunker' });
    logger.info({ sasl: { mechanism: 'scram-sha-512', password: 'p4ssw0rd-top' } }, 'connecting');
    logger.info(
      {
        kafka: { brokers: ['b:9092'], sasl: { password: 'p4ssw0rd-nested' }, ssl: { key: 'PEM-KEY-1' } },
        config: { kafka: { ssl: { key: 'PEM-KEY-2' } } },
        password: 'p4ssw0rd-plain',
        headers: { authorization: 'Bearer t0ken' },
        schemaRegistry: { token: 't0ken-2' },
      },
      'config',
    );
    const all = out.text.join('');
    for (const secret of ['p4ssw0rd', 'PEM-KEY', 't0ken']) expect(all).not.toContain(secret);
    const [first, second] = out.lines();
    expect(first).toMatchObject({ level: 'info', name: 'chunker', msg: 'connecting', sasl: '[redacted]' });
    expect(second).toMatchObject({
      kafka: { brokers: ['b:9092'], sasl: '[redacted]', ssl: { key: '[redacted]' } },
      password: '[redacted]',
      headers: { authorization: '[redacted]' },
    });
    expect(typeof first!.time).toBe('string'); // ISO time.
  });

  it('rejects an unknown level', () => {
    let error: unknown;
    try {
      createLogger({ level: 'verbose' });
    } catch (e) {
      error = e;
    }
    expect(isObservabilityError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'BAD_OPTION', field: 'level' });
  });
});

describe('logEvents', () => {
  it('logs each event type at its level with its fields', () => {
    const out = collector();
    const listener = logEvents(createLogger({ level: 'trace', destination: out.stream }));
    for (const e of [...STARTUP, ...WORK, ...REBALANCE_AND_STOP]) listener(e);
    listener({ type: 'fatal', error: new Error('broker gone') });
    listener({ type: 'listener-error', error: new TypeError('bad listener') });
    listener({ type: 'connect-failed', kind: 'tls', attempt: 1, delayMs: 1000, error: 'self-signed certificate' });
    listener({ type: 'connected', attempts: 2 });
    const lines = out.lines();

    const levels = new Map<string, Set<unknown>>();
    for (const l of lines) levels.set(l.event as string, (levels.get(l.event as string) ?? new Set()).add(l.level));
    expect(Object.fromEntries([...levels].map(([k, v]) => [k, [...v]]))).toEqual({
      state: ['info'],
      'producer-ready': ['info'],
      'group-joined': ['info'],
      lag: ['trace'],
      document: ['debug'],
      'dead-letter': ['warn'],
      batch: ['debug'],
      retry: ['warn'],
      fatal: ['error'],
      'listener-error': ['error'],
      'connect-failed': ['error'],
      connected: ['info'],
    });

    expect(lines.find((l) => l.event === 'group-joined')).toMatchObject({
      memberId: 'chunker-0-1a2b',
      assignment: { 'docs.raw': [0, 1] },
      partitions: 2,
    });
    expect(lines.find((l) => l.event === 'document')).toMatchObject({
      docId: 'doc-0-100',
      partition: 0,
      offset: '100',
      chunks: 3,
      outcome: 'chunked',
    });
    expect(lines.find((l) => l.event === 'dead-letter')).toMatchObject({
      reason: 'TEXT_TOO_LARGE',
      topic: 'docs.raw',
      partition: 0,
      offset: '102',
    });
    const fatal = lines.find((l) => l.event === 'fatal') as { err: { message: string; stack: string } };
    expect(fatal.err.message).toBe('broker gone');
    expect(fatal.err.stack).toContain('Error: broker gone');
  });

  it('leaves debug events out at the default level', () => {
    const out = collector();
    const listener = logEvents(createLogger({ destination: out.stream }));
    for (const e of [...STARTUP, ...WORK]) listener(e);
    expect(out.lines().map((l) => l.event)).not.toContain('document');
    expect(out.lines().map((l) => l.event)).toContain('dead-letter');
  });
});

describe('logEvents, connection failures', () => {
  it('logs one line per failed attempt, without a stack: kind, attempt, next delay and the cause', () => {
    const out = collector();
    const listener = logEvents(createLogger({ destination: out.stream }));
    listener({
      type: 'connect-failed',
      kind: 'authentication',
      attempt: 3,
      delayMs: 4000,
      error: 'invalid credentials',
    });
    listener({ type: 'connect-failed', kind: 'connection', attempt: 1, delayMs: 1000, error: 'ECONNREFUSED' });
    const lines = out.lines();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ level: 'error', kind: 'authentication', attempt: 3, delayMs: 4000 });
    expect(lines[0]?.msg).toBe(
      'cannot connect to Kafka: authentication failed (attempt 3, retrying in 4000 ms; check the SASL username and password): invalid credentials',
    );
    expect(JSON.stringify(lines[0])).not.toContain('stack');
    expect(lines[1]).toMatchObject({ level: 'warn', kind: 'connection' });
  });

  it('says when no producer is needed, and how many are connected', () => {
    const out = collector();
    const listener = logEvents(createLogger({ destination: out.stream }));
    listener({ type: 'producer-ready', ready: true, producers: 0 });
    listener({ type: 'producer-ready', ready: true, producers: 3 });
    expect(out.lines().map((l) => l.msg)).toEqual([
      'producer ready: no partition assigned, none needed',
      'producer ready (3 connected)',
    ]);
  });
});
