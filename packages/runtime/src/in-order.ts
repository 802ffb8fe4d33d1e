/**
 * A thread-side helper of the pool (pool.ts), in a module of its own so that a thread that needs only
 * this does not load the Kafka client (`@chunkline/runtime/in-order`).
 */

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
