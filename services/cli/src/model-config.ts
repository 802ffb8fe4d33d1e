/** Reading a model's Hugging Face `config.json` into a context-window plan. */
import { readFile } from 'node:fs/promises';
import { isContextError, planContextWindow, type ContextWindowPlan, type HfModelConfig } from '@chunkline/context';
import { UsageError } from './usage.js';

/**
 * Reads `file` (a model's `config.json`) and plans its context window. A file that cannot be read, is
 * not JSON, or that `planContextWindow` rejects is a {@link UsageError} whose message starts with
 * `what` (the flag, e.g. `--whole-if-fits`, or the argument's name) and the file.
 */
export async function readModelPlan(file: string, what: string): Promise<ContextWindowPlan> {
  const where = `${what} ${file}`;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`${where}: cannot read the model config (${code ?? (err as Error).message})`);
  }
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${where}: not a JSON model config.json (${(err as Error).message})`);
  }
  try {
    return planContextWindow(config as HfModelConfig);
  } catch (err) {
    if (!isContextError(err)) throw err;
    throw new UsageError(`${where}: ${err.message}`);
  }
}
