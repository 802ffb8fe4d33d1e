/**
 * Worker-thread pools (piscina underneath) for the CPU-bound part of chunking.
 *
 * {@link ThreadPool} runs tasks on N threads, one piscina pool of one thread per lane. A lane sends its
 * tasks to its thread in submission order, at most two at a time (the next one waits at the thread, so
 * the thread does not idle while a reply crosses to the main thread and the next task comes back), and
 * the thread runs them in that order. Tasks with the same key (a Kafka partition) go to the same thread
 * while any of them is in flight, and so run in order. A key with nothing in flight is free to move to
 * the least loaded lane, so partitions spread over the threads and an idle thread picks up the next one.
 * A thread whose module fails to initialize fails {@link ThreadPool.ready}; a thread that dies (out of
 * memory, a crash in native code) fails the task it was running and the one waiting there, and piscina
 * starts a new thread.
 *
 * {@link PooledRecordHandler} is the streaming worker's {@link RecordHandler} on such a pool, and
 * {@link serveRecords} the thread side of it: records go to threads, outputs come back, and errors
 * cross the thread boundary as their failure class (transient stays transient, and the record whose
 * thread died is dead-lettered rather than retried forever).
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { classify, PoisonRecordError, RuntimeError, type FailureClass } from './errors.js';
import { inOrder, transferring } from './thread.js';
import {
  deadLetterRecord,
  type Headers,
  type InputMessage,
  type OutputMessage,
  type ProcessedRecord,
  type RecordHandler,
} from './process.js';

/** Threads used when the configuration does not say: one per CPU the process may use. */
export function defaultThreadCount(): number {
  return Math.max(1, availableParallelism());
}

export interface ThreadPoolOptions {
  /** The thread module (a file: URL or absolute path); its default export is the task handler or a Promise of it. */
  readonly filename: string;
  /** Number of threads (lanes). */
  readonly threads: number;
  /** Given to every thread (`workerData` from 'piscina'); structured-cloned. */
  readonly workerData: unknown;
  /**
   * Errors of a thread outside any task (e.g. a replacement thread whose module fails to load). The
   * tasks themselves still fail with their own errors. Default: ignored.
   */
  readonly onError?: (error: Error) => void;
}

/**
 * The file: URL of a thread module `name` (without extension) beside the calling module. Threads run
 * built JavaScript: when the caller is a TypeScript source (tests run sources), its `../dist/` twin.
 */
export function threadModuleUrl(callerUrl: string, name: string): string {
  const fromSource = callerUrl.endsWith('.ts') && callerUrl.includes('/src/');
  return new URL(fromSource ? `../dist/${name}.js` : `./${name}.js`, callerUrl).href;
}

/**
 * Tasks a lane has at its thread at once: the running one and the next. Piscina sends a task to the
 * thread at once when the thread has room for it (so in call order), and queues it otherwise, in a queue
 * that is not FIFO; a lane therefore never gives piscina more than the thread takes.
 */
const TASKS_AT_THREAD = 2;

interface Waiting {
  readonly task: unknown;
  readonly transferList: ArrayBuffer[];
  readonly resolve: (reply: unknown) => void;
  readonly reject: (err: unknown) => void;
}

interface Lane {
  readonly pool: Piscina;
  /** Tasks given to this lane and not settled (at the thread or waiting here). */
  inFlight: number;
  /** Tasks sent to the thread and not settled. */
  atThread: number;
  /** Tasks not sent yet, in submission order. */
  readonly waiting: Waiting[];
}

export class ThreadPool<T, R> {
  private readonly lanes: Lane[];
  private readonly pinned = new Map<string, { lane: Lane; inFlight: number }>();
  /** Tasks without a key, not sent yet: the first thread with room takes the next one. */
  private readonly unkeyed: Waiting[] = [];
  private closed = false;

  constructor(options: ThreadPoolOptions) {
    const onError = options.onError ?? ((): void => undefined);
    if (!Number.isInteger(options.threads) || options.threads < 1) {
      throw new RuntimeError(`threads must be a positive integer, got ${options.threads}`);
    }
    this.lanes = Array.from({ length: options.threads }, () => ({
      pool: new Piscina({
        filename: options.filename,
        minThreads: 1,
        maxThreads: 1,
        idleTimeout: Number.POSITIVE_INFINITY,
        concurrentTasksPerWorker: TASKS_AT_THREAD,
        workerData: options.workerData,
        // piscina's wait and run time histograms: nothing reads them, and they cost every task.
        recordTiming: false,
      }),
      inFlight: 0,
      atThread: 0,
      waiting: [],
    }));
    // Without a listener, an 'error' event (a thread failing outside a task) would crash the process.
    for (const lane of this.lanes) {
      lane.pool.on('error', (e: unknown) => {
        if (!this.closed) onError(e instanceof Error ? e : new Error(String(e)));
      });
    }
  }

  /** Runs `probe` once on every thread (each thread has then loaded its module); rejects if one cannot start. */
  async ready(probe: T): Promise<R[]> {
    return this.broadcast(probe);
  }

  /** The number of threads. */
  get size(): number {
    return this.lanes.length;
  }

  /** Runs `task` on thread `index` (0 ≤ index < size), after the tasks already queued there. */
  runAt(index: number, task: T): Promise<R> {
    if (this.closed) return Promise.reject(new RuntimeError('the thread pool is closed'));
    const lane = this.lanes[index];
    if (lane === undefined) return Promise.reject(new RuntimeError(`no thread ${index} in a pool of ${this.size}`));
    return this.runOn(lane, task, []);
  }

  /** Runs `task` once on every thread, after the tasks already queued there; one reply per thread. */
  async broadcast(task: T): Promise<R[]> {
    if (this.closed) throw new RuntimeError('the thread pool is closed');
    return Promise.all(this.lanes.map((lane) => this.runOn(lane, task, [])));
  }

  /**
   * Runs a task. Tasks with the same `key` run on one thread, in the order given, while any of them
   * is in flight; a task without a key goes to the first thread with room for it (so a thread that is
   * done early takes more, and no thread idles at the end while another has a queue).
   */
  run(task: T, key?: string, transferList: ArrayBuffer[] = []): Promise<R> {
    if (this.closed) return Promise.reject(new RuntimeError('the thread pool is closed'));
    if (key === undefined) {
      return new Promise<R>((resolve, reject) => {
        this.unkeyed.push({ task, transferList, resolve: resolve as (reply: unknown) => void, reject });
        for (const lane of this.lanes) this.send(lane);
      });
    }
    let pin = this.pinned.get(key);
    if (pin === undefined) {
      pin = { lane: this.leastLoaded(), inFlight: 0 };
      this.pinned.set(key, pin);
    }
    const held = pin;
    held.inFlight++;
    return this.runOn(held.lane, task, transferList).finally(() => {
      if (--held.inFlight === 0) this.pinned.delete(key);
    });
  }

  /** Stops the threads; tasks still queued are rejected. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const closed = new RuntimeError('the thread pool is closed');
    for (const w of this.unkeyed.splice(0)) w.reject(closed);
    for (const lane of this.lanes) for (const w of lane.waiting.splice(0)) w.reject(closed);
    await Promise.all(this.lanes.map((lane) => lane.pool.destroy()));
  }

  private leastLoaded(): Lane {
    let best = this.lanes[0] as Lane;
    for (const lane of this.lanes) if (lane.inFlight < best.inFlight) best = lane;
    return best;
  }

  private runOn(lane: Lane, task: T, transferList: ArrayBuffer[]): Promise<R> {
    lane.inFlight++;
    const done = new Promise<R>((resolve, reject) => {
      lane.waiting.push({ task, transferList, resolve: resolve as (reply: unknown) => void, reject });
      this.send(lane);
    });
    return done.finally(() => {
      lane.inFlight--;
    });
  }

  /** Sends waiting tasks to the lane's thread while it has room: its own in order, then unkeyed ones. */
  private send(lane: Lane): void {
    while (lane.atThread < TASKS_AT_THREAD && !this.closed) {
      const own = lane.waiting.shift();
      const task = own ?? this.unkeyed.shift();
      if (task === undefined) return;
      // An unkeyed task counts on the lane that takes it (key placement looks at it) until it settles.
      const unkeyed = own === undefined;
      if (unkeyed) lane.inFlight++;
      lane.atThread++;
      const options = task.transferList.length === 0 ? {} : { transferList: task.transferList };
      void (lane.pool.run(task.task, options) as Promise<unknown>).then(task.resolve, task.reject).finally(() => {
        lane.atThread--;
        if (unkeyed) lane.inFlight--;
        this.send(lane);
      });
    }
  }
}

/** What the streaming worker sends to a record thread: records of one partition, in offset order. */
export type RecordTask =
  { readonly kind: 'probe' } | { readonly kind: 'records'; readonly msgs: readonly InputMessage[] };

/** What a record thread answers. */
export type RecordReply =
  | { readonly kind: 'probe'; readonly info: Readonly<Record<string, string>> }
  | { readonly kind: 'ok'; readonly outs: readonly ProcessedRecord[] }
  | { readonly kind: 'error'; readonly failure: FailureClass; readonly name: string; readonly message: string };

/**
 * The thread side: the default export of a record thread module is `serveRecords(processor, info)`.
 * `info` is answered to the start-up probe (e.g. the tokenizer id and chunker fingerprint for logs).
 */
export function serveRecords(
  handler: RecordHandler,
  info: Readonly<Record<string, string>>,
): (task: RecordTask) => Promise<RecordReply> {
  return inOrder(async (task: RecordTask): Promise<RecordReply> => {
    if (task.kind === 'probe') return { kind: 'probe', info };
    try {
      const outs = await handler.processAll(task.msgs.map((msg) => mapInput(msg, asBuffer)));
      const packed = packBuffers(outs, mapProcessed);
      return transferring({ kind: 'ok', outs: packed.items }, [packed.slab]);
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      return { kind: 'error', failure: classify(err), name: e.name, message: e.message };
    }
  });
}

/**
 * The streaming worker's record handler on a {@link ThreadPool}: a partition's records go to one
 * thread as one task (one message each way, not one per record: at a few KB a record, per-message
 * overhead cost more than the second thread gained).
 */
export class PooledRecordHandler implements RecordHandler {
  constructor(
    private readonly pool: ThreadPool<RecordTask, RecordReply>,
    private readonly dlqTopic: string,
  ) {}

  async processAll(msgs: readonly InputMessage[]): Promise<ProcessedRecord[]> {
    const first = msgs[0];
    if (first === undefined) return [];
    const t0 = performance.now();
    const sent = packBuffers(msgs, mapInput);
    let reply: RecordReply;
    try {
      reply = await this.pool.run({ kind: 'records', msgs: sent.items }, `${first.topic}-${first.partition}`, [
        sent.slab,
      ]);
    } catch (err) {
      // The thread died (e.g. over its memory limit) on one of these records. One by one, the record
      // that kills a thread again is dead-lettered: it would kill every next thread too.
      if (msgs.length > 1) {
        const outs: ProcessedRecord[] = [];
        for (const msg of msgs) outs.push(...(await this.processAll([msg])));
        return outs;
      }
      const message = `the chunking thread failed on this record: ${err instanceof Error ? err.message : String(err)}`;
      return [
        {
          ...deadLetterRecord(first, this.dlqTopic, new PoisonRecordError('CHUNKING_FAILED', 'chunk', message, err)),
          processingMs: performance.now() - t0,
        },
      ];
    }
    if (reply.kind === 'error') {
      throw new RuntimeError(`${reply.name}: ${reply.message}`, { retriable: reply.failure === 'transient' });
    }
    if (reply.kind !== 'ok') throw new RuntimeError(`unexpected reply from a record thread: ${reply.kind}`);
    return reply.outs.map((out) => mapProcessed(out, asBuffer));
  }
}

// ---- moving buffers across threads ----------------------------------------------------------------
// A Buffer handed to postMessage is cloned with its whole ArrayBuffer: a kafkajs message value is a
// view into the fetch response (megabytes), avsc output a view into an 8 KiB slab. So the buffers of a
// task (its records' keys, values and header values), and those of its reply, are copied into one
// ArrayBuffer of exactly their size that is transferred, not cloned, and arrive as views into it. One
// ArrayBuffer per message each way instead of one per buffer: an ArrayBuffer costs an allocation
// outside the heap and tracking by the garbage collector on both threads, and a 10 MB pass of 1-16 KB
// documents made about 9,000 of them on each side.

/** The Uint8Array fields of a record (key, value, header values), visited or replaced in order. */
type BufferMap = (b: Uint8Array) => Uint8Array;

/**
 * Copies the buffers `each` visits in `items` into one new ArrayBuffer: `each(item, f)` calls `f` on
 * every buffer of `item` and returns the item with each buffer replaced by `f`'s result. It is called
 * twice per item, to size and then to place. Returns the items with views into that buffer.
 */
function packBuffers<T>(items: readonly T[], each: (item: T, f: BufferMap) => T): { items: T[]; slab: ArrayBuffer } {
  let total = 0;
  const size: BufferMap = (b) => {
    total += b.byteLength;
    return b;
  };
  for (const item of items) each(item, size);
  const slab = new Uint8Array(total);
  let at = 0;
  const place: BufferMap = (b) => {
    const view = slab.subarray(at, at + b.byteLength);
    view.set(b);
    at += b.byteLength;
    return view;
  };
  return { items: items.map((item) => each(item, place)), slab: slab.buffer };
}

function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

function mapHeaders(headers: Headers | undefined, f: BufferMap): Headers | undefined {
  if (headers === undefined) return undefined;
  const out: Headers = {};
  const one = (v: Buffer | string): Buffer | string => (typeof v === 'string' ? v : (f(v) as Buffer));
  for (const [k, v] of Object.entries(headers)) {
    out[k] = v === undefined ? undefined : Array.isArray(v) ? v.map(one) : one(v);
  }
  return out;
}

function mapInput(msg: InputMessage, f: BufferMap): InputMessage {
  const headers = mapHeaders(msg.headers, f);
  return {
    topic: msg.topic,
    partition: msg.partition,
    offset: msg.offset,
    key: msg.key === null ? null : (f(msg.key) as Buffer),
    value: msg.value === null ? null : (f(msg.value) as Buffer),
    ...(headers === undefined ? {} : { headers }),
  };
}

function mapOutput(m: OutputMessage, f: BufferMap): OutputMessage {
  const headers = mapHeaders(m.headers, f);
  return {
    topic: m.topic,
    key: m.key === null ? null : (f(m.key) as Buffer),
    value: m.value === null ? null : (f(m.value) as Buffer),
    ...(headers === undefined ? {} : { headers }),
  };
}

/** A processed record with its output messages' buffers mapped (its counts kept). */
function mapProcessed(out: ProcessedRecord, f: BufferMap): ProcessedRecord {
  return { ...out, messages: out.messages.map((m) => mapOutput(m, f)) };
}
