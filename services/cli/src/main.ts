#!/usr/bin/env node
/** Entry point of the `chunkline` binary: argv and process streams in, exit code out. */
import { runCli } from './cli.js';
import { processIo } from './io.js';

let stopController: AbortController | undefined;
/**
 * The stop signal of long-running commands (`ingest --watch`). The first call installs the handlers:
 * the first SIGINT or SIGTERM asks the command to stop cleanly; a second one exits at once (130).
 */
function stopSignal(): AbortSignal {
  if (stopController === undefined) {
    const controller = new AbortController();
    stopController = controller;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (controller.signal.aborted) {
        process.stderr.write(`chunkline: second ${signal}, exiting without finishing\n`);
        process.exit(130);
      }
      process.stderr.write(`chunkline: ${signal}, stopping (flushing what is in flight)\n`);
      controller.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  return stopController.signal;
}

// exitCode rather than process.exit(), so buffered stderr is flushed before the process ends.
process.exitCode = await runCli(process.argv.slice(2), { ...processIo(), stopSignal });
