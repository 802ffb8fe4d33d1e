/**
 * The groups of files of one `chunkline chunk` run in shared memory, for the chunking threads that take
 * groups themselves (group-output.ts): one copy for all of them. Sent as a structured clone, the list
 * took about 175 bytes of each thread's heap per file (4.7 MB for 26,900 files), so a million files
 * would have cost every thread about 175 MB on top of the main thread's own list.
 */
import type { FileTask } from './chunk-task.js';

/** A run's groups of files (structured-clonable: the buffers are shared, not copied). */
export interface SharedGroups {
  /**
   * Every file's `fsPath` then `docId` as UTF-16 code units (`utf16le`: a string comes back exactly,
   * even with a lone surrogate), one after the other, in input order.
   */
  readonly text: SharedArrayBuffer;
  /** Float64 per string (two per file): where it ends in `text`, in bytes. */
  readonly ends: SharedArrayBuffer;
  /** Int32 per group, and one more: the index of the group's first file (the last one: the file count). */
  readonly starts: SharedArrayBuffer;
}

/** Puts `groups` into shared memory. */
export function shareGroups(groups: readonly (readonly FileTask[])[]): SharedGroups {
  let files = 0;
  let bytes = 0;
  for (const group of groups) {
    for (const f of group) bytes += 2 * (f.fsPath.length + f.docId.length);
    files += group.length;
  }
  const shared: SharedGroups = {
    text: new SharedArrayBuffer(bytes),
    ends: new SharedArrayBuffer(8 * 2 * files),
    starts: new SharedArrayBuffer(4 * (groups.length + 1)),
  };
  const text = Buffer.from(shared.text);
  const ends = new Float64Array(shared.ends);
  const starts = new Int32Array(shared.starts);
  let at = 0;
  let s = 0;
  let file = 0;
  for (const [g, group] of groups.entries()) {
    starts[g] = file;
    for (const f of group) {
      for (const str of [f.fsPath, f.docId]) {
        at += text.write(str, at, 'utf16le');
        ends[s++] = at;
      }
      file++;
    }
  }
  starts[groups.length] = file;
  return shared;
}

/** Reads groups back from {@link shareGroups}' buffers. */
export class SharedGroupsReader {
  private readonly text: Buffer;
  private readonly ends: Float64Array;
  private readonly starts: Int32Array;

  constructor(shared: SharedGroups) {
    this.text = Buffer.from(shared.text);
    this.ends = new Float64Array(shared.ends);
    this.starts = new Int32Array(shared.starts);
  }

  /** The number of groups. */
  get length(): number {
    return this.starts.length - 1;
  }

  /** Group `g`'s files (0 ≤ g < length). */
  group(g: number): FileTask[] {
    const files: FileTask[] = [];
    const last = this.starts[g + 1] as number;
    for (let file = this.starts[g] as number; file < last; file++) {
      files.push({ fsPath: this.string(2 * file), docId: this.string(2 * file + 1) });
    }
    return files;
  }

  private string(s: number): string {
    const start = s === 0 ? 0 : (this.ends[s - 1] as number);
    return this.text.toString('utf16le', start, this.ends[s] as number);
  }
}
