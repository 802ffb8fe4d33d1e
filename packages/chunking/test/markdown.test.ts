import { describe, expect, it } from 'vitest';
import { createChunker } from '@chunkline/chunking';
import { tokenizer } from './tokenizers.js';

const DOC = [
  '# Guide',
  '',
  'Intro text that explains the guide in a sentence or two.',
  '',
  '## Install',
  '',
  '```sh',
  'npm ci',
  '',
  'npm test',
  '```',
  '',
  '### Notes',
  '',
  '| flag | meaning |',
  '|------|---------|',
  '| -v   | verbose |',
  '',
  '## Use',
  '',
  'Run it. '.repeat(40).trim(),
  '',
].join('\n');

describe('markdown', () => {
  it('puts the heading path on every chunk and keeps code blocks and tables whole', async () => {
    const tok = await tokenizer('bert-base-uncased');
    const r = createChunker(tok, { maxTokens: 40 }).chunk({ docId: 'g', text: DOC, contentType: 'text/markdown' });
    const byStart = (s: string) => r.chunks.find((c) => c.text.includes(s));
    expect(byStart('Intro text')?.heading_path).toEqual(['Guide']);
    const code = byStart('npm ci');
    expect(code?.text).toContain('npm test\n```');
    expect(code?.heading_path).toEqual(['Guide', 'Install']);
    expect(byStart('| -v')?.text).toContain('| flag | meaning |');
    expect(byStart('| -v')?.heading_path).toEqual(['Guide', 'Install', 'Notes']);
    const use = r.chunks.filter((c) => c.text.includes('Run it.'));
    expect(use.length).toBeGreaterThan(1); // the long paragraph is split at sentences
    for (const c of use) expect(c.heading_path).toEqual(['Guide', 'Use']);
    expect(r.chunks.map((c) => c.text).join('')).toBe(DOC);
  });

  it('does not take a # line inside a fence for a heading', async () => {
    const tok = await tokenizer('bert-base-uncased');
    const text = '# A\n\n```\n# not a heading\n```\n\ntext after\n';
    const r = createChunker(tok, { maxTokens: 512 }).chunk({ docId: 'f', text, contentType: 'text/markdown' });
    expect(r.chunks).toHaveLength(1);
    expect(r.chunks[0]?.heading_path).toEqual(['A']);
    expect(r.chunks[0]?.strategy).toBe('whole');
  });

  it('plain text gets no heading path', async () => {
    const tok = await tokenizer('bert-base-uncased');
    const r = createChunker(tok).chunk({ docId: 'p', text: '# not markdown\n\nbody' });
    expect(r.chunks[0]?.heading_path).toEqual([]);
  });
});
