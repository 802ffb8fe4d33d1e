import { createServer } from 'node:net';
import { createMetrics, HealthTracker, isObservabilityError, startHttpServer } from '@chunkline/observability';
import { Gauge, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { STARTUP } from './events.js';

const HOST = '127.0.0.1';

/** Resolves when a plain TCP server can bind the port (i.e. it is free), rejects otherwise. */
function bindAndRelease(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(port, HOST, () => s.close(() => resolve()));
  });
}

describe('startHttpServer', () => {
  it('serves /metrics, /healthz and /readyz, 404 elsewhere, and frees the port on close', async () => {
    const { registry, listener } = createMetrics();
    const health = new HealthTracker();
    const server = await startHttpServer({ port: 0, host: HOST, registry, health });
    const url = (path: string) => `http://${HOST}:${server.port}${path}`;
    try {
      expect(server.port).toBeGreaterThan(0);

      const metrics = await fetch(url('/metrics'));
      expect(metrics.status).toBe(200);
      expect(metrics.headers.get('content-type')).toBe(registry.contentType);
      const text = await metrics.text();
      expect(text).toContain('chunkline_documents_total');
      expect(text).toContain('chunkline_process_cpu_user_seconds_total');

      const healthz = await fetch(url('/healthz'));
      expect(healthz.status).toBe(200);
      expect(await healthz.json()).toEqual({ status: 'alive' });

      const notReady = await fetch(url('/readyz'));
      expect(notReady.status).toBe(503);
      expect(await notReady.json()).toMatchObject({ status: 'not-ready', state: 'INITIALIZED', ready: false });

      for (const e of STARTUP) {
        listener(e);
        health.listener(e);
      }
      const ready = await fetch(url('/readyz?verbose=1'));
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ status: 'ready', state: 'RUNNING', joinedGroup: true });
      expect(await (await fetch(url('/metrics'))).text()).toContain('chunkline_ready 1');

      expect((await fetch(url('/'))).status).toBe(404);
      expect((await fetch(url('/metricsx'))).status).toBe(404);
      const post = await fetch(url('/metrics'), { method: 'POST' });
      expect(post.status).toBe(405);
      expect(post.headers.get('allow')).toBe('GET, HEAD');
      const head = await fetch(url('/healthz'), { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(await head.text()).toBe('');

      health.listener({ type: 'state', from: 'RUNNING', to: 'FAILED' });
      const dead = await fetch(url('/healthz'));
      expect(dead.status).toBe(503);
      expect(await dead.json()).toEqual({ status: 'dead', state: 'FAILED' });
    } finally {
      await server.close();
    }
    expect(server.close()).toBe(server.close()); // Idempotent.
    await bindAndRelease(server.port);
    await expect(fetch(url('/healthz'))).rejects.toThrow();
  });

  it('answers 500 when metrics collection fails, and keeps serving', async () => {
    const registry = new Registry();
    let fail = true;
    new Gauge({
      name: 'flaky',
      help: 'Throws while collected.',
      registers: [registry],
      collect() {
        if (fail) throw new Error('collector broke');
      },
    });
    const server = await startHttpServer({ port: 0, host: HOST, registry, health: new HealthTracker() });
    try {
      const res = await fetch(`http://${HOST}:${server.port}/metrics`);
      expect(res.status).toBe(500);
      expect(await res.text()).toBe('metrics collection failed\n');
      fail = false;
      expect((await fetch(`http://${HOST}:${server.port}/metrics`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('rejects a bad port, and a port already in use', async () => {
    const registry = new Registry();
    const health = new HealthTracker();
    const error = await startHttpServer({ port: 70000, registry, health }).catch((e: unknown) => e);
    expect(isObservabilityError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'BAD_OPTION', field: 'port' });

    const first = await startHttpServer({ port: 0, host: HOST, registry, health });
    try {
      await expect(startHttpServer({ port: first.port, host: HOST, registry, health })).rejects.toMatchObject({
        code: 'EADDRINUSE',
      });
    } finally {
      await first.close();
    }
  });
});
