/**
 * Shared helpers of the deploy checks: rendering the kustomize overlays, reading the worker's environment
 * variables and exported metric names from their sources, PromQL metric extraction, finding the tools
 * that `npm test` installs (hadolint, kubernetes-validate) or that the machine provides (kubectl, mvn).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parser as promqlParser } from '@prometheus-io/lezer-promql';
import { parseAllDocuments } from 'yaml';
import { WORKER_ENV_VARIABLES } from '../../services/chunker/src/config.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const DEPLOY = join(ROOT, 'deploy');
export const KUSTOMIZE_DIR = join(DEPLOY, 'kubernetes');

/** Every overlay directory under deploy/kubernetes/overlays. */
export const OVERLAYS: readonly string[] = readdirSync(join(KUSTOMIZE_DIR, 'overlays'), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

/** A rendered Kubernetes object (only the fields the checks read are typed). */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

function onPath(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/**
 * How to run kustomize: `$KUSTOMIZE` (a kustomize binary), else `kustomize build`, else `kubectl
 * kustomize` (kubectl embeds kustomize). Components and replacements need kustomize v5 (kubectl 1.27+).
 */
export function kustomizeCommand(): { cmd: string; args: string[]; version: string } {
  const fromEnv = process.env.KUSTOMIZE;
  if (fromEnv !== undefined && fromEnv !== '') {
    const version = execFileSync(fromEnv, ['version'], { encoding: 'utf8' }).trim();
    return { cmd: fromEnv, args: ['build'], version };
  }
  if (onPath('kustomize')) {
    const version = execFileSync('kustomize', ['version'], { encoding: 'utf8' }).trim();
    return { cmd: 'kustomize', args: ['build'], version };
  }
  if (onPath('kubectl')) {
    const out = execFileSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
    const version = /Kustomize Version:\s*(\S+)/.exec(out)?.[1] ?? 'unknown';
    return { cmd: 'kubectl', args: ['kustomize'], version };
  }
  throw new Error(
    'deploy tests need kustomize v5: install kubectl (1.27+) or kustomize, or point $KUSTOMIZE at a kustomize binary',
  );
}

/** Renders a kustomization directory and parses the YAML stream. */
export function render(dir: string): K8sObject[] {
  const { cmd, args } = kustomizeCommand();
  const out = execFileSync(cmd, [...args, dir], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return parseYamlStream(out);
}

export function renderOverlay(name: string): K8sObject[] {
  return render(join(KUSTOMIZE_DIR, 'overlays', name));
}

export function parseYamlStream(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(doc.errors.map((e) => e.message).join('\n'));
      return doc.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null);
}

export function find(objects: readonly K8sObject[], kind: string, name?: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
}

export function one(objects: readonly K8sObject[], kind: string, name?: string): K8sObject {
  const found = find(objects, kind, name);
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0]!;
}

/** The environment variables the worker reads: the keys of its zod schema (services/chunker/src/config.ts). */
export function workerEnvVars(): string[] {
  return [...WORKER_ENV_VARIABLES];
}

/**
 * Every series name the worker's /metrics can expose: the registry that `createMetrics` (the function
 * the worker uses) fills, default process metrics included, with the suffixes Prometheus derives for
 * histograms (_bucket, _sum, _count) and summaries.
 */
export async function exportedMetricNames(): Promise<Set<string>> {
  const { createMetrics } = await import('@chunkline/observability');
  const { registry } = createMetrics();
  const names = new Set<string>();
  for (const m of await registry.getMetricsAsJSON()) {
    names.add(m.name);
    // prom-client's typings say a numeric enum; at run time `type` is the exposition name ('histogram').
    const type = String(m.type as unknown);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(m.name + s);
    if (type === 'summary') for (const s of ['_sum', '_count']) names.add(m.name + s);
  }
  return names;
}

/** Grafana's template variables, replaced by a literal of the same kind before parsing. */
function substituteGrafanaVariables(expr: string): string {
  return expr
    .replace(/\$__rate_interval|\$__interval|\$__range|\$\{__rate_interval\}|\$\{__interval\}/g, '5m')
    .replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (_m, a: string | undefined, b: string | undefined) => `var_${a ?? b}`);
}

/**
 * The metric names a PromQL expression selects, using the Prometheus project's own PromQL grammar.
 * @throws on a syntax error, or on a selector without a metric name (`{__name__=~...}`): each name
 * must be checkable.
 */
export function promqlMetricNames(expr: string): string[] {
  const text = substituteGrafanaVariables(expr);
  const tree = promqlParser.parse(text);
  const names: string[] = [];
  const problems: string[] = [];
  tree.iterate({
    enter(node) {
      if (node.type.isError) problems.push(`syntax error at ${node.from}: ${JSON.stringify(text.slice(node.from))}`);
      if (node.name === 'VectorSelector') {
        const first = node.node.firstChild;
        if (first?.name === 'Identifier') names.push(text.slice(first.from, first.to));
        else problems.push(`selector without a metric name: ${text.slice(node.from, node.to)}`);
      }
    },
  });
  if (problems.length > 0) throw new Error(`${expr}\n  ${problems.join('\n  ')}`);
  return names;
}

/** A Python console script installed by `npm test`'s pretest (deploy/requirements.txt), or undefined. */
export function pythonTool(name: string): string | undefined {
  if (onPath(name)) return name;
  const scripts = spawnSync('python3', ['-c', 'import sysconfig; print(sysconfig.get_path("scripts"))'], {
    encoding: 'utf8',
  });
  const candidate = join(scripts.stdout.trim(), name);
  return scripts.status === 0 && existsSync(candidate) ? candidate : undefined;
}

export const INSTALL_HINT =
  'npm test installs it (pretest: pip install -r deploy/requirements.txt); by hand: ' +
  'python3 -m pip install -r deploy/requirements.txt';
