/** Shared helpers of the CLI tests: captured streams, temp folders, JSONL reading. */
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import type { CliIo } from '../src/io.js';

/** A CliIo whose stdout and stderr are collected as strings. No terminal, so no progress bar. */
export function captureIo(): { io: CliIo; stdout: () => string; stderr: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: {
      stdout: { write: (s: string) => out.push(s) },
      stderr: { write: (s: string) => err.push(s) },
    },
    stdout: () => out.join(''),
    stderr: () => err.join(''),
  };
}

/** Creates a fresh temp folder; `cleanup` removes it. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chunkline-cli-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Writes `files` (relative path → content) under `root`, creating folders. */
export async function writeTree(root: string, files: Record<string, string | Uint8Array>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(root, rel);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content);
  }
}

/** Parses a JSON Lines file (every line must end in a newline). */
export async function readJsonl<T = Record<string, unknown>>(file: string): Promise<T[]> {
  const text = await readFile(file, 'utf8');
  if (text === '') return [];
  expect(text.endsWith('\n')).toBe(true);
  return text
    .slice(0, -1)
    .split('\n')
    .map((line) => JSON.parse(line) as T);
}

/** A small mixed corpus: Markdown with headings and code, CJK, emoji with ZWJ, combining marks, a BOM. */
export function sampleCorpus(): Record<string, string | Uint8Array> {
  const para = (n: number): string =>
    Array.from({ length: n }, (_, i) => `Sentence ${i} talks about chunking, offsets and tokens. `).join('');
  return {
    'guide.md': [
      '# Guide',
      '',
      para(12),
      '',
      '## Install',
      '',
      '```sh',
      'npm install chunkline',
      '```',
      '',
      '| a | b |',
      '|---|---|',
      '| 1 | 2 |',
      '',
      '## Use',
      '',
      para(20),
      '',
    ].join('\n'),
    'notes/unicode.txt': `Café naïve coöperate — 東京は日本の首都です。👩‍👩‍👧‍👦 family, 🇫🇷 flag, e\u0301 combining.\n\n${para(15)}\n`,
    'notes/bom.txt': new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode(`BOM first. ${para(8)}`)]),
    'notes/deeper/empty.txt': '',
    'z-last.markdown': `Intro\n\n# Title\n\n${para(5)}\n`,
  };
}
