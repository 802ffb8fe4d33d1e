/** `chunkline chunk --hierarchy sections --sections FILE` on a numbered legal text. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli.js';
import { captureIo, readJsonl, tempDir } from './helpers.js';

const ROOT = path.join(import.meta.dirname, '..', '..', '..');
const LICENSE = path.join(ROOT, 'test', 'fixtures', 'corpus', 'legal', 'Apache-2.0.txt');

let tmp: { dir: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  tmp = await tempDir();
});
afterAll(async () => tmp.cleanup());

describe('chunk --hierarchy sections', () => {
  it('writes sections beside chunks; every chunk names a section that holds it; --verify passes', async () => {
    const out = path.join(tmp.dir, 'c.jsonl');
    const sections = path.join(tmp.dir, 's.avro');
    const manifests = path.join(tmp.dir, 'm.jsonl');
    const cap = captureIo();
    const args = ['chunk', LICENSE, '--hierarchy', 'sections', '--max-tokens', '128', '--parent-max-tokens', '512'];
    const code = await runCli(
      [...args, '--verify', '--quiet', '--out', out, '--sections', sections, '--manifests', manifests],
      cap.io,
    );
    expect(code, cap.stderr()).toBe(0);
    const chunks = await readJsonl<{ parent_id: string; char_start: number; char_end: number }>(out);
    const inspect = captureIo();
    expect(await runCli(['inspect', sections], inspect.io)).toBe(0);
    const secs = inspect
      .stdout()
      .trimEnd()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as {
            section_id: string;
            char_start: number;
            char_end: number;
            heading_path: string[];
            part: number;
          },
      );
    expect(secs.length).toBeGreaterThan(10);
    expect(secs.map((s) => s.heading_path.at(-1))).toContain('4. Redistribution.');
    const byId = new Map(secs.map((s) => [s.section_id, s]));
    for (const c of chunks) {
      const s = byId.get(c.parent_id);
      expect(s).toBeDefined();
      expect(c.char_start).toBeGreaterThanOrEqual(s!.char_start);
      expect(c.char_end).toBeLessThanOrEqual(s!.char_end);
    }
    const [manifest] = await readJsonl<{ section_ids: string[] }>(manifests);
    expect(manifest!.section_ids).toEqual(secs.map((s) => s.section_id));
    expect((await readFile(LICENSE, 'utf8')).length).toBeGreaterThan(0);
  });

  it('refuses --sections without --hierarchy sections', async () => {
    const cap = captureIo();
    const code = await runCli(
      ['chunk', LICENSE, '--out', path.join(tmp.dir, 'x.jsonl'), '--sections', path.join(tmp.dir, 'y.jsonl')],
      cap.io,
    );
    expect(code).toBe(2);
    expect(cap.stderr()).toContain('--sections needs --hierarchy sections');
  });
});
