// Small helpers shared by the TypeScript test harness and the plain Node scripts (bench, demo,
// reliability), which cannot import TypeScript. Types: shared.d.mts.

/** mulberry32: a small fixed-seed PRNG, so "random" test data is the same on every run and machine. */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The topic names of one test run with prefix `id`: input, chunks, manifests, dead letters, sections. */
export function topicNames(id) {
  return {
    input: `${id}.raw`,
    chunks: `${id}.chunks`,
    manifests: `${id}.manifests`,
    dlq: `${id}.dlq`,
    sections: `${id}.sections`,
  };
}

/**
 * The worker variables that point a chunkline-worker at `topics` (from {@link topicNames}), in a
 * consumer group of its own, with its HTTP server on a free port of 127.0.0.1.
 */
export function workerTopicEnv(topics) {
  return {
    CHUNKLINE_GROUP_ID: `${topics.input}-workers`,
    CHUNKLINE_INPUT_TOPIC: topics.input,
    CHUNKLINE_CHUNK_TOPIC: topics.chunks,
    CHUNKLINE_MANIFEST_TOPIC: topics.manifests,
    CHUNKLINE_DLQ_TOPIC: topics.dlq,
    CHUNKLINE_SECTION_TOPIC: topics.sections,
    CHUNKLINE_HTTP_PORT: '0',
    CHUNKLINE_HTTP_HOST: '127.0.0.1',
  };
}
