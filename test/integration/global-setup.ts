/**
 * Provides a real Kafka broker to the integration tests, once per run:
 * 1. `KAFKA_BROKERS` when set (any broker you already run);
 * 2. otherwise testcontainers' Kafka module, when a Docker engine answers;
 * 3. otherwise the local single-node KRaft broker of test/kafka/kafka.sh, on its own ports
 *    (CHUNKLINE_TEST_KAFKA_PORT, default 19092, and the next port for its controller).
 * Broker tests never skip: if no broker can be had, this setup fails the run.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..', '..');

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
  }
}

async function dockerAvailable(): Promise<boolean> {
  if (!existsSync('/var/run/docker.sock') && process.env.DOCKER_HOST === undefined) return false;
  try {
    await run('docker', ['info', '--format', '{{.ServerVersion}}'], { timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const given = process.env.KAFKA_BROKERS;
  if (given !== undefined && given !== '') {
    project.provide('kafkaBrokers', given);
    return async () => undefined;
  }
  if (await dockerAvailable()) {
    const { KafkaContainer } = await import('@testcontainers/kafka');
    const container = await new KafkaContainer('confluentinc/cp-kafka:7.9.0').withKraft().start();
    project.provide('kafkaBrokers', `${container.getHost()}:${container.getMappedPort(9093)}`);
    return async () => {
      await container.stop();
    };
  }
  const port = process.env.CHUNKLINE_TEST_KAFKA_PORT ?? '19092';
  const env = { ...process.env, KAFKA_PORT: port, KAFKA_CONTROLLER_PORT: String(Number(port) + 1) };
  const script = path.join(ROOT, 'test', 'kafka', 'kafka.sh');
  const started = await run('bash', [script, 'start'], { env, timeout: 600_000, maxBuffer: 16 << 20 }).catch(
    (err: { stdout?: string; stderr?: string }) => {
      throw new Error(`could not start the local Kafka broker:\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
    },
  );
  process.stderr.write(started.stdout);
  project.provide('kafkaBrokers', `127.0.0.1:${port}`);
  return async () => {
    await run('bash', [script, 'stop'], { env, timeout: 60_000 });
  };
}
