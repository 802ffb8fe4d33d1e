import { describe, expect, it } from 'vitest';
import { defaultThreadCount } from '@chunkline/runtime';
import { parseCommandLine } from '../src/args.js';
import { parseDepths, parseNonNegativeInteger, parsePositiveIntegerList } from '../src/usage.js';
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
      '--threads',
      '--whole-if-fits',
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
      threads: defaultThreadCount(),
      wholeIfFitsConfigPath: null,
      hierarchy: 'none',
      parentMaxTokens: null,
      sectionsPath: null,
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

describe('long-context command lines', () => {
  const pack = ['context', 'pack', '--chunks', 'c.jsonl', '--scores', 's.jsonl'];
  const generate = ['niah', 'generate', '--haystack', 'h', '--needle', 'N', '--question', 'Q', '--answer', 'A'];
  const prompts = ['niah', 'prompts', '--chunks', 'c.jsonl', '--manifest', 'm.jsonl', '--out', 'p.jsonl'];

  it.each([
    ['--budget', [...pack, '--budget', '0']],
    ['--budget', [...pack]],
    ['--reserved', [...pack, '--budget', '100', '--reserved', '100']],
    ['--reserved', [...pack, '--budget', '100', '--reserved', '-1']],
    ['--strategy', [...pack, '--budget', '100', '--strategy', 'best']],
    ['--chunks', ['context', 'pack', '--chunks', 'c.csv', '--scores', 's.jsonl', '--budget', '9']],
    ['--scores', ['context', 'pack', '--chunks', 'c.avro', '--scores', 's.csv', '--budget', '9']],
    ['--out', [...pack, '--budget', '9', '--out', 'packed.avro']],
    ['--lengths', [...generate, '--lengths', '1000,x', '--depths', '0', '--out', 'o']],
    ['--lengths', [...generate, '--lengths', '0', '--depths', '0', '--out', 'o']],
    ['--depths', [...generate, '--lengths', '1000', '--depths', '0:100', '--out', 'o']],
    ['--depths', [...generate, '--lengths', '1000', '--depths', '50,101', '--out', 'o']],
    ['--depths', [...generate, '--lengths', '1000', '--out', 'o']],
    ['--needle', [...generate, '--needle', '  ', '--lengths', '1000', '--depths', '0', '--out', 'o']],
    ['--id-prefix', [...generate, '--lengths', '9', '--depths', '0', '--out', 'o', '--id-prefix', 'a/b']],
    ['--manifest', ['niah', 'check', '--chunks', 'c.jsonl']],
    ['--manifest', ['niah', 'check', '--chunks', 'c.jsonl', '--manifest', 'm.json']],
    ['--chunks', ['niah', 'check', '--chunks', 'c.txt', '--manifest', 'm.jsonl']],
    ['--strategies', [...prompts, '--strategies', 'none,bogus']],
    ['--scoring', [...prompts, '--scoring', 'bm25']],
  ])('exits 2 naming %s', (flag, argv) => {
    const cap = captureIo();
    expect(parseCommandLine(argv, cap.io), argv.join(' ')).toEqual({ kind: 'exit', exitCode: 2 });
    expect(cap.stderr()).toContain(flag);
  });

  it('compiles valid command lines with their defaults', () => {
    const io = captureIo().io;
    expect(parseCommandLine([...pack, '--budget', '4096', '--reserved', '512'], io)).toEqual({
      kind: 'context-pack',
      options: {
        chunksPath: 'c.jsonl',
        scoresPath: 's.jsonl',
        outPath: null,
        pack: {
          budgetTokens: 4096,
          reservedTokens: 512,
          strategy: 'important_first_last',
          overheadTokensPerPassage: 0,
          availableTokens: 3584,
        },
      },
    });
    expect(parseCommandLine([...generate, '--lengths', '1000,4000', '--depths', '0:100:25', '--out', 'o'], io)).toEqual(
      {
        kind: 'niah-generate',
        options: {
          haystackPath: 'h',
          needle: 'N',
          question: 'Q',
          answer: 'A',
          lengthsTokens: [1000, 4000],
          depthsPercent: [0, 25, 50, 75, 100],
          tokenizer: 'bert-base-uncased',
          idPrefix: 'niah',
          outDir: 'o',
        },
      },
    );
    expect(parseCommandLine([...prompts], io)).toEqual({
      kind: 'niah-prompts',
      options: {
        chunksPath: 'c.jsonl',
        manifestPath: 'm.jsonl',
        docIdPrefix: null,
        strategies: ['important_first_last', 'reverse_rank', 'none'],
        scoring: 'lexical',
        outPath: 'p.jsonl',
      },
    });
    expect(parseCommandLine(['context', 'plan', 'config.json', '--json'], io)).toEqual({
      kind: 'context-plan',
      options: { configPath: 'config.json', json: true },
    });
  });
});

describe('list parsers', () => {
  it('parseDepths takes a list or an inclusive range', () => {
    expect(parseDepths('0,10,20')).toEqual([0, 10, 20]);
    expect(parseDepths('0:100:10')).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
    expect(parseDepths('0:1:0.1')).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]);
    expect(parseDepths('10:95:20')).toEqual([10, 30, 50, 70, 90]);
    expect(parseDepths('12.5')).toEqual([12.5]);
    for (const bad of ['', '0,', '-5', '101', '0:100', '0:100:0', '50:10:10', '0,0', 'x', '1e2', '0:100:0.01']) {
      expect(() => parseDepths(bad), bad).toThrow();
    }
  });

  it('parsePositiveIntegerList takes distinct integers >= 1', () => {
    expect(parsePositiveIntegerList('1000,4000, 16000')).toEqual([1000, 4000, 16000]);
    for (const bad of ['', '0', '1000,', '1.5', '4k', '10,10'])
      expect(() => parsePositiveIntegerList(bad), bad).toThrow();
  });
});
