#!/usr/bin/env node
/**
 * `chunkline-worker` (the container's entry): environment → configuration → worker, under the shared
 * service lifecycle (@chunkline/runtime `runService`: signals wired before anything starts, graceful
 * stop within CHUNKLINE_SHUTDOWN_TIMEOUT_MS, exit 2 for a bad configuration, 1 on failure).
 */
import { runService } from '@chunkline/runtime';
import { startWorker } from './app.js';
import { loadConfig } from './config.js';

runService({
  name: 'chunkline-worker',
  loadConfig,
  start: async (config) => {
    const running = await startWorker(config);
    return { logger: running.logger, stop: () => running.stop(), failed: () => running.worker.state === 'FAILED' };
  },
});
