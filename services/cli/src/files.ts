/**
 * Finding the input files (walking folders in a deterministic order) and reading them as UTF-8 text.
 */
import { readFileSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';

/** One file to chunk. */
export interface InputFile {
  /**
   * `doc_id` and `source` of the document: the path as given on the command line, joined with the
   * file's path inside a given folder, with forward slashes (`path.posix.join`).
   */
  readonly docId: string;
  /** Where to read it on this machine. */
  readonly fsPath: string;
}

/** A path that is not chunked, and why. */
export interface PathNote {
  readonly path: string;
  readonly reason: string;
}

/** What {@link listInputFiles} found. */
export interface InputListing {
  /** Files to chunk, in output order. */
  readonly files: InputFile[];
  /** Paths that could not be listed or read (each one fails the run: exit code 1). */
  readonly failures: PathNote[];
  /** Paths skipped on purpose (the output files, duplicates, symlinked folders); not failures. */
  readonly skipped: PathNote[];
}

/** Options of {@link listInputFiles}. */
export interface ListOptions {
  /** Absolute paths never to read as input (the output files of this run). */
  readonly exclude?: ReadonlySet<string>;
}

/** A path with the platform's separators replaced by `/` (a no-op on POSIX). */
function toPosix(p: string): string {
  return path.sep === '/' ? p : p.split(path.sep).join('/');
}

/** Code point order (equal to UTF-8 byte order), so the order does not depend on locale or UTF-16. */
function compareCodePoints(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function errorReason(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    // Node's fs messages already name the path; keep only the code and its meaning.
    if (typeof code === 'string') return err.message.replace(/, \w+ '.*'$/s, '');
    return err.message;
  }
  return String(err);
}

/**
 * Walks `dir` and returns the paths of its files relative to it (with `/`), skipping dotfiles and
 * dot-folders. Symlinks to files are followed; symlinks to folders are not (that could loop).
 */
async function walkFolder(
  dir: string,
  failures: PathNote[],
  skipped: PathNote[],
  displayRoot: string,
): Promise<string[]> {
  const out: string[] = [];
  const pending: string[] = [''];
  for (let rel = pending.pop(); rel !== undefined; rel = pending.pop()) {
    const abs = path.join(dir, rel);
    const display = rel === '' ? displayRoot : path.posix.join(displayRoot, toPosix(rel));
    let entries;
    try {
      entries = await readdir(abs, { withFileTypes: true });
    } catch (err) {
      failures.push({ path: display, reason: `cannot list folder: ${errorReason(err)}` });
      continue;
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const childRel = rel === '' ? entry.name : path.join(rel, entry.name);
      const childDisplay = path.posix.join(displayRoot, toPosix(childRel));
      if (entry.isDirectory()) {
        pending.push(childRel);
      } else if (entry.isFile()) {
        out.push(toPosix(childRel));
      } else if (entry.isSymbolicLink()) {
        try {
          const target = await stat(path.join(dir, childRel));
          if (target.isFile()) out.push(toPosix(childRel));
          else if (target.isDirectory()) skipped.push({ path: childDisplay, reason: 'symlinked folder, not followed' });
          else failures.push({ path: childDisplay, reason: 'not a regular file' });
        } catch (err) {
          failures.push({ path: childDisplay, reason: `broken symlink: ${errorReason(err)}` });
        }
      } else {
        failures.push({ path: childDisplay, reason: 'not a regular file' });
      }
    }
  }
  return out.sort(compareCodePoints);
}

/**
 * Expands the command-line paths into files: a file stays itself (even a dotfile, since the user named
 * it); a folder becomes its files, recursively, sorted by path in code point order. The command-line
 * order is kept between paths. A document id seen twice is chunked once.
 */
export async function listInputFiles(paths: readonly string[], options: ListOptions = {}): Promise<InputListing> {
  const exclude = options.exclude ?? new Set<string>();
  const files: InputFile[] = [];
  const failures: PathNote[] = [];
  const skipped: PathNote[] = [];
  const seen = new Set<string>();

  const add = (docId: string, fsPath: string): void => {
    if (exclude.has(path.resolve(fsPath))) {
      skipped.push({ path: docId, reason: 'it is an output file of this run' });
    } else if (seen.has(docId)) {
      skipped.push({ path: docId, reason: 'given more than once; chunked once' });
    } else {
      seen.add(docId);
      files.push({ docId, fsPath });
    }
  };

  for (const given of paths) {
    let info;
    try {
      info = await stat(given);
    } catch (err) {
      failures.push({ path: given, reason: errorReason(err) });
      continue;
    }
    const givenPosix = toPosix(given);
    if (info.isDirectory()) {
      for (const rel of await walkFolder(given, failures, skipped, givenPosix)) {
        add(path.posix.join(givenPosix, rel), path.join(given, rel));
      }
    } else if (info.isFile()) {
      add(givenPosix, given);
    } else {
      failures.push({ path: given, reason: 'not a regular file or folder' });
    }
  }
  return { files, failures, skipped };
}

/** How many leading bytes are searched for a NUL to tell binary files from text. */
export const BINARY_SNIFF_BYTES = 8192;

/** A file read as text, or the reason it cannot be. */
export type ReadResult =
  | { readonly ok: true; readonly text: string; readonly byteLength: number }
  | { readonly ok: false; readonly reason: string; readonly byteLength: number };

/**
 * Reads a file as the document text DESIGN.md defines: its UTF-8 content decoded by a fatal
 * `TextDecoder`, which drops a leading byte-order mark, so offsets count from after it. Files with a
 * NUL byte in their first {@link BINARY_SNIFF_BYTES} bytes are refused as binary.
 */
export async function readTextFile(fsPath: string): Promise<ReadResult> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(fsPath);
  } catch (err) {
    return { ok: false, reason: `cannot read: ${errorReason(err)}`, byteLength: 0 };
  }
  return decodeTextBytes(bytes);
}

/**
 * {@link readTextFile}, blocking: for a chunking thread (or `--threads 0`), whose only job is the file
 * it reads (an asynchronous read there waited for Node's shared I/O threads between every two files).
 */
export function readTextFileSync(fsPath: string): ReadResult {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(fsPath);
  } catch (err) {
    return { ok: false, reason: `cannot read: ${errorReason(err)}`, byteLength: 0 };
  }
  return decodeTextBytes(bytes);
}

/**
 * A file's bytes as the document text DESIGN.md defines (see {@link readTextFile}): refused as binary
 * when a NUL byte is in the first {@link BINARY_SNIFF_BYTES} bytes, or as not UTF-8.
 */
export function decodeTextBytes(bytes: Uint8Array): ReadResult {
  if (bytes.subarray(0, BINARY_SNIFF_BYTES).includes(0)) {
    return {
      ok: false,
      reason: `binary file (NUL byte in the first ${BINARY_SNIFF_BYTES} bytes), skipped`,
      byteLength: bytes.length,
    };
  }
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return { ok: true, text, byteLength: bytes.length };
  } catch (err) {
    // The decoder throws a TypeError with this code for malformed input; anything else (a string
    // over V8's length limit, say) keeps its own message.
    const invalid = (err as NodeJS.ErrnoException).code === 'ERR_ENCODING_INVALID_ENCODED_DATA';
    return { ok: false, reason: invalid ? 'not valid UTF-8' : errorReason(err), byteLength: bytes.length };
  }
}

/** `text/markdown` for `.md` and `.markdown` files (any case), `text/plain` for everything else. */
export function contentTypeOf(docId: string): string {
  const ext = path.posix.extname(docId).toLowerCase();
  return ext === '.md' || ext === '.markdown' ? 'text/markdown' : 'text/plain';
}

/** A command-line path as {@link walkInputFiles} found it. */
export interface WalkRoot {
  /** The path as given. */
  readonly given: string;
  /** The path as given, with `/` separators: the prefix of its documents' ids. */
  readonly givenPosix: string;
  /** `failed`: it could not be read (the failure is reported through `onNote`). */
  readonly kind: 'file' | 'folder' | 'failed';
}

/** Options of {@link walkInputFiles}. */
export interface WalkOptions extends ListOptions {
  /** Called for each command-line path before its files. */
  readonly onRoot?: (root: WalkRoot) => void;
  /** Called for each path that cannot be read (`failure`) or is left out on purpose (`skipped`). */
  readonly onNote?: (note: PathNote, kind: 'failure' | 'skipped') => void;
}

/** One folder's entries to walk, sorted so that the walk yields paths in code point order. */
async function sortedEntries(
  dir: string,
  display: string,
  onNote: (note: PathNote, kind: 'failure' | 'skipped') => void,
): Promise<{ name: string; isDir: boolean }[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    onNote({ path: display, reason: `cannot list folder: ${errorReason(err)}` }, 'failure');
    return [];
  }
  const out: { name: string; isDir: boolean; key: string }[] = [];
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const childDisplay = path.posix.join(display, entry.name);
    if (entry.isDirectory()) {
      out.push({ name: entry.name, isDir: true, key: `${entry.name}/` });
    } else if (entry.isFile()) {
      out.push({ name: entry.name, isDir: false, key: entry.name });
    } else if (entry.isSymbolicLink()) {
      try {
        const target = await stat(path.join(dir, entry.name));
        if (target.isFile()) out.push({ name: entry.name, isDir: false, key: entry.name });
        else if (target.isDirectory())
          onNote({ path: childDisplay, reason: 'symlinked folder, not followed' }, 'skipped');
        else onNote({ path: childDisplay, reason: 'not a regular file' }, 'failure');
      } catch (err) {
        onNote({ path: childDisplay, reason: `broken symlink: ${errorReason(err)}` }, 'failure');
      }
    } else {
      onNote({ path: childDisplay, reason: 'not a regular file' }, 'failure');
    }
  }
  // A folder sorts as `name/`, so that depth-first order equals sorting the whole relative paths.
  return out.sort((a, b) => compareCodePoints(a.key, b.key));
}

async function* walkFolderFiles(
  dir: string,
  display: string,
  onNote: (note: PathNote, kind: 'failure' | 'skipped') => void,
): AsyncGenerator<InputFile> {
  for (const entry of await sortedEntries(dir, display, onNote)) {
    const fsPath = path.join(dir, entry.name);
    const docId = path.posix.join(display, entry.name);
    if (entry.isDir) yield* walkFolderFiles(fsPath, docId, onNote);
    else yield { docId, fsPath };
  }
}

/**
 * Like {@link listInputFiles}, as a stream: the same files with the same ids, in the same order, holding
 * one folder's entries at a time rather than the whole list. Duplicates are not removed (the caller
 * keeps the ids it has seen); excluded paths are reported as skipped.
 */
export async function* walkInputFiles(paths: readonly string[], options: WalkOptions = {}): AsyncGenerator<InputFile> {
  const exclude = options.exclude ?? new Set<string>();
  const onNote = options.onNote ?? (() => undefined);
  for (const given of paths) {
    const givenPosix = toPosix(given);
    let info;
    try {
      info = await stat(given);
    } catch (err) {
      options.onRoot?.({ given, givenPosix, kind: 'failed' });
      onNote({ path: given, reason: errorReason(err) }, 'failure');
      continue;
    }
    if (info.isDirectory()) {
      options.onRoot?.({ given, givenPosix, kind: 'folder' });
      for await (const file of walkFolderFiles(given, givenPosix, onNote)) {
        if (exclude.has(path.resolve(file.fsPath))) onNote({ path: file.docId, reason: 'it is excluded' }, 'skipped');
        else yield file;
      }
    } else if (info.isFile()) {
      options.onRoot?.({ given, givenPosix, kind: 'file' });
      if (exclude.has(path.resolve(given))) onNote({ path: givenPosix, reason: 'it is excluded' }, 'skipped');
      else yield { docId: givenPosix, fsPath: given };
    } else {
      options.onRoot?.({ given, givenPosix, kind: 'failed' });
      onNote({ path: given, reason: 'not a regular file or folder' }, 'failure');
    }
  }
}

/**
 * True when `docId` is an id that walking `root` can give: the root itself for a file, or a path under
 * it for a folder (ids are `path.posix.join(root, inside)`, so a root of `.` gives relative ids).
 */
export function isDocIdUnder(docId: string, root: WalkRoot): boolean {
  if (root.kind === 'file') return docId === root.givenPosix;
  if (root.kind !== 'folder') return false;
  // A folder's ids come from path.posix.join, so they are normalized.
  if (path.posix.normalize(docId) !== docId) return false;
  const prefix = path.posix.join(root.givenPosix, 'x').slice(0, -1);
  if (prefix === '') return !path.posix.isAbsolute(docId) && docId !== '..' && !docId.startsWith('../');
  return docId.startsWith(prefix);
}
