import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { contentTypeOf, listInputFiles, readTextFile } from '../src/files.js';
import { tempDir, writeTree } from './helpers.js';

describe('input files', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  afterEach(async () => cleanup());

  it('walks folders recursively in code point order, skips dotfiles, joins ids with /', async () => {
    await writeTree(dir, {
      'docs/b.txt': 'b',
      'docs/a-c.txt': 'x',
      'docs/a/z.md': 'z',
      'docs/É.txt': 'e',
      'docs/.hidden.txt': 'h',
      'docs/.git/config': 'c',
      'docs/sub/.env': 'e',
      'single/.profile': 'p',
    });
    const docs = path.join(dir, 'docs');
    const listing = await listInputFiles([`${docs}/`, path.join(dir, 'single', '.profile')]);
    expect(listing.failures).toEqual([]);
    expect(listing.files.map((f) => f.docId)).toEqual([
      `${docs}/a-c.txt`,
      `${docs}/a/z.md`,
      `${docs}/b.txt`,
      `${docs}/É.txt`,
      // A dotfile named on the command line is read: the user asked for it.
      `${dir}/single/.profile`,
    ]);
  });

  it('reports missing paths, and chunks a file given twice once', async () => {
    await writeTree(dir, { 'a.txt': 'a' });
    const listing = await listInputFiles([dir, path.join(dir, 'a.txt'), path.join(dir, 'nope')]);
    expect(listing.files.map((f) => f.docId)).toEqual([`${dir}/a.txt`]);
    expect(listing.failures.map((f) => f.path)).toEqual([path.join(dir, 'nope')]);
    expect(listing.failures[0]?.reason).toMatch(/ENOENT/);
    expect(listing.skipped.map((s) => s.path)).toEqual([`${dir}/a.txt`]);
  });

  it('reads UTF-8 without the BOM, refuses invalid UTF-8 and binary files', async () => {
    await writeTree(dir, {
      'bom.txt': new Uint8Array([0xef, 0xbb, 0xbf, 0x68, 0x69]),
      'latin1.txt': new Uint8Array([0x63, 0x61, 0x66, 0xe9]),
      'bin.dat': new Uint8Array([0x68, 0x00, 0x69]),
    });
    expect(await readTextFile(path.join(dir, 'bom.txt'))).toEqual({ ok: true, text: 'hi', byteLength: 5 });
    expect(await readTextFile(path.join(dir, 'latin1.txt'))).toMatchObject({ ok: false, reason: 'not valid UTF-8' });
    expect(await readTextFile(path.join(dir, 'bin.dat'))).toMatchObject({
      ok: false,
      reason: expect.stringContaining('binary'),
    });
    expect(await readTextFile(path.join(dir, 'missing.txt'))).toMatchObject({
      ok: false,
      reason: expect.stringContaining('ENOENT'),
    });
  });

  it('maps .md and .markdown to text/markdown', () => {
    expect(contentTypeOf('a/b.md')).toBe('text/markdown');
    expect(contentTypeOf('a/B.MARKDOWN')).toBe('text/markdown');
    expect(contentTypeOf('a/b.txt')).toBe('text/plain');
    expect(contentTypeOf('a.md/README')).toBe('text/plain');
  });
});
