import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  fitsWholeDocument,
  formatContextWindowPlan,
  isContextError,
  planContextWindow,
  type HfModelConfig,
} from '@chunkline/context';

const MODELS = join(import.meta.dirname, 'fixtures', 'models');

function model(name: string): HfModelConfig {
  return JSON.parse(readFileSync(join(MODELS, `${name}.config.json`), 'utf8')) as HfModelConfig;
}

function errorOf(f: () => unknown): { code: string; field: string; message: string } {
  try {
    f();
  } catch (e) {
    if (isContextError(e)) return { code: e.code, field: e.field, message: e.message };
    throw e;
  }
  throw new Error('no error');
}

describe('planContextWindow on real configs', () => {
  it('Llama 2 7B: 4096 tokens, no scaling', () => {
    const p = planContextWindow(model('llama-2-7b'));
    expect(p).toMatchObject({
      method: 'none',
      trainedWindowTokens: 4096,
      originalWindowTokens: 4096,
      extendedWindowTokens: 4096,
      scalingFactor: 1,
      ropeTheta: null,
      slidingWindowTokens: null,
      needsFineTuning: false,
      extendsAtInference: false,
      lostInTheMiddle: true,
    });
  });

  it('Llama 3.1 8B: the trained window is 131072, not factor x original (65536)', () => {
    const p = planContextWindow(model('llama-3.1-8b'));
    expect(p).toMatchObject({
      method: 'llama3',
      trainedWindowTokens: 131072,
      originalWindowTokens: 8192,
      extendedWindowTokens: 131072,
      scalingFactor: 8,
      ropeTheta: 500000,
      needsFineTuning: false,
      extendsAtInference: false,
    });
  });

  it('Qwen2 7B Instruct with its model card YaRN block: 32768 trained, 131072 extended at inference', () => {
    const p = planContextWindow(model('qwen2-7b-instruct-yarn'));
    expect(p).toMatchObject({
      method: 'yarn',
      trainedWindowTokens: 32768,
      originalWindowTokens: 32768,
      extendedWindowTokens: 131072,
      scalingFactor: 4,
      ropeTheta: 1000000,
      // sliding_window is set but use_sliding_window is false.
      slidingWindowTokens: null,
      needsFineTuning: false,
      extendsAtInference: true,
    });
  });

  it('Mistral 7B v0.1: 32768 positions with a 4096-token sliding window', () => {
    const p = planContextWindow(model('mistral-7b-v0.1'));
    expect(p).toMatchObject({
      method: 'none',
      trainedWindowTokens: 32768,
      extendedWindowTokens: 32768,
      slidingWindowTokens: 4096,
      ropeTheta: 10000,
    });
    expect(p.notes.join('\n')).toContain('last 4096 tokens');
  });

  it('always flags lost in the middle with a note, and freezes the plan', () => {
    for (const name of ['llama-2-7b', 'llama-3.1-8b', 'qwen2-7b-instruct-yarn', 'mistral-7b-v0.1']) {
      const p = planContextWindow(model(name));
      expect(p.lostInTheMiddle).toBe(true);
      expect(p.notes.at(-1)).toMatch(/^Lost in the middle/);
      expect(Object.isFrozen(p)).toBe(true);
    }
  });
});

describe('planContextWindow semantics', () => {
  it('linear scaling by f gives original x f and needs fine-tuning', () => {
    const p = planContextWindow({ max_position_embeddings: 4096, rope_scaling: { type: 'linear', factor: 4 } });
    expect(p).toMatchObject({
      method: 'linear',
      originalWindowTokens: 4096,
      extendedWindowTokens: 16384,
      needsFineTuning: true,
      extendsAtInference: false,
    });
    const withOriginal = planContextWindow({
      max_position_embeddings: 16384,
      rope_scaling: { rope_type: 'linear', factor: 4, original_max_position_embeddings: 4096 },
    });
    expect(withOriginal.extendedWindowTokens).toBe(16384);
  });

  it('dynamic NTK extends at inference with no fine-tuning', () => {
    const p = planContextWindow({ max_position_embeddings: 2048, rope_scaling: { type: 'dynamic', factor: 2 } });
    expect(p).toMatchObject({
      method: 'dynamic',
      trainedWindowTokens: 2048,
      extendedWindowTokens: 4096,
      needsFineTuning: false,
      extendsAtInference: true,
    });
    expect(p.notes[0]).toContain('not a hard limit');
  });

  it('YaRN whose max_position_embeddings already is the extension is not an inference-time extension', () => {
    const p = planContextWindow({
      max_position_embeddings: 65536,
      rope_scaling: { type: 'yarn', factor: 16, original_max_position_embeddings: 4096 },
    });
    expect(p).toMatchObject({ trainedWindowTokens: 65536, extendedWindowTokens: 65536, extendsAtInference: false });
  });

  it('reads transformers v5 rope_parameters, and "default" means no scaling', () => {
    expect(
      planContextWindow({
        max_position_embeddings: 40960,
        rope_parameters: { rope_type: 'default', rope_theta: 1000000 },
      }),
    ).toMatchObject({ method: 'none', extendedWindowTokens: 40960, ropeTheta: 1000000 });
    expect(
      planContextWindow({
        max_position_embeddings: 32768,
        rope_parameters: { rope_type: 'yarn', factor: 4, original_max_position_embeddings: 32768 },
      }).extendedWindowTokens,
    ).toBe(131072);
  });

  it('rejects unknown scaling types, naming the field they came from', () => {
    const e = errorOf(() =>
      planContextWindow({ max_position_embeddings: 4096, rope_scaling: { rope_type: 'longrope', factor: 32 } }),
    );
    expect(e).toMatchObject({ code: 'BAD_CONFIG', field: 'rope_scaling.rope_type' });
    expect(e.message).toContain('linear, dynamic, yarn, llama3');
    expect(
      errorOf(() => planContextWindow({ max_position_embeddings: 4096, rope_scaling: { type: 'su', factor: 2 } }))
        .field,
    ).toBe('rope_scaling.type');
    expect(errorOf(() => planContextWindow({ max_position_embeddings: 4096, rope_scaling: { factor: 2 } })).field).toBe(
      'rope_scaling.type',
    );
  });

  it('rejects a missing window, a bad factor and a llama3 block without its original window', () => {
    expect(errorOf(() => planContextWindow({})).field).toBe('max_position_embeddings');
    expect(errorOf(() => planContextWindow({ text_config: {} })).message).toContain('pass its text_config');
    expect(
      errorOf(() => planContextWindow({ max_position_embeddings: 4096, rope_scaling: { type: 'linear' } })).field,
    ).toBe('rope_scaling.factor');
    expect(
      errorOf(() => planContextWindow({ max_position_embeddings: 4096, rope_scaling: { type: 'yarn', factor: 0.5 } }))
        .field,
    ).toBe('rope_scaling.factor');
    expect(
      errorOf(() =>
        planContextWindow({ max_position_embeddings: 131072, rope_scaling: { rope_type: 'llama3', factor: 8 } }),
      ).field,
    ).toBe('rope_scaling.original_max_position_embeddings');
    expect(errorOf(() => planContextWindow(null as never)).field).toBe('config');
  });
});

describe('fitsWholeDocument', () => {
  it('compares tokens plus reserved tokens with the extended window', () => {
    const llama2 = planContextWindow(model('llama-2-7b'));
    expect(fitsWholeDocument(llama2, 4000, 96)).toBe(true);
    expect(fitsWholeDocument(llama2, 4000, 97)).toBe(false);
    expect(fitsWholeDocument(llama2, 4096)).toBe(true);
    const qwen = planContextWindow(model('qwen2-7b-instruct-yarn'));
    expect(fitsWholeDocument(qwen, 100000, 1000)).toBe(true);
  });

  it('rejects negative or fractional counts', () => {
    const p = planContextWindow(model('llama-2-7b'));
    expect(errorOf(() => fitsWholeDocument(p, -1)).field).toBe('numTokens');
    expect(errorOf(() => fitsWholeDocument(p, 10, 1.5)).field).toBe('reservedTokens');
  });
});

describe('formatContextWindowPlan', () => {
  it('prints the plan and its notes', () => {
    const text = formatContextWindowPlan(planContextWindow(model('qwen2-7b-instruct-yarn')));
    expect(text).toContain('method                yarn');
    expect(text).toContain('extended window       131072 tokens');
    expect(text).toContain('extends at inference  yes');
    expect(text).toContain('- Lost in the middle');
  });
});
