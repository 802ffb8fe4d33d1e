/**
 * The process lifecycle shared by chunkline's long-running services (the worker and the indexer):
 * configuration from the environment, start, and OS signals wired once, before anything starts.
 * - A bad configuration exits 2 with the message naming each variable.
 * - SIGTERM or SIGINT stops gracefully (exit 0); while the service is still starting nothing is in
 *   flight, so it exits 0 at once.
 * - A second signal, a failed shutdown (e.g. its deadline), or the service failing exits 1 with a log line.
 */
import { ConfigError } from './env.js';

/** The logging a service's main needs (pino's methods fit). */
export interface ServiceLogger {
  info(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** A started service, as its main sees it. */
export interface ServiceHandle {
  readonly logger: ServiceLogger;
  /** Graceful stop; the same promise on every call. */
  stop(): Promise<void>;
  /** True once the service has failed for good. */
  failed(): boolean;
  /** Extra fields for the "stopped cleanly" log line. */
  stoppedFields?(): object;
}

/** What {@link runService} runs. */
export interface ServiceDefinition<C> {
  /** Process name in messages, e.g. `chunkline-worker`. */
  readonly name: string;
  /** Parses the environment; throws a {@link ConfigError} for a bad configuration. */
  loadConfig(env: Readonly<Record<string, string | undefined>>): C;
  start(config: C): Promise<ServiceHandle>;
}

/** Resolves with the exit code. */
async function lifecycle<C>(
  def: ServiceDefinition<C>,
  env: Readonly<Record<string, string | undefined>>,
): Promise<number> {
  let config: C;
  try {
    config = def.loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${def.name}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  let signals = 0;
  const started: { service?: ServiceHandle } = {};
  let resolveExit: (code: number) => void = () => undefined;
  const exit = new Promise<number>((resolve) => {
    resolveExit = resolve;
  });
  const stop = (s: ServiceHandle): void => {
    s.stop().then(
      () => {
        s.logger.info(s.stoppedFields?.() ?? {}, 'stopped cleanly');
        resolveExit(0);
      },
      (err: unknown) => {
        s.logger.error({ err }, 'shutdown failed; forcing exit');
        resolveExit(1);
      },
    );
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    const s = started.service;
    if (signals > 1) {
      if (s !== undefined) s.logger.error({ signal }, 'second signal: forcing exit without finishing the shutdown');
      else process.stderr.write(`${def.name}: second ${signal}: forcing exit\n`);
      resolveExit(1);
      return;
    }
    if (s === undefined) {
      process.stderr.write(`${def.name}: ${signal} while starting: exiting\n`);
      resolveExit(0);
      return;
    }
    s.logger.info({ signal }, 'stopping: finishing the batch in flight, then disconnecting');
    stop(s);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  const startup = def.start(config).then((s) => {
    started.service = s;
    if (signals > 0) {
      s.logger.info({}, 'a stop signal arrived while starting: stopping now');
      stop(s);
    }
    const poll = setInterval(() => {
      if (!s.failed()) return;
      clearInterval(poll);
      s.logger.error({}, 'service failed; exiting');
      void s
        .stop()
        .catch(() => undefined)
        .finally(() => resolveExit(1));
    }, 500);
    poll.unref();
  });
  return Promise.race([exit, startup.then(() => exit)]);
}

/** Runs a service as the process's main: sets the exit code and exits when it is done. */
export function runService<C>(
  def: ServiceDefinition<C>,
  env: Readonly<Record<string, string | undefined>> = process.env,
): void {
  lifecycle(def, env).then(
    (code) => {
      process.exitCode = code;
      // Give the logger a moment to flush, then leave even if a socket lingers.
      setTimeout(() => process.exit(code), 200).unref();
    },
    (err: unknown) => {
      process.stderr.write(
        `${def.name}: failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      );
      process.exit(1);
    },
  );
}
