import { describe, expect, it } from 'vitest';
import { compileChunkerOptions, isChunkingError } from '@chunkline/chunking';

function errorOf(f: () => unknown): { field: string; message: string } {
  try {
    f();
  } catch (e) {
    if (isChunkingError(e)) return { field: e.field, message: e.message };
    throw e;
  }
  throw new Error('no error');
}

describe('compileChunkerOptions', () => {
  it('fills in the defaults and freezes the result', () => {
    const o = compileChunkerOptions();
    expect(o).toEqual({
      strategy: 'semantic',
      maxTokens: 512,
      overlapTokens: 0,
      reservedTokens: 2,
      budgetTokens: 510,
      wholeIfFitsTokens: null,
      hierarchy: 'none',
      parentMaxTokens: 2048,
    });
    expect(Object.isFrozen(o)).toBe(true);
  });

  it('rejects an overlap at or over the budget and suggests a value', () => {
    const e = errorOf(() => compileChunkerOptions({ maxTokens: 100, overlapTokens: 98 }));
    expect(e.field).toBe('overlapTokens');
    expect(e.message).toContain('must be less than maxTokens - reservedTokens (98)');
    expect(e.message).toContain('e.g. 9');
  });

  it('rejects maxTokens not above reservedTokens', () => {
    const e = errorOf(() => compileChunkerOptions({ maxTokens: 2, reservedTokens: 2 }));
    expect(e.field).toBe('maxTokens');
    expect(e.message).toContain('must be greater than reservedTokens');
  });

  it('rejects an unknown strategy by naming the choices', () => {
    const e = errorOf(() => compileChunkerOptions({ strategy: 'fancy' as never }));
    expect(e.field).toBe('strategy');
    expect(e.message).toContain('semantic, window');
  });

  it.each([
    ['maxTokens', 0],
    ['maxTokens', 1.5],
    ['overlapTokens', -1],
    ['reservedTokens', Number.NaN],
  ])('rejects %s = %s', (field, value) => {
    expect(errorOf(() => compileChunkerOptions({ [field]: value })).field).toBe(field);
  });
});
