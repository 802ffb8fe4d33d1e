/**
 * Output files that the chunking threads of `chunkline chunk --threads N` write themselves, each group's
 * bytes at the offsets the main thread gives it in input order.
 *
 * Before, every group's encoded records went back to the main thread (a transferred buffer) to be
 * written there: the buffers' memory was counted against the main thread's heap and freed by its
 * collector, on V8's helper threads, which took CPU from the chunking threads. A whole run on 160 MB in
 * 1-16 KB files, old and new builds interleaved: 24.3-25.4 -> 25.9-26.9 MB/s with one thread,
 * 34.1-36.8 -> 37.1-37.7 MB/s with two; the output is the same.
 *
 * How a group gets written:
 * 1. A thread chunks group g and encodes its records (as before), keeps the bytes and answers only
 *    their sizes.
 * 2. The main thread takes the answers in input order; for group g it knows where every earlier group
 *    ends, so it sets g's offsets (`offsets`, one per output file) and then marks g placed (`state`,
 *    Atomics.store: the thread that reads the mark with Atomics.load then sees the offsets).
 * 3. The thread writes its placed groups (positional writes to the temporary files) before and after
 *    each task, and all of them on `flush`, which the main thread sends when every group is placed. It
 *    marks each one written.
 * A group whose thread died before writing it stays unwritten; the main thread chunks it again (the
 * output is the same for the same files) and writes it itself.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

/** A group's state in {@link GroupOutputs.state}. */
export const GROUP_PENDING = 0;
export const GROUP_PLACED = 1;
export const GROUP_WRITTEN = 2;

/** The output files, in the order of a group's sizes and offsets. */
export const OUTPUT_NAMES = ['chunks', 'sections', 'manifests'] as const;
const OUTPUTS = OUTPUT_NAMES.length;

/** What the threads are given to write groups (structured-clonable). */
export interface GroupOutputs {
  /** Tells one run's outputs from another's (a thread may serve several runs, as in the benchmark). */
  readonly id: string;
  /** The temporary file of each output (null: not asked for), which every thread opens for writing. */
  readonly paths: readonly (string | null)[];
  /** Int32 per group: {@link GROUP_PENDING}, {@link GROUP_PLACED} or {@link GROUP_WRITTEN}. */
  readonly state: SharedArrayBuffer;
  /** Float64 per group and output: the byte offset of the group's bytes in that output file. */
  readonly offsets: SharedArrayBuffer;
}

/** A group's encoded bytes per output (null: not asked for). */
export type GroupBytes = readonly (Uint8Array | null)[];

let runs = 0;

/** The main thread's side: sets offsets in input order, writes the groups it chunked itself. */
export class GroupPlacement {
  readonly outputs: GroupOutputs;
  private readonly state: Int32Array;
  private readonly offsets: Float64Array;
  /** Where the next placed group starts, per output. */
  private readonly ends: number[];
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
    };
    this.state = new Int32Array(this.outputs.state);
    this.offsets = new Float64Array(this.outputs.offsets);
    this.ends = [...starts];
  }

  /** Places group `g` (the next in input order) with these sizes; returns its offsets. */
  place(g: number, sizes: readonly number[]): number[] {
    const at = this.ends.map((end, k) => {
      this.offsets[OUTPUTS * g + k] = end;
      this.ends[k] = end + (sizes[k] ?? 0);
      return end;
    });
    Atomics.store(this.state, g, GROUP_PLACED);
    return at;
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
    const next = g + 1 < this.state.length ? this.offsetsOf(g + 1) : this.ends;
    for (const [k, b] of bytes.entries()) {
      const size = (next[k] as number) - (at[k] as number);
      if ((b?.byteLength ?? 0) !== size) {
        throw new Error(
          `group ${g} chunked again gave ${b?.byteLength ?? 0} bytes for ${OUTPUT_NAMES[k]}, not ${size}`,
        );
      }
    }
    this.writeAt(g, at, bytes);
  }

  private offsetsOf(g: number): number[] {
    return OUTPUT_NAMES.map((_, k) => this.offsets[OUTPUTS * g + k] as number);
  }

  private writeAt(g: number, at: readonly number[], bytes: GroupBytes): void {
    this.fds ??= openForWriting(this.outputs.paths);
    for (const [k, b] of bytes.entries()) {
      const fd = this.fds[k];
      if (b !== null && b !== undefined && fd !== null && fd !== undefined) writeFully(fd, b, at[k] as number);
    }
    Atomics.store(this.state, g, GROUP_WRITTEN);
  }

  /** Groups placed but not written (their thread died first). */
  unwritten(): number[] {
    const out: number[] = [];
    for (let g = 0; g < this.state.length; g++) if (Atomics.load(this.state, g) !== GROUP_WRITTEN) out.push(g);
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
  private readonly state: Int32Array;
  private readonly offsets: Float64Array;
  private readonly fds: (number | null)[];
  private readonly pending: { g: number; bytes: GroupBytes }[] = [];
  /** The first write that failed (the run fails with it); nothing is written after it. */
  private failure: string | null = null;

  constructor(readonly outputs: GroupOutputs) {
    this.state = new Int32Array(outputs.state);
    this.offsets = new Float64Array(outputs.offsets);
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
      if (Atomics.load(this.state, g) !== GROUP_PLACED) return;
      for (const [k, b] of bytes.entries()) {
        const fd = this.fds[k];
        if (b === null || b === undefined || fd === null || fd === undefined) continue;
        try {
          writeFully(fd, b, this.offsets[OUTPUTS * g + k] as number);
        } catch (err) {
          this.failure = `cannot write the ${OUTPUT_NAMES[k]} file ${this.outputs.paths[k]}: ${(err as Error).message}`;
          return;
        }
      }
      Atomics.store(this.state, g, GROUP_WRITTEN);
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

  /** Closes the files (the groups not written are dropped: the main thread rewrites them). */
  close(): void {
    for (const fd of this.fds) if (fd !== null) closeSync(fd);
    this.fds.length = 0;
    this.pending.length = 0;
  }
}
