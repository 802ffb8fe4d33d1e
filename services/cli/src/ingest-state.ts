/**
 * The state of `chunkline ingest`: for each target (brokers and topic), the version last published for
 * each doc_id, so that a re-run sends only what changed. One JSON file holds every target; it is
 * replaced atomically (written to a dotfile beside it, then renamed).
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** Where `chunkline ingest` keeps its state when `--state` is not given: a dotfile in the working directory. */
export const DEFAULT_STATE_FILE = '.chunkline-ingest-state.json';

const FORMAT = 'chunkline-ingest-state';
const VERSION = 1;

interface StateFile {
  format: typeof FORMAT;
  version: typeof VERSION;
  targets: Record<string, { brokers: string[]; topic: string; docs: Record<string, string> }>;
}

/** The key of a target: brokers (sorted, so their order does not matter) and topic. */
export function targetKey(brokers: readonly string[], topic: string): string {
  return `${[...brokers].sort().join(',')}/${topic}`;
}

/** What to do with a file, given its version now and the state. */
export type FileDecision = 'send' | 'unchanged';

/**
 * The versions published to one target. `set` and `delete` record what the broker has acknowledged;
 * `save` writes them.
 */
export class IngestState {
  private dirty = false;

  private constructor(
    readonly file: string,
    private readonly key: string,
    private readonly brokers: readonly string[],
    private readonly topic: string,
    private readonly docs: Map<string, string>,
  ) {}

  /**
   * Reads the state of (`brokers`, `topic`) from `file`; a missing file is an empty state.
   * @throws Error naming the file when it exists but is not a state file.
   */
  static async load(file: string, brokers: readonly string[], topic: string): Promise<IngestState> {
    const key = targetKey(brokers, topic);
    const parsed = await readStateFile(file);
    const docs = new Map(Object.entries(parsed?.targets[key]?.docs ?? {}));
    return new IngestState(file, key, brokers, topic, docs);
  }

  /** `send` unless `version` is the one last published for `docId` (or `force` is set). */
  decide(docId: string, version: string, force: boolean): FileDecision {
    return !force && this.docs.get(docId) === version ? 'unchanged' : 'send';
  }

  /** The version last published for `docId`. */
  get(docId: string): string | undefined {
    return this.docs.get(docId);
  }

  /** Records that `version` of `docId` was published. */
  set(docId: string, version: string): void {
    if (this.docs.get(docId) === version) return;
    this.docs.set(docId, version);
    this.dirty = true;
  }

  /** Records that a tombstone for `docId` was published. */
  delete(docId: string): void {
    if (this.docs.delete(docId)) this.dirty = true;
  }

  /** Every doc_id with a published version. */
  docIds(): IterableIterator<string> {
    return this.docs.keys();
  }

  get size(): number {
    return this.docs.size;
  }

  /** Writes the state if it changed, keeping the other targets of the file. */
  async save(): Promise<void> {
    if (!this.dirty) return;
    const current = (await readStateFile(this.file)) ?? { format: FORMAT, version: VERSION, targets: {} };
    current.targets[this.key] = {
      brokers: [...this.brokers],
      topic: this.topic,
      docs: Object.fromEntries([...this.docs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    };
    // A dotfile beside the state, so that a walk of the folder never reads it as a document.
    const tmp = path.join(path.dirname(this.file), `.${path.basename(this.file)}.${process.pid}.tmp`);
    await writeFile(tmp, `${JSON.stringify(current, null, 1)}\n`);
    await rename(tmp, this.file);
    this.dirty = false;
  }
}

async function readStateFile(file: string): Promise<StateFile | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`cannot read the ingest state ${file}: ${(err as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`${file} is not JSON; it is not an ingest state file (give another --state, or remove it)`);
  }
  const v = value as Partial<StateFile> | null;
  if (
    v === null ||
    typeof v !== 'object' ||
    v.format !== FORMAT ||
    typeof v.targets !== 'object' ||
    v.targets === null
  ) {
    throw new Error(`${file} is not an ingest state file (give another --state, or remove it)`);
  }
  if (v.version !== VERSION)
    throw new Error(`${file} has ingest state version ${String(v.version)}; expected ${VERSION}`);
  return v as StateFile;
}
