/**
 * Context-window planning from a model's Hugging Face `config.json`: how many tokens the model was
 * trained on, how far its RoPE scaling extends that, and what to expect when you use it.
 *
 * RoPE scaling in `config.json` (field names as in transformers' `rope_scaling` / `rope_parameters`,
 * https://huggingface.co/docs/transformers/main/en/internal/rope_utils):
 * - `linear`: Position Interpolation (Chen et al. 2023, https://arxiv.org/abs/2306.15595); positions are
 *   divided by `factor`, so `original × factor` positions fit in the trained range. Works best after
 *   fine-tuning at the longer length.
 * - `dynamic`: dynamic NTK scaling; the RoPE base grows with the sequence once it passes the original
 *   length, at inference, with no fine-tuning. No hard ceiling; `original × factor` is the nominal reach.
 * - `yarn`: YaRN (Peng et al. 2023, https://arxiv.org/abs/2309.00071); reaches `original × factor`.
 *   Qwen2's model card, for instance, enables it to go from 32,768 to 131,072 tokens.
 * - `llama3`: the frequency-dependent scaling Llama 3.1 was trained with; `max_position_embeddings`
 *   already is the long window (131,072), and `original_max_position_embeddings` (8,192) is the window
 *   before the long-context training. `factor × original` (65,536) is not the window.
 */
import { ContextError } from './errors.js';

/** RoPE scaling methods {@link planContextWindow} understands; `none` when there is no scaling. */
export type RopeScalingMethod = 'none' | 'linear' | 'dynamic' | 'yarn' | 'llama3';

/** `rope_scaling` (or transformers v5 `rope_parameters`) of a `config.json`. Other fields are ignored. */
export interface RopeScalingConfig {
  /** The method, older spelling. */
  readonly type?: string;
  /** The method, newer spelling (wins over `type` when both are set). */
  readonly rope_type?: string;
  readonly factor?: number;
  /** The window before scaling; defaults to `max_position_embeddings`. */
  readonly original_max_position_embeddings?: number;
  readonly rope_theta?: number;
  readonly [key: string]: unknown;
}

/** The fields of a Hugging Face `config.json` that {@link planContextWindow} reads. Others are ignored. */
export interface HfModelConfig {
  readonly max_position_embeddings?: number;
  readonly rope_scaling?: RopeScalingConfig | null;
  /** transformers v5 spelling of `rope_scaling` (also carries `rope_theta`); read when `rope_scaling` is absent. */
  readonly rope_parameters?: RopeScalingConfig | null;
  readonly rope_theta?: number;
  /** Attention span of each layer for sliding-window models (Mistral 7B v0.1: 4096). */
  readonly sliding_window?: number | null;
  /** Qwen2 sets `sliding_window` but turns it off with `use_sliding_window: false`. */
  readonly use_sliding_window?: boolean;
  readonly model_type?: string;
  readonly [key: string]: unknown;
}

/** What a model's `config.json` says about its context window, with the caveats that go with it. */
export interface ContextWindowPlan {
  readonly method: RopeScalingMethod;
  /**
   * `max_position_embeddings`: the window the checkpoint declares. Llama 3.1: 131,072 (trained there);
   * Qwen2 7B: 32,768 (its YaRN block extends past it at inference).
   */
  readonly trainedWindowTokens: number;
  /** The window before any scaling: `original_max_position_embeddings`, else `max_position_embeddings`. */
  readonly originalWindowTokens: number;
  /**
   * The window the config makes usable: `trainedWindowTokens` without scaling and for `llama3`;
   * otherwise the larger of `trainedWindowTokens` and `originalWindowTokens × factor`.
   */
  readonly extendedWindowTokens: number;
  /** `rope_scaling.factor`; 1 without scaling. */
  readonly scalingFactor: number;
  /** RoPE base (`rope_theta`), or null when the config does not say (transformers then uses 10,000). */
  readonly ropeTheta: number | null;
  /**
   * Per-layer attention span for sliding-window attention (Mistral 7B v0.1: 4096), null when every
   * layer attends over the whole window. Tokens farther back reach a position only through stacked layers.
   */
  readonly slidingWindowTokens: number | null;
  /**
   * True for `linear`: Position Interpolation works best once the model is fine-tuned at the longer
   * length (check that the checkpoint was). False for `dynamic` (needs none), `yarn` and `llama3` (the
   * model's authors trained or validated the extension they publish), and without scaling.
   */
  readonly needsFineTuning: boolean;
  /**
   * True when the extension happens at inference past `trainedWindowTokens`: `dynamic` always, `yarn`
   * when `extendedWindowTokens` is over `trainedWindowTokens` (Qwen2). Expect some quality loss there.
   */
  readonly extendsAtInference: boolean;
  /** Always true: even a model trained on a long window uses its middle worst (order passages with `reorder`). */
  readonly lostInTheMiddle: true;
  /** The caveats above as sentences, for people. */
  readonly notes: readonly string[];
}

const METHODS: readonly RopeScalingMethod[] = ['linear', 'dynamic', 'yarn', 'llama3'];
/** Spellings of "no scaling" seen in configs (`default` is transformers' own name). */
const NO_SCALING = ['default', 'none'];

function positiveInt(field: string, value: unknown, hint = ''): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new ContextError(
      'BAD_CONFIG',
      field,
      `${field} must be a positive integer, got ${JSON.stringify(value)}${hint}`,
    );
  }
  return value;
}

function readScaling(config: HfModelConfig): { block: RopeScalingConfig | null; name: string } {
  if (config.rope_scaling !== undefined && config.rope_scaling !== null) {
    return { block: config.rope_scaling, name: 'rope_scaling' };
  }
  if (config.rope_scaling === undefined && config.rope_parameters !== undefined && config.rope_parameters !== null) {
    return { block: config.rope_parameters, name: 'rope_parameters' };
  }
  return { block: null, name: 'rope_scaling' };
}

/**
 * Reads a parsed Hugging Face `config.json` and returns its {@link ContextWindowPlan}.
 *
 * Throws a {@link ContextError} (`BAD_CONFIG`, with the field) for a missing or non-integer
 * `max_position_embeddings`, an unknown scaling type, or a missing or bad `factor`.
 */
export function planContextWindow(config: HfModelConfig): ContextWindowPlan {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new ContextError('BAD_CONFIG', 'config', 'config must be the object parsed from a config.json');
  }
  const nested =
    typeof config.text_config === 'object' && config.text_config !== null
      ? '; this looks like a multimodal config: pass its text_config'
      : '';
  const trained = positiveInt('max_position_embeddings', config.max_position_embeddings, nested);
  const { block, name } = readScaling(config);
  if (block !== null && (typeof block !== 'object' || Array.isArray(block))) {
    throw new ContextError('BAD_CONFIG', name, `${name} must be an object or null, got ${JSON.stringify(block)}`);
  }
  const typeField = block?.rope_type !== undefined ? `${name}.rope_type` : `${name}.type`;
  const rawType = block?.rope_type ?? block?.type;
  let method: RopeScalingMethod;
  if (block === null || (typeof rawType === 'string' && NO_SCALING.includes(rawType))) method = 'none';
  else if (typeof rawType === 'string' && (METHODS as readonly string[]).includes(rawType)) {
    method = rawType as RopeScalingMethod;
  } else if (rawType === undefined && name === 'rope_parameters') method = 'none';
  else {
    throw new ContextError(
      'BAD_CONFIG',
      typeField,
      `${typeField} must be one of ${METHODS.join(', ')} (or default for none), got ${JSON.stringify(rawType)}; ` +
        'planContextWindow cannot tell the window for other scaling methods',
    );
  }

  const thetaRaw = config.rope_theta ?? block?.rope_theta;
  const ropeTheta = typeof thetaRaw === 'number' && Number.isFinite(thetaRaw) && thetaRaw > 0 ? thetaRaw : null;
  const sliding =
    typeof config.sliding_window === 'number' && config.use_sliding_window !== false
      ? positiveInt('sliding_window', config.sliding_window)
      : null;

  let factor = 1;
  let original = trained;
  if (method !== 'none' && block !== null) {
    const f = block.factor;
    if (typeof f !== 'number' || !Number.isFinite(f) || f < 1) {
      throw new ContextError(
        'BAD_CONFIG',
        `${name}.factor`,
        `${name}.factor must be a number >= 1 for ${method} scaling, got ${JSON.stringify(f)}`,
      );
    }
    factor = f;
    const o = block.original_max_position_embeddings;
    if (o === undefined && method === 'llama3') {
      throw new ContextError(
        'BAD_CONFIG',
        `${name}.original_max_position_embeddings`,
        `${name}.original_max_position_embeddings is required for llama3 scaling (Llama 3.1: 8192)`,
      );
    }
    if (o !== undefined) original = positiveInt(`${name}.original_max_position_embeddings`, o);
  }
  const scaled = Math.floor(original * factor);
  const extended = method === 'none' || method === 'llama3' ? trained : Math.max(trained, scaled);
  const extendsAtInference = method === 'dynamic' || (method === 'yarn' && extended > trained);
  const needsFineTuning = method === 'linear';

  const notes: string[] = [];
  switch (method) {
    case 'none':
      notes.push(`No RoPE scaling: the model was trained on up to ${trained} tokens; longer inputs degrade fast.`);
      break;
    case 'linear':
      notes.push(
        `Linear scaling (Position Interpolation) by ${factor}: ${original} × ${factor} = ${scaled} positions. ` +
          'It works best after fine-tuning at the longer length; check that this checkpoint was fine-tuned with it.',
      );
      break;
    case 'dynamic':
      notes.push(
        `Dynamic NTK scaling extends past ${original} tokens at inference, with no fine-tuning; ` +
          `${scaled} (${original} × ${factor}) is its nominal reach, not a hard limit, and quality falls beyond it.`,
      );
      break;
    case 'yarn':
      notes.push(
        extendsAtInference
          ? `YaRN by ${factor} extends the trained ${trained} tokens to ${extended} at inference. ` +
              'Static YaRN applies the same factor to short inputs too, which can cost a little quality on them.'
          : `YaRN by ${factor}: the checkpoint declares the extended window (${trained} tokens) itself.`,
      );
      break;
    case 'llama3':
      notes.push(
        `Llama 3 scaling: trained on ${trained} tokens after extending the original ${original}-token window; ` +
          'use the window as is, no fine-tuning needed.',
      );
      break;
  }
  if (sliding !== null && sliding < extended) {
    notes.push(
      `Sliding-window attention: each layer attends to the last ${sliding} tokens only; ` +
        'earlier tokens reach a position only through stacked layers, so long-range recall is weaker.',
    );
  }
  notes.push(
    'Lost in the middle: even within the window, models use the start and the end of the context best; ' +
      'put the most relevant passages at the ends (reorder) and test with needle-in-a-haystack.',
  );

  return Object.freeze({
    method,
    trainedWindowTokens: trained,
    originalWindowTokens: original,
    extendedWindowTokens: extended,
    scalingFactor: factor,
    ropeTheta,
    slidingWindowTokens: sliding,
    needsFineTuning,
    extendsAtInference,
    lostInTheMiddle: true as const,
    notes: Object.freeze(notes),
  });
}

/**
 * True when a document of `numTokens` tokens plus `reservedTokens` (instructions, question, special
 * tokens, the answer) fits the plan's `extendedWindowTokens` as one chunk: what
 * `chunkline chunk --whole-if-fits` uses to keep such documents whole.
 */
export function fitsWholeDocument(plan: ContextWindowPlan, numTokens: number, reservedTokens = 0): boolean {
  if (typeof numTokens !== 'number' || !Number.isInteger(numTokens) || numTokens < 0) {
    throw new ContextError(
      'BAD_INPUT',
      'numTokens',
      `numTokens must be an integer >= 0, got ${JSON.stringify(numTokens)}`,
    );
  }
  if (typeof reservedTokens !== 'number' || !Number.isInteger(reservedTokens) || reservedTokens < 0) {
    throw new ContextError(
      'BAD_OPTION',
      'reservedTokens',
      `reservedTokens must be an integer >= 0, got ${JSON.stringify(reservedTokens)}`,
    );
  }
  return numTokens + reservedTokens <= plan.extendedWindowTokens;
}

/** The plan as a few lines of text for a terminal: one `name  value` row per field, then the notes. */
export function formatContextWindowPlan(plan: ContextWindowPlan): string {
  const rows: [string, string][] = [
    ['method', plan.method],
    ['trained window', `${plan.trainedWindowTokens} tokens`],
    ['original window', `${plan.originalWindowTokens} tokens`],
    ['extended window', `${plan.extendedWindowTokens} tokens`],
    ['scaling factor', String(plan.scalingFactor)],
    ['rope_theta', plan.ropeTheta === null ? 'not set' : String(plan.ropeTheta)],
    ['sliding window', plan.slidingWindowTokens === null ? 'none' : `${plan.slidingWindowTokens} tokens`],
    ['needs fine-tuning', plan.needsFineTuning ? 'yes' : 'no'],
    ['extends at inference', plan.extendsAtInference ? 'yes' : 'no'],
    ['lost in the middle', 'yes'],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return [...rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`), '', ...plan.notes.map((n) => `- ${n}`)].join('\n');
}
