/**
 * Thread-side helpers of the pool (pool.ts), in a module of their own so that a thread that needs only
 * these does not load the Kafka client (`@chunkline/runtime/thread`).
 */
import { move, transferableSymbol, valueSymbol } from 'piscina';

/**
 * The thread side's task handler, one task at a time in the order the tasks arrived: a task starts when
 * the one before it has settled, even when the handler awaits something (a schema registry lookup, a
 * file read). A pool lane sends a thread its next task before the current one is done.
 */
export function inOrder<T, R>(handler: (task: T) => Promise<R>): (task: T) => Promise<R> {
  let tail: Promise<unknown> = Promise.resolve();
  return (task) => {
    const run = tail.then(() => handler(task));
    tail = run.catch(() => undefined);
    return run;
  };
}

/**
 * A task handler's reply with `buffers` transferred rather than copied: piscina sends `reply` and moves
 * the buffers (views into them inside `reply` arrive as views into the moved buffers). The main thread
 * receives `reply` itself. Each buffer must be one no other code still uses (not Node's shared pool).
 */
export function transferring<R extends object>(reply: R, buffers: readonly ArrayBuffer[]): R {
  // piscina's move() marks an object holding the value and its transfer list; its type cannot say that
  // the main thread then receives the value.
  return move({ [transferableSymbol]: [...buffers], [valueSymbol]: reply }) as unknown as R;
}
