/** The whole `chunkline` command as a function of argv and streams, so tests run it in-process. */
import { parseCommandLine } from './args.js';
import { runChunkCommand } from './chunk-command.js';
import { runContextPackCommand, runContextPlanCommand } from './context-commands.js';
import { runInspectCommand } from './inspect-command.js';
import type { CliIo } from './io.js';
import { runNiahCheckCommand, runNiahGenerateCommand, runNiahPromptsCommand } from './niah-commands.js';
import { EXIT_FAILED, EXIT_USAGE, FileError, UsageError } from './usage.js';

/**
 * Parses `argv` (the arguments after the program name), runs the command and returns the exit code:
 * 0 ok, 1 some input failed or an unexpected error, 2 usage error.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    const parsed = parseCommandLine(argv, io);
    switch (parsed.kind) {
      case 'exit':
        return parsed.exitCode;
      case 'inspect':
        return await runInspectCommand(parsed.file, io);
      case 'chunk':
        return await runChunkCommand(parsed.options, io);
      case 'context-plan':
        return await runContextPlanCommand(parsed.options, io);
      case 'context-pack':
        return await runContextPackCommand(parsed.options, io);
      case 'niah-generate':
        return await runNiahGenerateCommand(parsed.options, io);
      case 'niah-check':
        return await runNiahCheckCommand(parsed.options, io);
      case 'niah-prompts':
        return await runNiahPromptsCommand(parsed.options, io);
      // Loaded on demand: Kafka and SQLite are needed by these two commands only.
      case 'ingest':
        return await (await import('./ingest-command.js')).runIngestCommand(parsed.options, io);
      case 'search':
        return await (await import('./search-command.js')).runSearchCommand(parsed.options, io);
    }
  } catch (err) {
    // Errors a command throws to end with a known exit code; their message names the flag and file.
    if (err instanceof UsageError || err instanceof FileError) {
      io.stderr.write(`error: ${err.message}\n`);
      return err instanceof UsageError ? EXIT_USAGE : EXIT_FAILED;
    }
    // A bug or an environment failure (disk full…): report it whole, with its stack.
    io.stderr.write(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}
