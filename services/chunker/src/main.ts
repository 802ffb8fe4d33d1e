#!/usr/bin/env node
/**
 * `chunkline-worker` (the container's entry): configuration from the environment, start, and OS
 * signals wired once here, before anything starts. SIGTERM or SIGINT stops gracefully within
 * CHUNKLINE_SHUTDOWN_TIMEOUT_MS (exit 0); while the worker is still starting (nothing in flight) it
 * exits 0 at once. A second signal, or the deadline, forces exit 1 with a log line saying so.
 */
import { startWorker, type RunningWorker } from './app.js';
import { ConfigError, loadConfig } from './config.js';

async function main(): Promise<number> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`chunkline-worker: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  let signals = 0;
  /** Set once the worker has started; signals before that stop it as soon as it has. */
  const started: { worker?: RunningWorker } = {};
  let resolveExit: (code: number) => void = () => undefined;
  const exit = new Promise<number>((resolve) => {
    resolveExit = resolve;
  });
  const stop = (w: RunningWorker): void => {
    w.stop().then(
      () => {
        w.logger.info('stopped cleanly');
        resolveExit(0);
      },
      (err: unknown) => {
        w.logger.error({ err }, 'shutdown failed; forcing exit');
        resolveExit(1);
      },
    );
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      (started.worker?.logger ?? console).error(
        { signal },
        'second signal: forcing exit without finishing the shutdown',
      );
      resolveExit(1);
      return;
    }
    const w = started.worker;
    if (w === undefined) {
      // Still starting: nothing is in flight or uncommitted yet, so leaving now loses nothing.
      process.stderr.write(`chunkline-worker: ${signal} while starting: exiting\n`);
      resolveExit(0);
      return;
    }
    w.logger.info({ signal }, 'stopping: finishing the batch in flight, then disconnecting');
    stop(w);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  const startup = startWorker(config).then((worker) => {
    started.worker = worker;
    if (signals > 0) {
      worker.logger.info('a stop signal arrived while starting: stopping now');
      stop(worker);
    }
    const poll = setInterval(() => {
      if (worker.worker.state === 'FAILED') {
        clearInterval(poll);
        worker.logger.error('worker failed; exiting');
        resolveExit(1);
      }
    }, 500);
    poll.unref();
  });
  return Promise.race([exit, startup.then(() => exit)]);
}

main().then(
  (code) => {
    process.exitCode = code;
    // Give pino a moment to flush, then leave even if a socket lingers.
    setTimeout(() => process.exit(code), 200).unref();
  },
  (err: unknown) => {
    process.stderr.write(
      `chunkline-worker: failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
