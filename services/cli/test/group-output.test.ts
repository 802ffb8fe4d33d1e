/**
 * The threads of `chunkline chunk --threads N` take groups themselves, place them in input order and
 * write them (group-output.ts): the file is the groups in input order, whatever order they are claimed,
 * chunked and written in, and a group whose thread died before writing it is written again.
 */
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ThreadPool } from '@chunkline/runtime';
import { createSharedPieceCache } from '@chunkline/tokenizers';
import { openRecordWriter, type RecordFileWriter } from '../src/avro-writer.js';
import { chunkOnPool, inOrderWindow } from '../src/chunk-command.js';
import type { ChunkTaskSpec, ChunkThreadReply, ChunkThreadTask, FileSummary, FileTask } from '../src/chunk-task.js';
import { runCli } from '../src/cli.js';
import { ClaimCursor, GroupPlacement, ThreadGroupWriter } from '../src/group-output.js';
import { captureIo, tempDir, writeTree } from './helpers.js';

describe('GroupPlacement and ThreadGroupWriter', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'chunkline-groups-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('write the groups in input order, whatever thread holds each and when it writes', () => {
    fc.assert(
      fc.property(
        // Per group: its bytes (possibly none), which of 3 threads chunks it, and how many of its
        // thread's later write attempts come before the main thread places it.
        fc.array(fc.tuple(fc.uint8Array({ maxLength: 40 }), fc.integer({ min: 0, max: 2 })), { maxLength: 30 }),
        fc.uint8Array({ maxLength: 5 }),
        fc.array(fc.integer({ min: 0, max: 2 }), { maxLength: 60 }),
        (groups, header, writeOrder) => {
          const file = path.join(dir, `out-${Math.random()}.bin`);
          writeFileSync(file, header);
          const placement = new GroupPlacement([file, null, null], [header.length, 0, 0], groups.length);
          const threads = [0, 1, 2].map(() => new ThreadGroupWriter(placement.outputs));
          // Chunked (added) in input order per thread, placed in input order, written whenever a thread
          // gets to it: the write attempts are interleaved as `writeOrder` says.
          let w = 0;
          for (const [g, [bytes, t]] of groups.entries()) {
            threads[t]?.add(g, [bytes, null, null]);
            placement.place(g, [bytes.length, 0, 0]);
            const who = writeOrder[w++ % Math.max(1, writeOrder.length)] ?? 0;
            threads[who]?.writePlaced();
          }
          for (const t of threads) {
            t.writePlaced();
            expect(t.waiting).toBe(0);
            expect(t.error).toBeNull();
            t.close();
          }
          expect(placement.unwritten()).toEqual([]);
          placement.close();
          const expected = Buffer.concat([header, ...groups.map(([b]) => b)]);
          expect(readFileSync(file).equals(expected)).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('place claimed groups in input order, whichever thread finishes each and in whatever order', () => {
    fc.assert(
      fc.property(
        // Per group its bytes; then the order in which 3 threads act: each step, one thread either
        // claims a group or finishes (sizes, places what it can, writes) the oldest group it holds.
        fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 30 }),
        fc.uint8Array({ maxLength: 5 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.boolean()), { maxLength: 200 }),
        (groups, header, steps) => {
          const file = path.join(dir, `claim-${Math.random()}.bin`);
          writeFileSync(file, header);
          const placement = new GroupPlacement([file, null, null], [header.length, 0, 0], groups.length);
          // The window holds every group, so that a claim never waits (this test runs in one thread).
          const threads = [0, 1, 2].map(() => ({
            cursor: new ClaimCursor(placement.outputs, groups.length + 1),
            writer: new ThreadGroupWriter(placement.outputs),
            held: [] as number[],
            done: false,
          }));
          const finish = (t: (typeof threads)[number]): void => {
            const g = t.held.shift() as number;
            const bytes = groups[g] as Uint8Array;
            t.writer.add(g, [bytes, null, null]);
            t.cursor.sized(g, [bytes.length, 0, 0]);
            t.writer.writePlaced();
          };
          for (const [who, claim] of steps) {
            const t = threads[who] as (typeof threads)[number];
            if (claim && !t.done) {
              const g = t.cursor.claim();
              if (g === null) t.done = true;
              else t.held.push(g);
            } else if (t.held.length > 0) {
              finish(t);
            }
          }
          // Then every thread claims and finishes what is left, in turn.
          for (let busy = true; busy;) {
            busy = false;
            for (const t of threads) {
              if (t.held.length > 0) finish(t);
              const g = t.done ? null : t.cursor.claim();
              if (g === null) t.done = true;
              else t.held.push(g);
              busy ||= t.held.length > 0 || !t.done;
            }
          }
          for (const t of threads) {
            t.writer.writePlaced();
            expect(t.writer.waiting).toBe(0);
            t.writer.close();
          }
          expect(placement.frontier).toBe(groups.length);
          expect(placement.unwritten()).toEqual([]);
          placement.close();
          expect(readFileSync(file).equals(Buffer.concat([header, ...groups]))).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('stops claiming when told, and reopens the groups from the frontier on', () => {
    const file = path.join(dir, 'stop.bin');
    closeSync(openSync(file, 'w'));
    const placement = new GroupPlacement([file, null, null], [0, 0, 0], 5);
    const a = new ClaimCursor(placement.outputs, 2);
    const b = new ClaimCursor(placement.outputs, 2);
    expect([a.claim(), b.claim()]).toEqual([0, 1]);
    // Group 1 is sized before group 0: it waits for it.
    b.sized(1, [3, 0, 0]);
    expect(placement.frontier).toBe(0);
    a.sized(0, [2, 0, 0]);
    expect(placement.frontier).toBe(2);
    expect(b.claim()).toBe(2);
    placement.stop();
    expect(a.stopped).toBe(true);
    expect(a.claim()).toBeNull();
    // Group 2 was claimed and never sized: it is done again with the groups after it.
    placement.reopenFromFrontier();
    expect(b.claim()).toBeNull();
    expect(placement.unwritten()).toEqual([0, 1, 2, 3, 4]);
    placement.place(2, [4, 0, 0]);
    expect(placement.frontier).toBe(3);
    placement.close();
  });

  it('lists the groups a thread dropped, and writes them again only with the same sizes', () => {
    const file = path.join(dir, 'out.bin');
    closeSync(openSync(file, 'w'));
    const placement = new GroupPlacement([file, null, null], [0, 0, 0], 3);
    const thread = new ThreadGroupWriter(placement.outputs);
    const parts = ['aaa', 'bb', 'cccc'].map((s) => new TextEncoder().encode(s));
    for (const [g, b] of parts.entries()) thread.add(g, [b, null, null]);
    placement.place(0, [3, 0, 0]);
    thread.writePlaced();
    placement.place(1, [2, 0, 0]);
    placement.place(2, [4, 0, 0]);
    thread.close(); // died before writing groups 1 and 2
    expect(placement.unwritten()).toEqual([1, 2]);
    expect(() => placement.rewrite(1, [new TextEncoder().encode('bbb'), null, null])).toThrow(
      'group 1 chunked again gave 3 bytes for chunks, not 2',
    );
    placement.rewrite(2, [parts[2] ?? null, null, null]);
    placement.rewrite(1, [parts[1] ?? null, null, null]);
    expect(placement.unwritten()).toEqual([]);
    placement.close();
    expect(readFileSync(file, 'utf8')).toBe('aaabbcccc');
  });

  it('reports a write that fails with the file it was for', () => {
    // /dev/full: every write fails with ENOSPC, as on a full disk.
    const placement = new GroupPlacement(['/dev/full', null, null], [0, 0, 0], 2);
    const thread = new ThreadGroupWriter(placement.outputs);
    thread.add(0, [new Uint8Array(3), null, null]);
    thread.add(1, [new Uint8Array(3), null, null]);
    placement.place(0, [3, 0, 0]);
    placement.place(1, [3, 0, 0]);
    thread.writePlaced();
    expect(thread.error).toMatch(/^cannot write the chunks file \/dev\/full: ENOSPC/);
    // Nothing is written after a failure.
    expect(thread.waiting).toBe(2);
    expect(placement.unwritten()).toEqual([0, 1]);
    thread.close();
    placement.close();
  });
});

describe('inOrderWindow', () => {
  it('takes results in input order, and a later one that fails first fails the run without going unhandled', async () => {
    const taken: number[] = [];
    const delays = [30, 5, 0, 20, 1];
    await inOrderWindow(
      5,
      3,
      (g) => new Promise<number>((resolve) => setTimeout(() => resolve(g * 10), delays[g])),
      (g, r) => {
        taken.push(g, r);
      },
    );
    expect(taken).toEqual([0, 0, 1, 10, 2, 20, 3, 30, 4, 40]);
    // Group 2 fails at once, while group 0 is still running: the run fails with group 2's error once
    // its turn comes, and Node never sees an unhandled rejection (vitest would report one).
    const order: number[] = [];
    await expect(
      inOrderWindow(
        5,
        3,
        (g) =>
          g === 2
            ? Promise.reject(new Error('group 2 failed'))
            : new Promise<number>((resolve) => setTimeout(() => resolve(g), 30)),
        (g) => {
          order.push(g);
        },
      ),
    ).rejects.toThrow('group 2 failed');
    expect(order).toEqual([0, 1]);
  });
});

/** `count` documents of `repeat` sentences each, written under `dir`, in groups of `perGroup` files. */
function writeGroups(dir: string, count: number, repeat: number, perGroup: number): FileTask[][] {
  const files: FileTask[] = [];
  for (let i = 0; i < count; i++) {
    const fsPath = path.join(dir, `${String(i).padStart(4, '0')}.txt`);
    writeFileSync(fsPath, `Document ${i}. ${'Words to chunk. '.repeat(repeat)}`);
    files.push({ fsPath, docId: fsPath });
  }
  const groups: FileTask[][] = [];
  for (let i = 0; i < files.length; i += perGroup) groups.push(files.slice(i, i + perGroup));
  return groups;
}

/** Two chunking threads (bert-base-uncased, semantic, 40 tokens) writing JSON Lines chunks. */
function chunkingPool(): ThreadPool<ChunkThreadTask, ChunkThreadReply> {
  return new ThreadPool<ChunkThreadTask, ChunkThreadReply>({
    filename: new URL('../dist/chunk-thread.js', import.meta.url).href,
    threads: 2,
    workerData: {
      tokenizer: 'bert-base-uncased',
      chunkerOptions: { strategy: 'semantic', maxTokens: 40, overlapTokens: 0, reservedTokens: 2 },
      verify: false,
      outputs: { chunks: 'jsonl', sections: null, manifests: null },
    } satisfies ChunkTaskSpec,
  });
}

describe('chunkOnPool when onGroup throws', () => {
  it('fails the run with that error, after the threads are done with the run', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      // About 7 MB: more than the threads chunk before their first answer (about 200 ms).
      const groups = writeGroups(dir, 1500, 300, 2);
      const pool = chunkingPool();
      const out = await openRecordWriter(path.join(dir, 'out.jsonl'), 'chunk');
      let calls = 0;
      try {
        await pool.ready({ kind: 'probe' });
        const run = chunkOnPool(pool, groups, [out, null, null], 8, () => {
          calls++;
          throw new Error('the caller gave up');
        });
        await expect(run).rejects.toThrow('the caller gave up');
        // No thread is left in the run (both answer the next task), and onGroup was not called again.
        const probes = await Promise.race([
          pool.broadcast({ kind: 'probe' }),
          new Promise((resolve) => setTimeout(() => resolve('busy'), 5000)),
        ]);
        expect(probes).toEqual([{ kind: 'probe' }, { kind: 'probe' }]);
        expect(calls).toBe(1);
      } finally {
        await pool.close();
        await out.abort();
      }
    } finally {
      await cleanup();
    }
  });
});

describe('chunkOnPool when an output cannot be written', () => {
  it('fails the run with the file and the reason', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const groups = writeGroups(dir, 40, 20, 8);
      const pool = chunkingPool();
      // A writer whose file is /dev/full: every write the threads make fails with ENOSPC, as on a full disk.
      const full: RecordFileWriter = {
        writeEncoded: () => Promise.reject(new Error('not used')),
        positional: () => Promise.resolve({ path: '/dev/full', position: 0 }),
        commit: () => Promise.resolve(),
        abort: () => Promise.resolve(),
      };
      try {
        await pool.ready({ kind: 'probe' });
        await expect(chunkOnPool(pool, groups, [full, null, null], 8, () => undefined)).rejects.toThrow(
          /^cannot write the chunks file \/dev\/full: ENOSPC/,
        );
      } finally {
        await pool.close();
      }
    } finally {
      await cleanup();
    }
  });
});

describe('chunkOnPool when a chunking thread dies', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  afterEach(async () => cleanup());

  it('writes again the group a thread held when it died, and reports the file a thread died on', async () => {
    const corpus = path.join(dir, 'corpus');
    const tree: Record<string, string> = {};
    for (let i = 0; i < 60; i++) {
      const name = i === 21 ? 'die-after' : i === 44 ? 'die-now' : 'doc';
      tree[`${String(i).padStart(2, '0')}-${name}.txt`] =
        `Text ${i}. ${'Some words here. '.repeat(1 + ((i * 7) % 40))}`;
    }
    await writeTree(corpus, tree);
    const names = Object.keys(tree).sort();
    const files: FileTask[] = names.map((n) => ({ fsPath: path.join(corpus, n), docId: path.join(corpus, n) }));
    const groups: FileTask[][] = [];
    for (let i = 0; i < files.length; i += 8) groups.push(files.slice(i, i + 8));

    const spec: ChunkTaskSpec = {
      tokenizer: 'bert-base-uncased',
      chunkerOptions: { strategy: 'semantic', maxTokens: 40, overlapTokens: 0, reservedTokens: 2 },
      verify: false,
      outputs: { chunks: 'jsonl', sections: null, manifests: 'jsonl' },
      pieceCache: createSharedPieceCache(),
    };
    const pool = new ThreadPool<ChunkThreadTask, ChunkThreadReply>({
      filename: new URL('./dying-chunk-thread.mjs', import.meta.url).href,
      threads: 2,
      workerData: spec,
    });
    const out = await openRecordWriter(path.join(dir, 'pool.jsonl'), 'chunk');
    const manifests = await openRecordWriter(path.join(dir, 'pool.manifests.jsonl'), 'manifest');
    const summaries: FileSummary[] = [];
    try {
      await pool.ready({ kind: 'probe' });
      await chunkOnPool(pool, groups, [out, null, manifests], 8, (_, s) => summaries.push(...s));
    } finally {
      await pool.close();
    }
    await out.commit();
    await manifests.commit();

    // The file a thread died on is reported; every other file is chunked.
    expect(summaries).toHaveLength(60);
    const failed = summaries.flatMap((s, i) => (s.ok ? [] : [[names[i], s.reason]]));
    expect(failed).toEqual([['44-die-now.txt', expect.stringMatching(/^chunking failed: the chunking thread failed/)]]);

    // The same bytes as the main thread writes for the same files, less the records of the one that failed.
    const cap = captureIo();
    const code = await runCli(
      [
        'chunk',
        corpus,
        '--out',
        path.join(dir, 'ref.jsonl'),
        '--manifests',
        path.join(dir, 'ref.manifests.jsonl'),
        '--max-tokens',
        '40',
        '--threads',
        '0',
        '--quiet',
      ],
      cap.io,
    );
    expect(code, cap.stderr()).toBe(0);
    const withoutDieNow = (text: string): string =>
      text
        .split('\n')
        .filter((line) => !line.includes('44-die-now.txt'))
        .join('\n');
    for (const [pool, ref] of [
      ['pool.jsonl', 'ref.jsonl'],
      ['pool.manifests.jsonl', 'ref.manifests.jsonl'],
    ] as const) {
      const expected = withoutDieNow(await readFile(path.join(dir, ref), 'utf8'));
      expect(expected.length).toBeGreaterThan(1000);
      expect(await readFile(path.join(dir, pool), 'utf8')).toBe(expected);
    }
    expect((await readdir(dir)).filter((f) => f.endsWith('.partial'))).toEqual([]);
  });
});
