/**
 * Drift between the metrics the worker exports and the PromQL that reads them: every expression of the
 * Grafana dashboard and of the PrometheusRule alerts is parsed with the Prometheus project's PromQL
 * grammar, and every metric name it selects must be one that `createMetrics` (packages/observability,
 * what the worker serves on /metrics) registers. A renamed or removed metric fails here instead of
 * leaving an empty panel or an alert that can never fire.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEPLOY, exportedMetricNames, one, promqlMetricNames, renderOverlay } from './support.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- dashboard JSON and rendered YAML are walked freely */
type Any = any;

/** Series from other exporters that the alerts may read, each with its source. */
const EXTERNAL_METRICS: ReadonlyMap<string, string> = new Map([
  ['kube_pod_container_status_restarts_total', 'kube-state-metrics'],
  ['up', 'Prometheus itself, per scrape target'],
]);

const dashboard = JSON.parse(readFileSync(join(DEPLOY, 'grafana/chunkline-dashboard.json'), 'utf8')) as Any;
let exported: Set<string>;

beforeAll(async () => {
  exported = await exportedMetricNames();
});

/** Every panel, rows' nested panels included. */
function allPanels(panels: Any[]): Any[] {
  return panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
}

function dashboardExpressions(): { where: string; expr: string }[] {
  const out: { where: string; expr: string }[] = [];
  for (const p of allPanels(dashboard.panels)) {
    for (const t of p.targets ?? []) out.push({ where: `panel "${p.title}" ${t.refId}`, expr: t.expr });
  }
  for (const v of dashboard.templating.list) {
    if (v.type !== 'query') continue;
    const query: string = typeof v.query === 'string' ? v.query : v.query.query;
    // Grafana's label_values(selector, label): the selector is PromQL.
    const m = /^label_values\((.*),\s*\w+\)$/.exec(query);
    out.push({ where: `variable $${v.name}`, expr: m ? m[1]! : query });
  }
  return out;
}

function alertRules(): Any[] {
  const rule = one(renderOverlay('prod'), 'PrometheusRule') as Any;
  return rule.spec.groups.flatMap((g: Any) => g.rules);
}

describe('metric names', () => {
  it('reads the exported names from the worker metrics registry', () => {
    for (const name of ['chunkline_documents_total', 'chunkline_consumer_lag', 'chunkline_tokens_per_chunk_bucket']) {
      expect(exported.has(name), name).toBe(true);
    }
    expect(exported.has('chunkline_process_resident_memory_bytes'), 'default process metrics, prefixed').toBe(true);
  });

  it('rejects an unknown name and bad PromQL (the checker works)', () => {
    expect(promqlMetricNames('sum by (le) (rate(chunkline_nope_bucket{pod=~"$pod"}[$__rate_interval]))')).toEqual([
      'chunkline_nope_bucket',
    ]);
    expect(() => promqlMetricNames('sum(rate(chunkline_chunks_total[5m]) by')).toThrow(/syntax error/);
    expect(() => promqlMetricNames('{__name__=~"chunkline_.*"}')).toThrow(/without a metric name/);
  });
});

describe('deploy/grafana/chunkline-dashboard.json', () => {
  it('uses only metric names the worker exports', () => {
    const unknown: string[] = [];
    for (const { where, expr } of dashboardExpressions()) {
      for (const name of promqlMetricNames(expr)) if (!exported.has(name)) unknown.push(`${where}: ${name}`);
    }
    expect(unknown).toEqual([]);
  });

  it('covers throughput, lag, chunk shapes, processing time, dead letters and memory', () => {
    const used = new Set(dashboardExpressions().flatMap(({ expr }) => promqlMetricNames(expr)));
    for (const name of [
      'chunkline_documents_total',
      'chunkline_bytes_total',
      'chunkline_consumer_lag',
      'chunkline_tokens_per_chunk_bucket',
      'chunkline_chunks_per_document_bucket',
      'chunkline_document_processing_seconds_bucket',
      'chunkline_dead_letters_total',
      'chunkline_process_resident_memory_bytes',
    ]) {
      expect(used.has(name), name).toBe(true);
    }
    const heatmaps = allPanels(dashboard.panels).filter((p) => p.type === 'heatmap');
    expect(heatmaps.map((p) => p.targets[0].format)).toEqual(['heatmap', 'heatmap']);
  });

  it('is a dashboard Grafana can import: unique panel ids, a datasource variable, no hard-coded datasource', () => {
    expect(dashboard.uid).toBe('chunkline-worker');
    const ids = allPanels(dashboard.panels).map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(dashboard.templating.list.find((v: Any) => v.type === 'datasource')?.query).toBe('prometheus');
    for (const p of allPanels(dashboard.panels).filter((p) => p.type !== 'row')) {
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
    }
  });
});

describe('PrometheusRule (overlays/prod)', () => {
  it('has the lag, dead-letter, readiness and restart alerts', () => {
    const rules = alertRules();
    const byName = new Map(rules.map((r: Any) => [r.alert, r]));
    expect(byName.get('ChunklineConsumerLagGrowing')).toMatchObject({ for: '15m' });
    expect(byName.get('ChunklineConsumerLagGrowing').expr).toMatch(/deriv\(chunkline_consumer_lag\[15m\]\)/);
    expect(byName.get('ChunklineDeadLetters').expr).toMatch(/rate\(chunkline_dead_letters_total\[5m\]\)\) > 0/);
    expect(byName.get('ChunklineWorkerNotReady')).toMatchObject({ expr: 'chunkline_ready == 0', for: '5m' });
    expect(byName.get('ChunklineWorkerRestarting').expr).toMatch(/increase\(kube_pod_container_status_restarts_total/);
    for (const r of rules) {
      expect(r.labels?.severity, r.alert).toMatch(/^(warning|critical)$/);
      expect(r.annotations?.summary, r.alert).toBeTruthy();
    }
  });

  it('reads only metrics the worker exports, or the listed external ones', () => {
    const unknown: string[] = [];
    for (const r of alertRules()) {
      for (const name of promqlMetricNames(r.expr)) {
        if (!exported.has(name) && !EXTERNAL_METRICS.has(name)) unknown.push(`${r.alert}: ${name}`);
      }
    }
    expect(unknown).toEqual([]);
  });
});
