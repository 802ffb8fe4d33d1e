import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { ObservabilityError } from './errors.js';
import type { HealthTracker } from './health.js';

/** Options of {@link startHttpServer}. */
export interface HttpServerOptions {
  /** TCP port; 0 picks a free one (read it back from {@link HttpServer.port}). */
  port: number;
  /** Interface to listen on. @default '0.0.0.0' */
  host?: string;
  /** Served at `/metrics`, usually the registry from `createMetrics`. */
  registry: Registry;
  /** Answers `/healthz` and `/readyz`. */
  health: HealthTracker;
  /** Where failures to collect metrics and server errors are reported. @default none (they are only answered) */
  logger?: Logger;
}

/** A listening server from {@link startHttpServer}. */
export interface HttpServer {
  /** The port actually bound (the chosen one when the option was 0). */
  readonly port: number;
  /** Stops listening and drops open connections (probes and scrapes are short). Idempotent: returns the same promise. */
  close(): Promise<void>;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const TEXT_TYPE = 'text/plain; charset=utf-8';

/**
 * Serves, over plain node:http:
 * - `GET /metrics`: the registry in its content type; 500 with a short message if collection fails;
 * - `GET /healthz`: 200 `{"status":"alive"}`, or 503 `{"status":"dead","state":…}` (see {@link HealthTracker});
 * - `GET /readyz`: 200 or 503, with `HealthTracker.details()` and `status` (`ready` or `not-ready`) as JSON.
 *
 * `HEAD` is answered like `GET` without a body; other methods on these paths get 405, other paths 404.
 * Query strings are ignored. A failing request never takes the process down.
 * @throws ObservabilityError `BAD_OPTION` for a port outside 0–65535; rejects if the port cannot be bound.
 */
export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const { port, registry, health, logger } = options;
  const host = options.host ?? '0.0.0.0';
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ObservabilityError(
      'BAD_OPTION',
      'port',
      `port must be an integer from 0 to 65535 (0 picks a free one), got ${JSON.stringify(port)}`,
    );
  }

  const server = createServer((req, res) => {
    handle(req, res, registry, health, logger).catch((error: unknown) => {
      logger?.error({ err: error, url: req.url }, 'observability http handler failed');
      if (res.headersSent) res.destroy();
      else send(res, req, 500, TEXT_TYPE, 'internal error\n');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // After listening, an error event without a handler would crash the process.
  server.on('error', (error) => logger?.error({ err: error }, 'observability http server error'));

  const boundPort = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    port: boundPort,
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  registry: Registry,
  health: HealthTracker,
  logger: Logger | undefined,
): Promise<void> {
  const path = pathOf(req.url);
  if (path !== '/metrics' && path !== '/healthz' && path !== '/readyz') {
    send(res, req, 404, TEXT_TYPE, 'not found\n');
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    send(res, req, 405, TEXT_TYPE, 'method not allowed\n');
    return;
  }
  if (path === '/metrics') {
    let body: string;
    try {
      body = await registry.metrics();
    } catch (error) {
      logger?.error({ err: error }, 'metrics collection failed');
      send(res, req, 500, TEXT_TYPE, 'metrics collection failed\n');
      return;
    }
    send(res, req, 200, registry.contentType, body);
  } else if (path === '/healthz') {
    const alive = health.alive();
    const body = alive ? { status: 'alive' } : { status: 'dead', state: health.details().state };
    send(res, req, alive ? 200 : 503, JSON_TYPE, JSON.stringify(body));
  } else {
    const details = health.details();
    const body = { status: details.ready ? 'ready' : 'not-ready', ...details };
    send(res, req, details.ready ? 200 : 503, JSON_TYPE, JSON.stringify(body));
  }
}

/** The path of a request target without its query string; '' when it cannot be parsed. */
function pathOf(url: string | undefined): string {
  try {
    return new URL(url ?? '/', 'http://localhost').pathname;
  } catch {
    return ''; // Answered with 404.
  }
}

function send(res: ServerResponse, req: IncomingMessage, status: number, contentType: string, body: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.setHeader('Cache-Control', 'no-store');
  res.end(req.method === 'HEAD' ? undefined : body);
}
