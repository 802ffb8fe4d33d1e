/**
 * Schema evolution: every version in schemas/ reads its predecessor's data and the reverse (Avro schema
 * resolution), and the checker itself catches the changes that break that.
 */
import { describe, expect, it } from 'vitest';
import { checkEvolution, RECORD_KINDS, schemaVersions } from '@chunkline/records';
import type avro from 'avsc';

type RecordSchema = { type: 'record'; name: string; namespace: string; fields: Record<string, unknown>[] };

describe('schemas/ evolution', () => {
  it.each(RECORD_KINDS)('%s: each version is compatible with the one before, both ways', (kind) => {
    const versions = schemaVersions(kind).map((v) => [v.version, v.schema] as const);
    expect(versions.length).toBeGreaterThan(0);
    expect(versions.map(([v]) => v)).toEqual(versions.map((_, i) => i + 1));
    expect(checkEvolution(versions)).toEqual([]);
  });
});

describe('checkEvolution', () => {
  const v1 = schemaVersions('chunk')[0]!.schema as unknown as RecordSchema;
  const next = (change: (fields: Record<string, unknown>[]) => Record<string, unknown>[]): avro.Schema =>
    ({ ...v1, fields: change(structuredClone(v1.fields)) }) as unknown as avro.Schema;
  const check = (s: avro.Schema) =>
    checkEvolution([
      [1, v1 as unknown as avro.Schema],
      [2, s],
    ]);

  it('accepts a new field with a default', () => {
    expect(check(next((f) => [...f, { name: 'parent_id', type: ['null', 'string'], default: null }]))).toEqual([]);
  });

  it('fails when a field without a default is added: the new schema cannot read old data', () => {
    const problems = check(next((f) => [...f, { name: 'parent_id', type: 'string' }]));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ from: 1, to: 2, direction: 'backward' });
  });

  it('fails when a field without a default is removed: old readers cannot read new data', () => {
    const problems = check(next((f) => f.filter((x) => x.name !== 'tokenizer')));
    expect(problems.map((p) => p.direction)).toEqual(['forward']);
  });

  it('fails on a rename without an alias, and accepts it with one (in the backward direction)', () => {
    const renamed = check(next((f) => f.map((x) => (x.name === 'tokenizer' ? { ...x, name: 'tokenizer_id' } : x))));
    expect(renamed.length).toBeGreaterThan(0);
    const aliased = check(
      next((f) => f.map((x) => (x.name === 'tokenizer' ? { ...x, name: 'tokenizer_id', aliases: ['tokenizer'] } : x))),
    );
    expect(aliased.map((p) => p.direction)).toEqual(['forward']);
  });

  it('fails on a type change that does not promote', () => {
    expect(check(next((f) => f.map((x) => (x.name === 'num_tokens' ? { ...x, type: 'string' } : x)))).length).toBe(2);
  });
});
