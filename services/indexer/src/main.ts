#!/usr/bin/env node
/**
 * `chunkline-indexer`: environment → configuration → indexer, under the shared service lifecycle
 * (@chunkline/runtime `runService`: signals wired before anything starts, graceful stop within
 * CHUNKLINE_SHUTDOWN_TIMEOUT_MS, exit 2 for a bad configuration, 1 when the consumer gives up).
 */
import { runService } from '@chunkline/runtime';
import { startIndexer } from './app.js';
import { loadIndexerConfig } from './config.js';

runService({
  name: 'chunkline-indexer',
  loadConfig: loadIndexerConfig,
  start: async (config) => {
    const running = await startIndexer(config);
    return {
      logger: running.logger,
      stop: () => running.stop(),
      failed: () => running.indexer.state === 'FAILED',
      stoppedFields: () => ({ counters: running.indexer.counters }),
    };
  },
});
