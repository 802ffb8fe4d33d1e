import { createMetrics, isObservabilityError } from '@chunkline/observability';
import type { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { REBALANCE_AND_STOP, STARTUP, WORK } from './events.js';

/** The value of one series (`metricName` is the series name, e.g. `x_bucket`; `labels` must all match). */
async function value(registry: Registry, metric: string, series: string, labels: Record<string, string | number> = {}) {
  const json = await registry.getMetricsAsJSON();
  const m = json.find((x) => x.name === metric);
  if (!m) throw new Error(`no metric ${metric}`);
  const matches = m.values.filter(
    (v) =>
      ((v as { metricName?: string }).metricName ?? metric) === series &&
      Object.entries(labels).every(([k, want]) => (v.labels as Record<string, unknown>)[k] === want),
  );
  if (matches.length !== 1) throw new Error(`${matches.length} series ${series} ${JSON.stringify(labels)}`);
  return matches[0]!.value;
}

describe('createMetrics', () => {
  it('maps a realistic event sequence to exact counter, gauge and histogram values', async () => {
    const { registry, listener } = createMetrics({ collectDefault: false });
    const v = (series: string, labels?: Record<string, string | number>, metric = series) =>
      value(registry, metric, series, labels);

    expect(await v('chunkline_ready')).toBe(0);
    expect(await v('chunkline_state', { state: 'INITIALIZED' })).toBe(1);
    for (const e of STARTUP) listener(e);
    expect(await v('chunkline_ready')).toBe(1);
    for (const e of WORK) listener(e);

    expect(await registry.getSingleMetricAsString('chunkline_documents_total')).toBe(
      [
        '# HELP chunkline_documents_total Input records processed, by outcome (chunked, deleted by a tombstone, dead-lettered).',
        '# TYPE chunkline_documents_total counter',
        'chunkline_documents_total{outcome="chunked"} 2',
        'chunkline_documents_total{outcome="deleted"} 1',
        'chunkline_documents_total{outcome="dead-lettered"} 2',
      ].join('\n'),
    );
    expect(await v('chunkline_chunks_total')).toBe(4);
    expect(await v('chunkline_tokens_total')).toBe(920);
    expect(await v('chunkline_bytes_total')).toBe(5_004_074);
    expect(await v('chunkline_over_cap_graphemes_total')).toBe(1);
    expect(await v('chunkline_retries_total')).toBe(1);
    expect(await v('chunkline_dead_letters_total', { reason: 'TEXT_TOO_LARGE' })).toBe(1);
    expect(await v('chunkline_dead_letters_total', { reason: 'UNKNOWN_FRAMING' })).toBe(1);
    expect(await v('chunkline_consumer_lag', { topic: 'docs.raw', partition: '0' })).toBe(120);
    expect(await v('chunkline_consumer_lag', { topic: 'docs.raw', partition: '1' })).toBe(0);

    // tokens_per_chunk: 510, 300, 90, 20.
    const tpc = (le: number | string) => v('chunkline_tokens_per_chunk_bucket', { le }, 'chunkline_tokens_per_chunk');
    expect([await tpc(16), await tpc(32), await tpc(128), await tpc(384), await tpc(512), await tpc('+Inf')]).toEqual([
      0, 1, 2, 3, 4, 4,
    ]);
    expect(await v('chunkline_tokens_per_chunk_sum', {}, 'chunkline_tokens_per_chunk')).toBe(920);

    // chunks_per_document: only the two chunked documents (3 and 1 chunks).
    const cpd = (le: number | string) =>
      v('chunkline_chunks_per_document_bucket', { le }, 'chunkline_chunks_per_document');
    expect([await cpd(1), await cpd(2), await cpd(4), await cpd('+Inf')]).toEqual([1, 1, 2, 2]);
    expect(await v('chunkline_chunks_per_document_sum', {}, 'chunkline_chunks_per_document')).toBe(4);

    // document_processing_seconds: 12, 0.2, 1.5, 0.8, 0.3 ms, every outcome.
    const dps = (le: number | string) =>
      v('chunkline_document_processing_seconds_bucket', { le }, 'chunkline_document_processing_seconds');
    expect([await dps(0.0005), await dps(0.001), await dps(0.0025), await dps(0.01), await dps(0.025)]).toEqual([
      2, 3, 4, 4, 5,
    ]);
    expect(
      await v('chunkline_document_processing_seconds_sum', {}, 'chunkline_document_processing_seconds'),
    ).toBeCloseTo(0.0148, 10);

    expect(await v('chunkline_batch_records_count', {}, 'chunkline_batch_records')).toBe(3);
    expect(await v('chunkline_batch_records_sum', {}, 'chunkline_batch_records')).toBe(7);
    const bds = (series: string, outcome: string, labels: Record<string, string | number> = {}) =>
      v(`chunkline_batch_duration_seconds_${series}`, { outcome, ...labels }, 'chunkline_batch_duration_seconds');
    expect(await bds('count', 'committed')).toBe(2);
    expect(await bds('sum', 'committed')).toBeCloseTo(0.07, 10);
    expect(await bds('count', 'aborted')).toBe(1);
    expect(await bds('bucket', 'aborted', { le: 2.5 })).toBe(1);
    expect(await bds('bucket', 'aborted', { le: 1 })).toBe(0);

    for (const e of REBALANCE_AND_STOP) listener(e);
    // The rebalance took partition 0 away: its lag series is gone, partition 1's stays.
    await expect(v('chunkline_consumer_lag', { topic: 'docs.raw', partition: '0' })).rejects.toThrow(/0 series/);
    expect(await v('chunkline_consumer_lag', { topic: 'docs.raw', partition: '1' })).toBe(0);
    expect(await v('chunkline_state', { state: 'STOPPING' })).toBe(1);
    expect(await v('chunkline_state', { state: 'RUNNING' })).toBe(0);
    expect(await v('chunkline_ready')).toBe(0);
  });

  it('exports zero-valued outcome series before any event', async () => {
    const { registry } = createMetrics({ collectDefault: false });
    const text = await registry.metrics();
    expect(text).toContain('chunkline_documents_total{outcome="dead-lettered"} 0');
    expect(text).toContain('chunkline_batch_duration_seconds_count{outcome="aborted"} 0');
    expect(text).toContain('chunkline_state{state="FAILED"} 0');
  });

  it('counts listener errors', async () => {
    const { registry, listener } = createMetrics({ collectDefault: false });
    listener({ type: 'listener-error', error: new Error('boom') });
    expect(await value(registry, 'chunkline_listener_errors_total', 'chunkline_listener_errors_total')).toBe(1);
  });

  it('collects the default process metrics with the prefix unless turned off', async () => {
    const withDefaults = await createMetrics({ prefix: 'cl_' }).registry.metrics();
    expect(withDefaults).toContain('cl_process_cpu_user_seconds_total');
    expect(withDefaults).toContain('cl_documents_total');
    const without = await createMetrics({ collectDefault: false }).registry.metrics();
    expect(without).not.toContain('process_cpu_user_seconds_total');
  });

  it('rejects a prefix that is not a metric name start', () => {
    let error: unknown;
    try {
      createMetrics({ prefix: 'chunk-line_' });
    } catch (e) {
      error = e;
    }
    expect(isObservabilityError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'BAD_OPTION', field: 'prefix' });
  });
});

describe('createMetrics, connection failures', () => {
  it('counts failed connection attempts by kind', async () => {
    const { registry, listener } = createMetrics({ collectDefault: false });
    listener({ type: 'state', from: 'INITIALIZED', to: 'RUNNING' });
    for (const attempt of [1, 2]) listener({ type: 'connect-failed', kind: 'tls', attempt, delayMs: 1000, error: 'x' });
    listener({ type: 'connect-failed', kind: 'authentication', attempt: 3, delayMs: 4000, error: 'x' });
    expect(
      await value(registry, 'chunkline_connect_failures_total', 'chunkline_connect_failures_total', { kind: 'tls' }),
    ).toBe(2);
    expect(
      await value(registry, 'chunkline_connect_failures_total', 'chunkline_connect_failures_total', {
        kind: 'authentication',
      }),
    ).toBe(1);
    expect(await value(registry, 'chunkline_ready', 'chunkline_ready')).toBe(0);
  });
});
