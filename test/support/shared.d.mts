export interface TopicNames {
  input: string;
  chunks: string;
  manifests: string;
  dlq: string;
  sections: string;
}
export function mulberry32(seed: number): () => number;
export function topicNames(id: string): TopicNames;
export function workerTopicEnv(topics: TopicNames): Record<string, string>;
export interface ScriptKafka {
  brokers: string;
  started: boolean;
  pid: number | undefined;
  stop(): void;
}
export function startKafka(port: number | string): ScriptKafka;
