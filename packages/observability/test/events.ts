/** A realistic run of runtime events, shared by the tests. */
import type { RuntimeEvent } from '@chunkline/runtime';

const TOPIC = 'docs.raw';

type DocumentEvent = Extract<RuntimeEvent, { type: 'document' }>;

function doc(fields: Partial<DocumentEvent> & Pick<DocumentEvent, 'partition' | 'offset' | 'outcome'>): DocumentEvent {
  return {
    type: 'document',
    topic: TOPIC,
    docId: `doc-${fields.partition}-${fields.offset}`,
    chunks: 0,
    tokens: 0,
    bytes: 0,
    chunkTokens: [],
    overCapGraphemes: 0,
    processingMs: 0,
    ...fields,
  };
}

/** Start, join, two partitions of work (chunked, deleted, dead-lettered, an aborted batch and a retry). */
export const STARTUP: readonly RuntimeEvent[] = [
  { type: 'state', from: 'INITIALIZED', to: 'RUNNING' },
  { type: 'producer-ready', ready: true, producers: 2 },
  { type: 'group-joined', memberId: 'chunker-0-1a2b', assignment: { [TOPIC]: [0, 1] } },
];

export const WORK: readonly RuntimeEvent[] = [
  { type: 'lag', topic: TOPIC, partition: 0, lag: 120 },
  { type: 'lag', topic: TOPIC, partition: 1, lag: 7 },
  doc({
    partition: 0,
    offset: '100',
    outcome: 'chunked',
    chunks: 3,
    tokens: 900,
    bytes: 4000,
    chunkTokens: [510, 300, 90],
    processingMs: 12,
  }),
  doc({ partition: 0, offset: '101', outcome: 'deleted', docId: 'doc-0-100', processingMs: 0.2 }),
  doc({ partition: 0, offset: '102', outcome: 'dead-lettered', bytes: 5_000_000, processingMs: 1.5 }),
  { type: 'dead-letter', topic: TOPIC, partition: 0, offset: '102', reason: 'TEXT_TOO_LARGE' },
  { type: 'batch', topic: TOPIC, partition: 0, records: 3, durationMs: 40, outcome: 'committed' },
  { type: 'batch', topic: TOPIC, partition: 1, records: 2, durationMs: 2500, outcome: 'aborted' },
  { type: 'retry', attempt: 1, delayMs: 200, error: 'KafkaJSConnectionError: Connection timeout' },
  doc({
    partition: 1,
    offset: '7',
    outcome: 'chunked',
    chunks: 1,
    tokens: 20,
    bytes: 64,
    chunkTokens: [20],
    overCapGraphemes: 1,
    processingMs: 0.8,
  }),
  doc({ partition: 1, offset: '8', outcome: 'dead-lettered', docId: null, bytes: 10, processingMs: 0.3 }),
  { type: 'dead-letter', topic: TOPIC, partition: 1, offset: '8', reason: 'UNKNOWN_FRAMING' },
  { type: 'batch', topic: TOPIC, partition: 1, records: 2, durationMs: 30, outcome: 'committed' },
  { type: 'lag', topic: TOPIC, partition: 1, lag: 0 },
];

/** A rebalance that takes partition 0 away, then a graceful stop. */
export const REBALANCE_AND_STOP: readonly RuntimeEvent[] = [
  { type: 'group-joined', memberId: 'chunker-0-1a2b', assignment: { [TOPIC]: [1] } },
  { type: 'state', from: 'RUNNING', to: 'STOPPING' },
];
