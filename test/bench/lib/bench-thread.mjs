// The chunking thread of `chunkline chunk --threads N` (services/cli/dist/chunk-task.js), with one more
// task for the thread benchmark: { kind: 'clear-cache' } empties this thread's word cache, so that every
// timed pass starts from the same cache contents.
import { workerData } from 'piscina';
import { createChunkContext, serveFiles } from '../../../services/cli/dist/chunk-task.js';

const ctx = await createChunkContext(workerData);
const serve = serveFiles(ctx);

export default async function handle(task) {
  if (task.kind === 'clear-cache') {
    ctx.tokenizer.clearCache?.();
    return { kind: 'clear-cache' };
  }
  return serve(task);
}
