/** The process streams the CLI writes to, passed in so tests can capture them. */

/** Something text can be written to (a stream, or an array in a test). */
export interface TextSink {
  write(text: string): unknown;
}

/** Where the CLI writes. `main.ts` builds this from the process; tests build their own. */
export interface CliIo {
  readonly stdout: TextSink;
  readonly stderr: TextSink;
  /**
   * The terminal for the progress bar, or `undefined` when stderr is not a terminal (then no bar is
   * drawn). The bar is drawn on stderr only, never on stdout.
   */
  readonly progressTerminal?: NodeJS.WriteStream | undefined;
  /** Environment variables a command may read (KAFKA_BROKERS for `ingest`). @default none */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * A signal that aborts when the user asks a long-running command to stop (SIGINT, SIGTERM). Only
   * commands that stop cleanly call it; main.ts installs the signal handlers on the first call, so
   * other commands keep the default behaviour of those signals. @default none (never aborts)
   */
  readonly stopSignal?: () => AbortSignal;
}

/** The process's own streams. */
export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    progressTerminal: process.stderr.isTTY ? process.stderr : undefined,
    env: process.env,
  };
}
