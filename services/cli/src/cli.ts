/** The whole `chunkline` command as a function of argv and streams, so tests run it in-process. */
import { parseCommandLine } from './args.js';
import { runChunkCommand } from './chunk-command.js';
import { runInspectCommand } from './inspect-command.js';
import type { CliIo } from './io.js';

/**
 * Parses `argv` (the arguments after the program name), runs the command and returns the exit code:
 * 0 ok, 1 some files failed or an unexpected error, 2 usage error.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    const parsed = parseCommandLine(argv, io);
    if (parsed.kind === 'exit') return parsed.exitCode;
    if (parsed.kind === 'inspect') return await runInspectCommand(parsed.file, io);
    return await runChunkCommand(parsed.options, io);
  } catch (err) {
    // A bug or an environment failure (disk full…): report it whole, with its stack.
    io.stderr.write(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}
