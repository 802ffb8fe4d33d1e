#!/usr/bin/env node
/**
 * `chunkline-indexer`: configuration from the environment, start, and OS signals wired once here.
 * SIGTERM or SIGINT stops gracefully within CHUNKLINE_SHUTDOWN_TIMEOUT_MS (exit 0); a second signal, the
 * deadline or a consumer that gives up exits 1 with a log line saying so. A bad configuration exits 2.
 */
import { ConfigError, loadIndexerConfig } from './config.js';
import { startIndexer } from './app.js';

async function main(): Promise<number> {
  let config;
  try {
    config = loadIndexerConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`chunkline-indexer: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const running = await startIndexer(config);
  const log = running.logger;
  return await new Promise<number>((resolve) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals): void => {
      signals++;
      if (signals > 1) {
        log.error({ signal }, 'second signal: forcing exit without finishing the shutdown');
        resolve(1);
        return;
      }
      log.info({ signal }, 'stopping: finishing the batch in flight, then disconnecting');
      running.stop().then(
        () => {
          log.info({ counters: running.indexer.counters }, 'stopped cleanly');
          resolve(0);
        },
        (err: unknown) => {
          log.error({ err }, 'shutdown failed; forcing exit');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    const poll = setInterval(() => {
      if (running.indexer.state === 'FAILED') {
        clearInterval(poll);
        log.error('indexer failed; exiting');
        void running.stop().finally(() => resolve(1));
      }
    }, 500);
    poll.unref();
  });
}

main().then(
  (code) => {
    process.exitCode = code;
    // Give pino a moment to flush, then leave even if a socket lingers.
    setTimeout(() => process.exit(code), 200).unref();
  },
  (err: unknown) => {
    process.stderr.write(
      `chunkline-indexer: failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
