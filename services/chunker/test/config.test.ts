import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

function errorOf(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
  throw new Error('no error');
}

describe('loadConfig', () => {
  it('applies the documented defaults and freezes the result', () => {
    const c = loadConfig({ KAFKA_BROKERS: '127.0.0.1:9092, 127.0.0.1:9093' });
    expect(c).toMatchObject({
      KAFKA_BROKERS: ['127.0.0.1:9092', '127.0.0.1:9093'],
      CHUNKLINE_INPUT_TOPIC: 'documents.raw',
      CHUNKLINE_CHUNK_TOPIC: 'documents.chunks',
      CHUNKLINE_MANIFEST_TOPIC: 'documents.manifests',
      CHUNKLINE_DLQ_TOPIC: 'documents.dlq',
      CHUNKLINE_DELIVERY: 'exactly-once',
      CHUNKLINE_MAX_TOKENS: 512,
      CHUNKLINE_SHUTDOWN_TIMEOUT_MS: 25_000,
      KAFKA_TLS: false,
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('names every bad variable and what it accepts', () => {
    const m = errorOf({ KAFKA_BROKERS: 'nohost', CHUNKLINE_DELIVERY: 'twice', CHUNKLINE_MAX_TOKENS: 'many' });
    expect(m).toContain('KAFKA_BROKERS: must be host:port');
    expect(m).toContain('CHUNKLINE_DELIVERY');
    expect(m).toContain('exactly-once');
    expect(m).toContain('CHUNKLINE_MAX_TOKENS: must be a whole number (got "many")');
    expect(errorOf({})).toContain('KAFKA_BROKERS: is required');
  });

  it('checks rules across variables and never prints a secret', () => {
    const m = errorOf({
      KAFKA_BROKERS: 'b:1',
      KAFKA_SASL_MECHANISM: 'plain',
      KAFKA_SASL_USERNAME: 'u',
      CHUNKLINE_OVERLAP: '600',
    });
    expect(m).toContain('KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD');
    expect(m).toContain('CHUNKLINE_OVERLAP');
    const s = errorOf({ KAFKA_BROKERS: 'b:1', KAFKA_SASL_MECHANISM: 'oauth', KAFKA_SASL_PASSWORD: 'hunter2' });
    expect(s).not.toContain('hunter2');
    expect(errorOf({ KAFKA_BROKERS: 'b:1', CHUNKLINE_OUTPUT_ENCODING: 'registry' })).toContain(
      'CHUNKLINE_SCHEMA_REGISTRY_URL',
    );
  });
});
