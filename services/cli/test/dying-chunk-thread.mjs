// A chunking thread (dist/chunk-task.js) that dies on cue, for group-output.test.ts:
// - a group with a file named `die-now…`: the thread exits while chunking it (the task never answers);
// - a group with a file named `die-after…`: the thread answers, then exits at the start of its next
//   task, before it has written that group (which the main thread places only after the answer).
import { workerData } from 'piscina';
import { createChunkContext, serveFiles } from '../dist/chunk-task.js';

const serve = serveFiles(await createChunkContext(workerData));
let dieOnNext = false;

export default async function handle(task) {
  if (dieOnNext) process.exit(1);
  const names = task.files?.map((f) => f.docId) ?? [];
  if (names.some((n) => n.includes('die-now'))) process.exit(1);
  const reply = await serve(task);
  if (task.kind === 'place' && names.some((n) => n.includes('die-after'))) dieOnNext = true;
  return reply;
}
