/**
 * Schema validation of rendered objects:
 * - Kubernetes built-in kinds: the `kubernetes-models` JSON schemas (Kubernetes 1.36) for types, required
 *   fields, enums and formats, plus `kubernetes-validate --strict` (PyPI; Kubernetes 1.30 and 1.36) for
 *   unknown fields, which the first does not reject and the API server does (kubectl's default
 *   field validation is strict);
 * - KEDA (keda.sh, CRDs of KEDA 2.19) and Prometheus operator (monitoring.coreos.com) objects: the
 *   `@kubernetes-models/keda` and `@kubernetes-models/prometheus-operator` schemas;
 * - Strimzi KafkaTopic: the CRD generated from Strimzi's API model (deploy/scripts/strimzi-crd.sh), checked
 *   as the API server checks a structural schema, unknown fields included.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { DEPLOY, INSTALL_HINT, type K8sObject } from './support.js';

/** Kubernetes versions the strict check runs against: an older supported one and the newest. */
export const STRICT_KUBERNETES_VERSIONS = ['1.30.0', '1.36.0'] as const;

type Model = new (data: unknown) => { validate(): void };

const BUILTIN_GROUPS = new Set([
  'v1',
  'apps/v1',
  'policy/v1',
  'networking.k8s.io/v1',
  'autoscaling/v2',
  'rbac.authorization.k8s.io/v1',
  'batch/v1',
]);

export function isBuiltin(o: K8sObject): boolean {
  return BUILTIN_GROUPS.has(o.apiVersion);
}

/** The npm module holding the schema of an object's apiVersion and kind, or undefined if none does. */
function modelModule(o: K8sObject): string | undefined {
  if (isBuiltin(o)) return `kubernetes-models/${o.apiVersion}/${o.kind}`;
  if (o.apiVersion.startsWith('keda.sh/')) return `@kubernetes-models/keda/${o.apiVersion}/${o.kind}`;
  if (o.apiVersion.startsWith('monitoring.coreos.com/')) {
    return `@kubernetes-models/prometheus-operator/${o.apiVersion}/${o.kind}`;
  }
  return undefined;
}

/** Validates with the npm models; returns the problems (empty when valid). */
export async function validateWithModels(o: K8sObject): Promise<string[]> {
  const spec = modelModule(o);
  if (spec === undefined) return [`no npm schema for ${o.apiVersion} ${o.kind}`];
  let Cls: Model | undefined;
  try {
    Cls = ((await import(spec)) as Record<string, Model>)[o.kind];
  } catch (err) {
    return [`no schema module ${spec}: ${(err as Error).message}`];
  }
  if (Cls === undefined) return [`${spec} does not export ${o.kind}`];
  try {
    new Cls(o).validate();
    return [];
  } catch (err) {
    return [(err as Error).message];
  }
}

/** Strict validation of built-in kinds with kubernetes-validate; returns its error lines. */
export function validateStrict(objects: readonly K8sObject[]): string[] {
  const probe = spawnSync('python3', ['-m', 'kubernetes_validate', '--version'], { encoding: 'utf8' });
  if (probe.status !== 0) throw new Error(`kubernetes-validate (PyPI) is missing: ${INSTALL_HINT}`);
  const dir = mkdtempSync(join(tmpdir(), 'chunkline-k8s-'));
  try {
    const file = join(dir, 'objects.yaml');
    writeFileSync(file, objects.map((o) => stringify(o)).join('---\n'));
    const args = ['-m', 'kubernetes_validate', '--strict', '--quiet'];
    for (const v of STRICT_KUBERNETES_VERSIONS) args.push('-k', v);
    const run = spawnSync('python3', [...args, file], { encoding: 'utf8' });
    const lines = `${run.stdout}\n${run.stderr}`.split('\n').filter((l) => /^(ERROR|WARN)/.test(l));
    if (run.status !== 0 && lines.length === 0) lines.push(`kubernetes-validate exited ${run.status}: ${run.stderr}`);
    return lines;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A structural OpenAPI v3 schema, as in a CustomResourceDefinition. */
export interface StructuralSchema {
  type?: string;
  properties?: Record<string, StructuralSchema>;
  items?: StructuralSchema;
  additionalProperties?: StructuralSchema | boolean;
  required?: string[];
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  pattern?: string;
  description?: string;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
}

const KNOWN_KEYWORDS = new Set([
  'type',
  'properties',
  'items',
  'additionalProperties',
  'required',
  'enum',
  'minimum',
  'maximum',
  'pattern',
  'description',
  'x-kubernetes-preserve-unknown-fields',
]);

/**
 * Validates like the API server does against a CRD's structural schema, treating a field the schema
 * does not declare as an error (the server would prune it silently, or reject it under strict field
 * validation). `metadata` is the ObjectMeta, which the server checks itself and the CRD leaves open.
 */
export function validateStructural(schema: StructuralSchema, value: unknown, path = ''): string[] {
  const errors: string[] = [];
  for (const key of Object.keys(schema)) {
    if (!KNOWN_KEYWORDS.has(key)) throw new Error(`${path || '/'}: schema keyword ${key} is not supported here`);
  }
  const at = path || '/';
  const t = schema.type;
  if (t === 'object') {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${at}: must be an object`];
    const record = value as Record<string, unknown>;
    for (const r of schema.required ?? []) if (!(r in record)) errors.push(`${at}: ${r} is required`);
    const open = schema['x-kubernetes-preserve-unknown-fields'] === true || path === '/metadata';
    for (const [k, v] of Object.entries(record)) {
      const sub = schema.properties?.[k];
      if (sub !== undefined) errors.push(...validateStructural(sub, v, `${path}/${k}`));
      else if (typeof schema.additionalProperties === 'object') {
        errors.push(...validateStructural(schema.additionalProperties, v, `${path}/${k}`));
      } else if (!open && schema.additionalProperties !== true) errors.push(`${at}: unknown field ${k}`);
    }
  } else if (t === 'array') {
    if (!Array.isArray(value)) return [`${at}: must be an array`];
    if (schema.items !== undefined)
      value.forEach((v, i) => errors.push(...validateStructural(schema.items!, v, `${path}/${i}`)));
  } else if (t === 'integer') {
    if (typeof value !== 'number' || !Number.isInteger(value)) return [`${at}: must be an integer`];
  } else if (t === 'number') {
    if (typeof value !== 'number') return [`${at}: must be a number`];
  } else if (t === 'string') {
    if (typeof value !== 'string') return [`${at}: must be a string`];
    if (schema.pattern !== undefined && !new RegExp(schema.pattern).test(value)) {
      errors.push(`${at}: must match ${schema.pattern}`);
    }
  } else if (t === 'boolean') {
    if (typeof value !== 'boolean') return [`${at}: must be a boolean`];
  } else if (t !== undefined) {
    throw new Error(`${at}: schema type ${t} is not supported here`);
  }
  if (schema.enum !== undefined && !schema.enum.includes(value))
    errors.push(`${at}: must be one of ${schema.enum.join(', ')}`);
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) errors.push(`${at}: must be >= ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) errors.push(`${at}: must be <= ${schema.maximum}`);
  }
  return errors;
}

interface Crd {
  spec: {
    group: string;
    names: { kind: string };
    versions: { name: string; schema: { openAPIV3Schema: StructuralSchema } }[];
  };
}

/** The Strimzi KafkaTopic CRD, generated (and cached under .cache/strimzi) by deploy/scripts/strimzi-crd.sh. */
export function strimziKafkaTopicCrd(): { path: string; schemaFor(apiVersion: string): StructuralSchema | undefined } {
  const path = execFileSync('bash', [join(DEPLOY, 'scripts/strimzi-crd.sh')], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .pop()!;
  const crd = parse(readFileSync(path, 'utf8')) as Crd;
  return {
    path,
    schemaFor(apiVersion: string) {
      const [group, version] = apiVersion.split('/');
      if (group !== crd.spec.group) return undefined;
      return crd.spec.versions.find((v) => v.name === version)?.schema.openAPIV3Schema;
    },
  };
}
