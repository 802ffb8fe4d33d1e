/**
 * Publishing records to one topic for `chunkline ingest`, through @chunkline/runtime's Kafka client (the
 * only kafkajs user): an idempotent producer with one request in flight, so retries never duplicate or
 * reorder records, and `acks=all`.
 */
import { createKafka, type Kafka } from '@chunkline/runtime';

/** A record to publish: key and value bytes; a null value is a tombstone. */
export interface SinkRecord {
  readonly key: string;
  readonly value: Buffer | null;
}

/** Where `chunkline ingest` publishes. Tests use an in-memory one. */
export interface RecordSink {
  /** The largest record batch the topic accepts, in bytes (its `max.message.bytes`). */
  readonly maxBatchBytes: number;
  /** Publishes `records` in order and resolves when the broker has acknowledged all of them. */
  send(records: readonly SinkRecord[]): Promise<void>;
  /** Disconnects. Idempotent. */
  close(): Promise<void>;
}

/** Opens a sink to `topic` on `brokers`. */
export type SinkOpener = (target: {
  readonly brokers: readonly string[];
  readonly topic: string;
}) => Promise<RecordSink>;

/** Kafka's default `max.message.bytes`, used when the topic's own value cannot be read. */
export const KAFKA_DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;

type Admin = ReturnType<Kafka['admin']>;
type ConfigResourceType = Parameters<Admin['describeConfigs']>[0]['resources'][number]['type'];
/** kafkajs `ConfigResourceTypes.TOPIC`. */
const TOPIC_RESOURCE = 2 as ConfigResourceType;

/** A failure to reach the brokers or the topic; the message says which. */
export class SinkError extends Error {
  override readonly name = 'SinkError';
}

async function topicMaxMessageBytes(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = await admin.listTopics();
    if (!topics.includes(topic)) {
      throw new SinkError(`topic ${topic} does not exist; create it first (chunkline never creates topics)`);
    }
    try {
      const res = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: TOPIC_RESOURCE, name: topic, configNames: ['max.message.bytes'] }],
      });
      const value = res.resources[0]?.configEntries.find((e) => e.configName === 'max.message.bytes')?.configValue;
      const n = Number(value);
      return Number.isSafeInteger(n) && n > 0 ? n : KAFKA_DEFAULT_MAX_MESSAGE_BYTES;
    } catch {
      // No permission to describe configs: assume the broker default.
      return KAFKA_DEFAULT_MAX_MESSAGE_BYTES;
    }
  } finally {
    await admin.disconnect();
  }
}

/** Opens an idempotent Kafka producer to `topic`, after checking that the topic exists. */
export const openKafkaSink: SinkOpener = async ({ brokers, topic }) => {
  const kafka = createKafka({ brokers, clientId: 'chunkline-ingest' });
  let maxBatchBytes: number;
  try {
    maxBatchBytes = await topicMaxMessageBytes(kafka, topic);
  } catch (err) {
    if (err instanceof SinkError) throw err;
    throw new SinkError(`cannot reach the brokers ${brokers.join(',')}: ${(err as Error).message}`);
  }
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  let closing: Promise<void> | undefined;
  return {
    maxBatchBytes,
    async send(records) {
      if (records.length === 0) return;
      await producer.send({
        topic,
        acks: -1,
        messages: records.map((r) => ({ key: r.key, value: r.value })),
      });
    },
    close() {
      closing ??= producer.disconnect();
      return closing;
    },
  };
};
