/**
 * A worker thread of the streaming worker's pool: builds its own processor (its own tokenizer, loaded
 * once) from the spec the main thread gives, then serves records (see ThreadPool in @chunkline/runtime).
 */
import { workerData } from 'piscina';
import { serveRecords } from '@chunkline/runtime';
import { buildProcessor, type ProcessorSpec } from './processor.js';

const built = await buildProcessor(workerData as ProcessorSpec);

export default serveRecords(built.processor, built.info);
