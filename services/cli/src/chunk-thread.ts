/** A thread of `chunkline chunk --threads N`: loads its tokenizer once, then chunks the files it is given. */
import { workerData } from 'piscina';
import { createChunkContext, serveFiles, type ChunkTaskSpec } from './chunk-task.js';

export default serveFiles(await createChunkContext(workerData as ChunkTaskSpec));
