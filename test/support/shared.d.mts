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
