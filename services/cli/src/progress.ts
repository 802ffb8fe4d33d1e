/**
 * Progress on stderr: a cli-progress bar (files done/total, MB/s) when stderr is a terminal, and
 * plain lines otherwise. Messages go through {@link Progress.log} so they never break the bar.
 */
import cliProgress from 'cli-progress';
import type { CliIo } from './io.js';

export interface Progress {
  /** Writes one line (no trailing newline needed) to stderr. */
  log(line: string): void;
  /** One more file done, of `bytes` bytes. */
  advance(bytes: number): void;
  /** Removes the bar; later messages go straight to stderr. */
  stop(): void;
}

/** Megabytes (10^6 bytes) per second, for people. */
export function formatMbPerSecond(bytes: number, seconds: number): string {
  return seconds > 0 ? (bytes / 1e6 / seconds).toFixed(2) : '0.00';
}

/** How the bar reads. */
export interface ProgressStyle {
  /** The bar's first word. @default 'chunking' */
  readonly label?: string;
  /** Also show files per second under this name (`docs/s`). @default not shown */
  readonly filesPerSecondUnit?: string;
}

/** A bar when `io.progressTerminal` is set and `enabled`; otherwise plain stderr lines. */
export function createProgress(io: CliIo, totalFiles: number, enabled: boolean, style: ProgressStyle = {}): Progress {
  const terminal = io.progressTerminal;
  if (!enabled || terminal === undefined) {
    return { log: (line) => io.stderr.write(`${line}\n`), advance: () => {}, stop: () => {} };
  }
  const startMs = performance.now();
  let bytesDone = 0;
  let filesDone = 0;
  const rateUnit = style.filesPerSecondUnit;
  const multi = new cliProgress.MultiBar(
    {
      stream: terminal,
      format: `${style.label ?? 'chunking'} {bar} {value}/{total} files | ${rateUnit === undefined ? '' : `{fps} ${rateUnit}/s | `}{mbps} MB/s`,
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  const bar = multi.create(totalFiles, 0, { mbps: '0.00', fps: '0.0' });
  let active = true;
  return {
    log(line) {
      if (active) multi.log(`${line}\n`);
      else io.stderr.write(`${line}\n`);
    },
    advance(bytes) {
      bytesDone += bytes;
      filesDone += 1;
      const seconds = (performance.now() - startMs) / 1000;
      bar.increment(1, {
        mbps: formatMbPerSecond(bytesDone, seconds),
        fps: seconds > 0 ? (filesDone / seconds).toFixed(1) : '0.0',
      });
    },
    stop() {
      if (!active) return;
      active = false;
      multi.update(); // flushes logged lines, which stop() alone would drop
      multi.stop();
    },
  };
}
