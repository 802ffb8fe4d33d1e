import { HealthTracker } from '@chunkline/observability';
import { describe, expect, it } from 'vitest';

describe('HealthTracker', () => {
  it('is ready only when RUNNING, joined since, and the producer is ready', () => {
    const h = new HealthTracker();
    expect(h.alive()).toBe(true);
    expect(h.ready()).toBe(false);

    h.listener({ type: 'state', from: 'INITIALIZED', to: 'RUNNING' });
    h.listener({ type: 'producer-ready', ready: true, producers: 2 });
    expect(h.ready()).toBe(false); // Not joined yet.
    expect(h.details().notReadyReasons).toEqual(['no group-joined event since entering RUNNING']);

    h.listener({ type: 'group-joined', memberId: 'm-1', assignment: { docs: [0, 2] } });
    expect(h.ready()).toBe(true);
    expect(h.details()).toMatchObject({
      alive: true,
      ready: true,
      state: 'RUNNING',
      joinedGroup: true,
      memberId: 'm-1',
      assignment: { docs: [0, 2] },
      producerReady: true,
      notReadyReasons: [],
    });

    h.listener({ type: 'producer-ready', ready: false, producers: 0 });
    expect(h.ready()).toBe(false);
    h.listener({ type: 'producer-ready', ready: true, producers: 2 });
    expect(h.ready()).toBe(true);

    h.listener({ type: 'state', from: 'RUNNING', to: 'STOPPING' });
    expect(h.ready()).toBe(false);
    expect(h.alive()).toBe(true);
    h.listener({ type: 'state', from: 'STOPPING', to: 'DRAINING' });
    expect(h.ready()).toBe(false);
    h.listener({ type: 'state', from: 'DRAINING', to: 'STOPPED' });
    expect(h.alive()).toBe(false);
  });

  it('does not count a group join seen before the transition into RUNNING', () => {
    const h = new HealthTracker();
    h.listener({ type: 'producer-ready', ready: true, producers: 2 });
    h.listener({ type: 'group-joined', memberId: 'm-1', assignment: {} });
    h.listener({ type: 'state', from: 'INITIALIZED', to: 'RUNNING' });
    expect(h.ready()).toBe(false);
    h.listener({ type: 'group-joined', memberId: 'm-1', assignment: {} }); // An empty assignment still counts.
    expect(h.ready()).toBe(true);
  });

  it('is not alive once FAILED, and keeps the fatal message', () => {
    const h = new HealthTracker();
    h.listener({ type: 'state', from: 'INITIALIZED', to: 'RUNNING' });
    h.listener({ type: 'fatal', error: new Error('broker says no') });
    h.listener({ type: 'state', from: 'RUNNING', to: 'FAILED' });
    expect(h.alive()).toBe(false);
    expect(h.ready()).toBe(false);
    expect(h.details()).toMatchObject({ state: 'FAILED', lastFatalError: 'broker says no' });
  });

  it('while connecting fails: alive, not ready, and says why; a connection clears it', () => {
    const h = new HealthTracker();
    h.listener({ type: 'state', from: 'INITIALIZED', to: 'RUNNING' });
    h.listener({
      type: 'connect-failed',
      kind: 'authentication',
      attempt: 2,
      delayMs: 2000,
      error: 'SASL SCRAM SHA512 authentication failed',
    });
    expect(h.alive()).toBe(true);
    expect(h.ready()).toBe(false);
    expect(h.details()).toMatchObject({
      connectFailure: { kind: 'authentication', attempt: 2, error: 'SASL SCRAM SHA512 authentication failed' },
      notReadyReasons: ['cannot connect to Kafka (authentication, attempt 2)', 'producer not ready'],
    });
    h.listener({ type: 'connected', attempts: 3 });
    h.listener({ type: 'group-joined', memberId: 'm-1', assignment: { docs: [] } });
    h.listener({ type: 'producer-ready', ready: true, producers: 0 });
    expect(h.details()).toMatchObject({ ready: true, connectFailure: null, notReadyReasons: [] });
  });
});
