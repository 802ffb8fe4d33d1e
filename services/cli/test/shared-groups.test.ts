/** The run's groups of files in shared memory, read back by the chunking threads. */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { shareGroups, SharedGroupsReader } from '../src/shared-groups.js';

// Any UTF-16 code units, lone surrogates included: a path must come back exactly as it went in.
const text = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((u) => String.fromCharCode(u)) });
const file = fc.record({ fsPath: text, docId: text });

describe('shareGroups and SharedGroupsReader', () => {
  it('give back every group as it was, empty groups and strings included', () => {
    fc.assert(
      fc.property(fc.array(fc.array(file, { maxLength: 6 }), { maxLength: 12 }), (groups) => {
        const reader = new SharedGroupsReader(shareGroups(groups));
        expect(reader.length).toBe(groups.length);
        for (const [g, group] of groups.entries()) expect(reader.group(g)).toEqual(group);
      }),
      { numRuns: 300 },
    );
  });

  it('are shared with a thread, not copied: the thread reads what the main thread wrote', async () => {
    const groups = [[{ fsPath: '/a/ünïcode ☃.txt', docId: 'a/ünïcode ☃.txt' }], [{ fsPath: '/b', docId: 'b' }]];
    const shared = shareGroups(groups);
    // The thread changes one code unit in place; the main thread sees it, so there is one copy.
    const worker = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       const text = new Uint16Array(workerData.text);
       text[0] = 0x7e; // '/' -> '~'
       parentPort.postMessage(text.length);`,
      { eval: true, workerData: shared },
    );
    let units: unknown;
    worker.once('message', (n) => (units = n));
    // The thread ends by itself once it has answered (no terminate() while it may be exiting).
    const [code] = (await once(worker, 'exit')) as [number];
    expect(code).toBe(0);
    expect(units).toBe(shared.text.byteLength / 2);
    expect(new SharedGroupsReader(shared).group(0)).toEqual([{ fsPath: '~a/ünïcode ☃.txt', docId: 'a/ünïcode ☃.txt' }]);
  });
});
