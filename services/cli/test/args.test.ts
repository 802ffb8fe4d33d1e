import { describe, expect, it } from 'vitest';
import { parseCommandLine, parseNonNegativeInteger } from '../src/args.js';
import { captureIo } from './helpers.js';

describe('chunkline argument parsing', () => {
  it('--help lists every flag with its default', () => {
    const cap = captureIo();
    const parsed = parseCommandLine(['chunk', '--help'], cap.io);
    expect(parsed).toEqual({ kind: 'exit', exitCode: 0 });
    const help = cap.stdout().replace(/\s+/g, ' ');
    for (const flag of [
      '--tokenizer',
      '--strategy',
      '--max-tokens',
      '--overlap',
      '--reserved',
      '--out',
      '--manifests',
      '--verify',
      '--quiet',
      '--help',
    ]) {
      expect(help).toContain(flag);
    }
    for (const def of [
      '(default: "bert-base-uncased")',
      'default: "semantic"',
      '(default: 512)',
      '(default: 0)',
      '(default: 2)',
      'default: not written',
      '(default: false)',
    ]) {
      expect(help).toContain(def);
    }
    expect(help).toContain('choices: "semantic", "window"');
  });

  it('fills in the defaults and freezes the options', () => {
    const parsed = parseCommandLine(['chunk', 'a', 'b/', '--out', 'o.jsonl'], captureIo().io);
    expect(parsed.kind).toBe('chunk');
    if (parsed.kind !== 'chunk') return;
    expect(parsed.options).toEqual({
      paths: ['a', 'b/'],
      tokenizer: 'bert-base-uncased',
      strategy: 'semantic',
      maxTokens: 512,
      overlapTokens: 0,
      reservedTokens: 2,
      outPath: 'o.jsonl',
      manifestsPath: null,
      verify: false,
      quiet: false,
    });
    expect(Object.isFrozen(parsed.options)).toBe(true);
  });

  it.each(['abc', '1.5', '-1', '', '1e3', '0x10', '99999999999999999999'])(
    'rejects --max-tokens %j naming the flag (exit 2)',
    (bad) => {
      const cap = captureIo();
      const parsed = parseCommandLine(['chunk', 'docs', '--out', 'o.jsonl', '--max-tokens', bad], cap.io);
      expect(parsed).toEqual({ kind: 'exit', exitCode: 2 });
      expect(cap.stderr()).toContain('--max-tokens');
    },
  );

  it.each(['--overlap', '--reserved'])('rejects a negative %s naming the flag', (flag) => {
    const cap = captureIo();
    expect(parseCommandLine(['chunk', 'docs', '--out', 'o.jsonl', flag, '-3'], cap.io)).toEqual({
      kind: 'exit',
      exitCode: 2,
    });
    expect(cap.stderr()).toContain(flag);
  });

  it('rejects an unknown strategy, a missing --out, and no paths with exit 2', () => {
    for (const argv of [
      ['chunk', 'docs', '--out', 'o.jsonl', '--strategy', 'magic'],
      ['chunk', 'docs'],
      ['chunk', '--out', 'o.jsonl'],
      [],
      ['frobnicate'],
    ]) {
      const cap = captureIo();
      expect(parseCommandLine(argv, cap.io), argv.join(' ')).toEqual({ kind: 'exit', exitCode: 2 });
      expect(cap.stderr()).not.toBe('');
    }
  });

  it('takes .avro and .jsonl output and refuses other extensions with exit 2', () => {
    const avro = captureIo();
    expect(
      parseCommandLine(['chunk', 'docs', '--out', 'chunks.avro', '--manifests', 'm.jsonl'], avro.io),
    ).toMatchObject({
      kind: 'chunk',
      options: { outPath: 'chunks.avro', manifestsPath: 'm.jsonl' },
    });
    expect(parseCommandLine(['inspect', 'chunks.avro'], avro.io)).toEqual({ kind: 'inspect', file: 'chunks.avro' });
    const csv = captureIo();
    expect(parseCommandLine(['chunk', 'docs', '--out', 'chunks.csv'], csv.io)).toEqual({ kind: 'exit', exitCode: 2 });
    expect(csv.stderr()).toContain('--out');
    const same = captureIo();
    expect(parseCommandLine(['chunk', 'docs', '--out', 'x.jsonl', '--manifests', './x.jsonl'], same.io)).toEqual({
      kind: 'exit',
      exitCode: 2,
    });
    expect(same.stderr()).toContain('--manifests');
  });

  it('parseNonNegativeInteger accepts plain digits only', () => {
    expect(parseNonNegativeInteger('0')).toBe(0);
    expect(parseNonNegativeInteger('0512')).toBe(512);
    expect(() => parseNonNegativeInteger(' 1')).toThrow();
  });
});
