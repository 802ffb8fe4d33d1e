#!/usr/bin/env node
/** Entry point of the `chunkline` binary: argv and process streams in, exit code out. */
import { runCli } from './cli.js';
import { processIo } from './io.js';

// exitCode rather than process.exit(), so buffered stderr is flushed before the process ends.
process.exitCode = await runCli(process.argv.slice(2), processIo());
