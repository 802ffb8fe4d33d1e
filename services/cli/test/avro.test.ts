/**
 * Avro output end to end: `chunk --out FILE.avro` then `inspect FILE.avro` gives the same lines as
 * `--out FILE.jsonl`; the container file is read field for field by an independent Avro implementation
 * (Python's fastavro, installed by .ci/run from test/interop/requirements.txt); schema fingerprints and
 * single-object encoding agree with fastavro's.
 */
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunkCodec, fingerprintBytes, latestSchema, RECORD_KINDS, SCHEMAS_DIR } from '@chunkline/records';
import { runCli } from '../src/cli.js';
import { captureIo, readJsonl, tempDir } from './helpers.js';

const ROOT = path.join(import.meta.dirname, '..', '..', '..');
const READER = path.join(ROOT, 'test', 'interop', 'avro_reader.py');
const SAMPLE = path.join(ROOT, 'test', 'fixtures', 'corpus');

function python(...args: string[]): string {
  return execFileSync('python3', [READER, ...args], { encoding: 'utf8', maxBuffer: 256 << 20 });
}

let tmp: { dir: string; cleanup: () => Promise<void> };
const file = (name: string) => path.join(tmp.dir, name);

beforeAll(async () => {
  tmp = await tempDir();
  for (const ext of ['avro', 'jsonl']) {
    const cap = captureIo();
    const code = await runCli(
      [
        'chunk',
        SAMPLE,
        '--tokenizer',
        'qwen3',
        '--max-tokens',
        '128',
        '--overlap',
        '16',
        '--quiet',
        '--out',
        file(`c.${ext}`),
        '--manifests',
        file(`m.${ext}`),
      ],
      cap.io,
    );
    expect(code, cap.stderr()).toBe(0);
  }
});
afterAll(async () => tmp.cleanup());

describe('Avro output', () => {
  it('inspect prints exactly the records --out FILE.jsonl writes', async () => {
    for (const kind of ['c', 'm']) {
      const cap = captureIo();
      expect(await runCli(['inspect', file(`${kind}.avro`)], cap.io)).toBe(0);
      expect(cap.stdout()).toBe(await readFile(file(`${kind}.jsonl`), 'utf8'));
    }
  });

  it('fastavro reads the container file field for field', async () => {
    const lines = python('container', file('c.avro')).trimEnd().split('\n');
    const trailer = JSON.parse(lines.pop()!) as { writer_schema: { name: string }; codec: string };
    expect(trailer.codec).toBe('deflate');
    expect(trailer.writer_schema.name).toBe('chunkline.Chunk');
    const expected = await readJsonl(file('c.jsonl'));
    expect(expected.length).toBeGreaterThan(100);
    expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual(expected);
    const manifests = python('container', file('m.avro')).trimEnd().split('\n').slice(0, -1);
    expect(manifests.map((l) => JSON.parse(l) as unknown)).toEqual(await readJsonl(file('m.jsonl')));
  });

  it("schema canonical forms and CRC-64-AVRO fingerprints equal fastavro's", () => {
    const theirs = JSON.parse(python('fingerprints', SCHEMAS_DIR)) as Record<
      string,
      { canonical: string; crc64: string }
    >;
    for (const kind of RECORD_KINDS) {
      const ours = latestSchema(kind);
      const t = theirs[`${kind}/v${ours.version}.avsc`];
      expect(ours.canonical).toBe(t?.canonical);
      expect(fingerprintBytes(ours.fingerprint).toString('hex')).toBe(t?.crc64);
    }
  });

  it('fastavro decodes our single-object encoding', async () => {
    const [first] = await readJsonl(file('c.jsonl'));
    const hex = chunkCodec.encodeSingleObject(first as never).toString('hex');
    const schemaFile = path.join(SCHEMAS_DIR, 'chunk', `v${latestSchema('chunk').version}.avsc`);
    const decoded = JSON.parse(python('single-object', schemaFile, hex)) as unknown;
    expect(decoded).toEqual(first);
  });
});
