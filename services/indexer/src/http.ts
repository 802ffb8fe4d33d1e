/**
 * A small HTTP server for probes: `/healthz` (200 while the indexer is not FAILED), `/readyz` (200 once it
 * runs and has joined its group) and `/stats` (the counters and the index sizes, as JSON).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Indexer } from './indexer.js';

/** A listening probe server. */
export interface ProbeServer {
  readonly port: number;
  /** Stops listening. Idempotent. */
  close(): Promise<void>;
}

/** Serves the probes of `indexer` on `host:port` (0 picks a free port). */
export async function startProbeServer(indexer: Indexer, port: number, host: string): Promise<ProbeServer> {
  const server = createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    let status = 404;
    let body: unknown = { error: 'not found' };
    if (url === '/healthz') {
      const alive = indexer.state !== 'FAILED';
      status = alive ? 200 : 503;
      body = { status: alive ? 'alive' : 'dead', state: indexer.state };
    } else if (url === '/readyz') {
      status = indexer.ready ? 200 : 503;
      body = { status: indexer.ready ? 'ready' : 'not-ready', state: indexer.state };
    } else if (url === '/stats') {
      status = 200;
      let index: unknown = null;
      try {
        index = indexer.state === 'RUNNING' ? indexer.store.stats() : null;
      } catch (err) {
        index = { error: err instanceof Error ? err.message : String(err) };
      }
      body = { state: indexer.state, counters: indexer.counters, index };
    }
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(req.method === 'HEAD' ? undefined : `${JSON.stringify(body)}\n`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', () => undefined);
  let closing: Promise<void> | undefined;
  return {
    port: (server.address() as AddressInfo).port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
