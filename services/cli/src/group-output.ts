/**
 * Output files that the chunking threads of `chunkline chunk --threads N` write themselves, each group's
 * bytes at its offsets in input order.
 *
 * Before, every group's encoded records went back to the main thread (a transferred buffer) to be
 * written there: the buffers' memory was counted against the main thread's heap and freed by its
 * collector, on V8's helper threads, which took CPU from the chunking threads. A whole run on 160 MB in
 * 1-16 KB files, old and new builds interleaved: 24.3-25.4 -> 25.9-26.9 MB/s with one thread,
 * 34.1-36.8 -> 37.1-37.7 MB/s with two; the output is the same.
 *
 * How a group gets written:
 * 1. A thread takes the next group from a shared counter (`ClaimCursor.claim`), chunks it, encodes its
 *    records, keeps the bytes and publishes their sizes (`sizes`, then `state` GROUP_SIZED).
 * 2. Whichever thread finds the group after the last placed one sized places it, and every sized group
 *    after it, under a lock: it knows where every earlier group ends (`ends`), so it sets each group's
 *    offsets (`offsets`, one per output file) and then marks the group placed (`state`, Atomics.store:
 *    the thread that reads the mark with Atomics.load then sees the offsets).
 * 3. Each thread writes its placed groups (positional writes to the temporary files) after each group
 *    and, once no group is left to claim, waits until the rest of its groups are placed and writes them.
 *    It marks each one written.
 * The main thread only gets each thread's file summaries, about five times a second per thread. Before
 * the threads claimed groups, it sent every group as a task and placed it when the answer came: its
 * wake-up for each answer took a core from a chunking thread. A whole run on 160 MB, old and new builds
 * interleaved, 4 runs each: 4.03-4.47 -> 3.80-4.17 s with two threads, 5.93-7.50 -> 5.83-6.34 s with one.
 *
 * When a thread dies, the main thread stops the claiming (`stop`), chunks again the groups the dead
 * thread held that were placed (the output is the same for the same files) and writes them itself, and
 * sends the groups not placed yet to the threads one at a time, placing each itself (`place`) in input
 * order, as before claiming.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

/** A group's state in {@link GroupOutputs.state}. */
export const GROUP_PENDING = 0;
export const GROUP_PLACED = 1;
export const GROUP_WRITTEN = 2;
/** Chunked by a thread that claimed it, sizes known, not placed yet (see {@link ClaimCursor}). */
export const GROUP_SIZED = 3;

/** Int32 fields of {@link GroupOutputs.claims}. */
const NEXT = 0; // the next group to claim
const FRONTIER = 1; // every group before it is placed
const STOP = 2; // 1: claim no more (a thread died, or a write failed)
const LOCK = 3; // 1 while a thread places groups
const CLAIM_FIELDS = 4;

/** The output files, in the order of a group's sizes and offsets. */
export const OUTPUT_NAMES = ['chunks', 'sections', 'manifests'] as const;
const OUTPUTS = OUTPUT_NAMES.length;

/** What the threads are given to write groups (structured-clonable). */
export interface GroupOutputs {
  /** Tells one run's outputs from another's (a thread may serve several runs, as in the benchmark). */
  readonly id: string;
  /** The temporary file of each output (null: not asked for), which every thread opens for writing. */
  readonly paths: readonly (string | null)[];
  /** Int32 per group: {@link GROUP_PENDING}, {@link GROUP_SIZED}, {@link GROUP_PLACED} or {@link GROUP_WRITTEN}. */
  readonly state: SharedArrayBuffer;
  /** Float64 per group and output: the byte offset of the group's bytes in that output file. */
  readonly offsets: SharedArrayBuffer;
  /** Float64 per group and output: the size of the group's bytes in that output file, once known. */
  readonly sizes: SharedArrayBuffer;
  /** Float64 per output: where the next group to place starts. */
  readonly ends: SharedArrayBuffer;
  /** Int32 claim fields: the next group to claim, the placement frontier, stop, the placement lock. */
  readonly claims: SharedArrayBuffer;
}

/** A group's encoded bytes per output (null: not asked for). */
export type GroupBytes = readonly (Uint8Array | null)[];

/** Typed views of a run's shared buffers (the main thread and every chunking thread make their own). */
interface Views {
  readonly state: Int32Array;
  readonly offsets: Float64Array;
  readonly sizes: Float64Array;
  readonly ends: Float64Array;
  readonly claims: Int32Array;
}

function viewsOf(outputs: GroupOutputs): Views {
  return {
    state: new Int32Array(outputs.state),
    offsets: new Float64Array(outputs.offsets),
    sizes: new Float64Array(outputs.sizes),
    ends: new Float64Array(outputs.ends),
    claims: new Int32Array(outputs.claims),
  };
}

/**
 * Places group `g`, the one at the frontier, whose sizes are in `sizes`: it starts where the groups
 * before it end. The offsets are set before the mark (Atomics.store), so a thread that reads the mark
 * with Atomics.load sees them. Only one thread places at a time (the main thread, or a claiming thread
 * holding the lock).
 */
function placeAt(v: Views, g: number): void {
  for (let k = 0; k < OUTPUTS; k++) {
    const end = v.ends[k] as number;
    v.offsets[OUTPUTS * g + k] = end;
    v.ends[k] = end + (v.sizes[OUTPUTS * g + k] as number);
  }
  Atomics.store(v.state, g, GROUP_PLACED);
  Atomics.store(v.claims, FRONTIER, g + 1);
}

let runs = 0;

/** The main thread's side: sets offsets in input order, writes the groups it chunked itself. */
export class GroupPlacement {
  readonly outputs: GroupOutputs;
  private readonly v: Views;
  private fds: (number | null)[] | null = null;

  /**
   * `paths`: each output's temporary file (null when not asked for); `starts`: the bytes already in
   * each (an Avro header); `groups`: how many groups the run has.
   */
  constructor(paths: readonly (string | null)[], starts: readonly number[], groups: number) {
    this.outputs = {
      id: `${process.pid}-${++runs}`,
      paths: [...paths],
      state: new SharedArrayBuffer(4 * groups),
      offsets: new SharedArrayBuffer(8 * OUTPUTS * groups),
      sizes: new SharedArrayBuffer(8 * OUTPUTS * groups),
      ends: new SharedArrayBuffer(8 * OUTPUTS),
      claims: new SharedArrayBuffer(4 * CLAIM_FIELDS),
    };
    this.v = viewsOf(this.outputs);
    this.v.ends.set(starts);
  }

  /** Groups placed so far: every group before this one (threads that claim groups move it too). */
  get frontier(): number {
    return Atomics.load(this.v.claims, FRONTIER);
  }

  /** Tells claiming threads to claim no more groups and to stop waiting. */
  stop(): void {
    Atomics.store(this.v.claims, STOP, 1);
    Atomics.notify(this.v.claims, FRONTIER);
  }

  /**
   * After the claiming threads have stopped: the groups from the frontier on are not placed (a thread
   * may have chunked some and dropped them); they become pending again, to be chunked and placed anew.
   */
  reopenFromFrontier(): void {
    for (let g = this.frontier; g < this.v.state.length; g++) Atomics.store(this.v.state, g, GROUP_PENDING);
    Atomics.store(this.v.claims, NEXT, this.v.state.length);
  }

  /** Places group `g` (the next in input order) with these sizes; returns its offsets. */
  place(g: number, sizes: readonly number[]): number[] {
    for (let k = 0; k < OUTPUTS; k++) this.v.sizes[OUTPUTS * g + k] = sizes[k] ?? 0;
    placeAt(this.v, g);
    return this.offsetsOf(g);
  }

  /** Places group `g` (the next in input order) and writes its bytes from this thread. */
  placeAndWrite(g: number, bytes: GroupBytes): void {
    this.writeAt(
      g,
      this.place(
        g,
        bytes.map((b) => b?.byteLength ?? 0),
      ),
      bytes,
    );
  }

  /** Writes bytes of placed group `g` (chunked again here) at its offsets; they must have its sizes. */
  rewrite(g: number, bytes: GroupBytes): void {
    const at = this.offsetsOf(g);
    for (const [k, b] of bytes.entries()) {
      const size = this.v.sizes[OUTPUTS * g + k] as number;
      if ((b?.byteLength ?? 0) !== size) {
        throw new Error(
          `group ${g} chunked again gave ${b?.byteLength ?? 0} bytes for ${OUTPUT_NAMES[k]}, not ${size}`,
        );
      }
    }
    this.writeAt(g, at, bytes);
  }

  private offsetsOf(g: number): number[] {
    return OUTPUT_NAMES.map((_, k) => this.v.offsets[OUTPUTS * g + k] as number);
  }

  private writeAt(g: number, at: readonly number[], bytes: GroupBytes): void {
    this.fds ??= openForWriting(this.outputs.paths);
    for (const [k, b] of bytes.entries()) {
      const fd = this.fds[k];
      if (b !== null && b !== undefined && fd !== null && fd !== undefined) writeFully(fd, b, at[k] as number);
    }
    Atomics.store(this.v.state, g, GROUP_WRITTEN);
  }

  /** Whether group `g` is not written (yet, or because its thread died first). */
  isUnwritten(g: number): boolean {
    return Atomics.load(this.v.state, g) !== GROUP_WRITTEN;
  }

  /** Groups placed but not written (their thread died first). */
  unwritten(): number[] {
    const out: number[] = [];
    for (let g = 0; g < this.v.state.length; g++) if (this.isUnwritten(g)) out.push(g);
    return out;
  }

  /** Closes the main thread's own handles (the files stay). */
  close(): void {
    for (const fd of this.fds ?? []) if (fd !== null) closeSync(fd);
    this.fds = null;
  }
}

/** A descriptor open for writing on each file (null for null); none stays open when one fails. */
function openForWriting(paths: readonly (string | null)[]): (number | null)[] {
  const fds: (number | null)[] = [];
  try {
    for (const p of paths) fds.push(p === null ? null : openSync(p, 'r+'));
  } catch (err) {
    for (const fd of fds) if (fd !== null) closeSync(fd);
    throw err;
  }
  return fds;
}

/** Writes all of `bytes` at `position` (a write may take fewer bytes than it is given). */
function writeFully(fd: number, bytes: Uint8Array, position: number): void {
  for (let done = 0; done < bytes.byteLength;) {
    done += writeSync(fd, bytes, done, bytes.byteLength - done, position + done);
  }
}

/** A chunking thread's side: keeps its groups' bytes until they are placed, then writes them. */
export class ThreadGroupWriter {
  private readonly v: Views;
  private readonly fds: (number | null)[];
  private readonly pending: { g: number; bytes: GroupBytes }[] = [];
  /** The first write that failed (the run fails with it); nothing is written after it. */
  private failure: string | null = null;

  constructor(readonly outputs: GroupOutputs) {
    this.v = viewsOf(outputs);
    this.fds = openForWriting(outputs.paths);
  }

  /** Keeps group `g`'s bytes until it is placed. */
  add(g: number, bytes: GroupBytes): void {
    this.pending.push({ g, bytes });
  }

  /** Writes the groups that are placed (in order: a group is placed only after the ones before it). */
  writePlaced(): void {
    while (this.failure === null && this.pending.length > 0) {
      const { g, bytes } = this.pending[0] as { g: number; bytes: GroupBytes };
      if (Atomics.load(this.v.state, g) !== GROUP_PLACED) return;
      for (const [k, b] of bytes.entries()) {
        const fd = this.fds[k];
        if (b === null || b === undefined || fd === null || fd === undefined) continue;
        try {
          writeFully(fd, b, this.v.offsets[OUTPUTS * g + k] as number);
        } catch (err) {
          this.failure = `cannot write the ${OUTPUT_NAMES[k]} file ${this.outputs.paths[k]}: ${(err as Error).message}`;
          return;
        }
      }
      Atomics.store(this.v.state, g, GROUP_WRITTEN);
      this.pending.shift();
    }
  }

  /** Why writing failed, if it did. */
  get error(): string | null {
    return this.failure;
  }

  /** Groups kept and not written yet. */
  get waiting(): number {
    return this.pending.length;
  }

  /** Drops the groups kept and not placed (the main thread chunks them again). */
  dropUnplaced(): void {
    const placed = this.pending.filter(({ g }) => Atomics.load(this.v.state, g) === GROUP_PLACED);
    this.pending.length = 0;
    this.pending.push(...placed);
  }

  /** Closes the files (the groups not written are dropped: the main thread rewrites them). */
  close(): void {
    for (const fd of this.fds) if (fd !== null) closeSync(fd);
    this.fds.length = 0;
    this.pending.length = 0;
  }
}

/**
 * A thread's side of claiming: the threads take the next group from a shared counter instead of being
 * sent one, publish its sizes, and place the groups in input order themselves (whichever thread finds
 * the next group sized places it and all the sized ones after it, under a lock), so the main thread is
 * not woken for each group. At most `window` groups past the frontier are claimed, so a thread waits
 * rather than holding more than a few groups' bytes when an earlier group is slow.
 */
export class ClaimCursor {
  private readonly v: Views;

  constructor(
    outputs: GroupOutputs,
    private readonly window: number,
  ) {
    this.v = viewsOf(outputs);
  }

  get stopped(): boolean {
    return Atomics.load(this.v.claims, STOP) !== 0;
  }

  /** Every group before this one is placed. */
  get frontier(): number {
    return Atomics.load(this.v.claims, FRONTIER);
  }

  /**
   * The next group to chunk, once there is room for it within the window; null when every group is
   * claimed or the run stopped (a group claimed when the run stops stays pending: the main thread does it).
   */
  claim(): number | null {
    if (this.stopped) return null;
    const g = Atomics.add(this.v.claims, NEXT, 1);
    if (g >= this.v.state.length) return null;
    for (;;) {
      const frontier = this.frontier;
      if (g < frontier + this.window) return g;
      if (this.stopped) return null;
      Atomics.wait(this.v.claims, FRONTIER, frontier, 50);
    }
  }

  /** Publishes group `g`'s sizes, then places every sized group at the frontier. */
  sized(g: number, sizes: readonly number[]): void {
    for (let k = 0; k < OUTPUTS; k++) this.v.sizes[OUTPUTS * g + k] = sizes[k] ?? 0;
    Atomics.store(this.v.state, g, GROUP_SIZED);
    this.advance();
  }

  /** Places the sized groups at the frontier, if another thread is not doing it already. */
  advance(): void {
    const { state, claims } = this.v;
    if (Atomics.compareExchange(claims, LOCK, 0, 1) !== 0) return;
    const start = this.frontier;
    let frontier = start;
    while (frontier < state.length && Atomics.load(state, frontier) === GROUP_SIZED) placeAt(this.v, frontier++);
    Atomics.store(claims, LOCK, 0);
    if (frontier > start) Atomics.notify(claims, FRONTIER);
    // A group sized while this thread held the lock is placed by the next call (its thread found the
    // lock taken); check once more so that it does not wait for that.
    if (frontier < state.length && Atomics.load(state, frontier) === GROUP_SIZED) this.advance();
  }

  /** Waits (at most `ms`) for the frontier to move past `frontier`, or for the run to stop. */
  waitPast(frontier: number, ms: number): void {
    if (!this.stopped && this.frontier === frontier) Atomics.wait(this.v.claims, FRONTIER, frontier, ms);
  }
}
