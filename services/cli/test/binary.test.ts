import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChunkRecord } from '@chunkline/chunking';
import { readJsonl, sampleCorpus, tempDir, writeTree } from './helpers.js';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

describe('the built chunkline binary', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  afterEach(async () => cleanup());

  it('chunks a folder end to end as a child process', async () => {
    // The root `npm test` builds first; run `npx tsc --build` before running this file alone.
    expect(existsSync(MAIN), `${MAIN} is missing: run \`npx tsc --build\` first`).toBe(true);
    await writeTree(dir, sampleCorpus());
    const out = path.join(dir, 'chunks.jsonl');
    const child = spawnSync(process.execPath, [MAIN, 'chunk', dir, '--out', out, '--max-tokens', '64'], {
      encoding: 'utf8',
    });
    expect(child.stderr).toMatch(/documents 5 \| chunks \d+/);
    expect(child.status).toBe(0);
    expect(child.stdout).toBe('');
    const records = await readJsonl<ChunkRecord>(out);
    expect(records.length).toBeGreaterThan(0);
    expect(records.every((r) => r.doc_id.startsWith(`${dir}/`))).toBe(true);

    const usage = spawnSync(process.execPath, [MAIN, 'chunk', dir, '--out', out, '--max-tokens', 'lots'], {
      encoding: 'utf8',
    });
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain('--max-tokens');
  });
});
