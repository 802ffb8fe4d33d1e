// A chunking thread (dist/chunk-task.js) that dies on cue, for group-output.test.ts:
// - a group with a file named `die-now…`: the thread exits while chunking it (the task never answers),
//   whether it claimed the group or was sent it;
// - a group with a file named `die-after…`: a thread that claimed it exits once the group's sizes are
//   published (it may be placed), before writing it; a thread that was sent it answers, then exits at
//   the start of its next task, before it has written that group (which the main thread places only
//   after the answer).
import { workerData } from 'piscina';
import { createChunkContext, serveFiles } from '../dist/chunk-task.js';

const named = (files, part) => files.some((f) => f.docId.includes(part));
const serve = serveFiles(await createChunkContext(workerData), {
  beforeGroup: (files) => {
    if (named(files, 'die-now')) process.exit(1);
  },
  afterSized: (files) => {
    if (named(files, 'die-after')) process.exit(1);
  },
});
let dieOnNext = false;

export default async function handle(task) {
  if (dieOnNext) process.exit(1);
  const files = task.files ?? [];
  if (named(files, 'die-now')) process.exit(1);
  const reply = await serve(task);
  if (task.kind === 'place' && named(files, 'die-after')) dieOnNext = true;
  return reply;
}
