/**
 * Drift between the worker's configuration (services/chunker/src/config.ts) and what the overlays set:
 * a variable that the worker does not read is a typo or a leftover; a variable it reads that no overlay
 * sets must be on the allow-list below, with the reason. Then each overlay's environment goes through
 * the worker's own `loadConfig`, so a value it would refuse at start fails here.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../services/chunker/dist/config.js';
import { find, type K8sObject, one, OVERLAYS, renderOverlay, workerEnvVars } from './support.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- rendered YAML is walked field by field */
type Any = any;

/** Read by the worker, deliberately set by no overlay. */
const ALLOWED_UNSET: ReadonlyMap<string, string> = new Map([
  // A client certificate (mutual TLS) is for brokers that demand one: mount its Secret and set both.
  ['KAFKA_TLS_CERT_FILE', 'mutual TLS only'],
  ['KAFKA_TLS_KEY_FILE', 'mutual TLS only'],
  // Turning certificate verification off is for a throwaway test broker, never a shipped overlay.
  ['KAFKA_TLS_REJECT_UNAUTHORIZED', 'stays at its default, true'],
  // Only meaningful with CHUNKLINE_HIERARCHY=sections, which no overlay turns on.
  ['CHUNKLINE_PARENT_MAX_TOKENS', 'only with CHUNKLINE_HIERARCHY=sections'],
]);

/** Set in the pod, read by Node.js itself rather than by the worker's configuration. */
const NODE_RUNTIME_VARS: ReadonlySet<string> = new Set(['NODE_OPTIONS']);

interface PodEnv {
  /** Every variable name the container gets, from the ConfigMap (envFrom) and from `env`. */
  names: Set<string>;
  /** The environment as the worker would see it, Secret values replaced by placeholders. */
  values: Record<string, string>;
}

function podEnv(objects: readonly K8sObject[]): PodEnv {
  const deployment = one(objects, 'Deployment', 'chunkline-worker') as Any;
  const container = deployment.spec.template.spec.containers.find((c: Any) => c.name === 'worker');
  const names = new Set<string>();
  const values: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    expect(source.secretRef, 'envFrom a Secret hides which variables it sets').toBeUndefined();
    const data = (one(objects, 'ConfigMap', source.configMapRef.name) as Any).data as Record<string, string>;
    for (const [k, v] of Object.entries(data)) {
      names.add(k);
      values[k] = v;
    }
  }
  for (const e of container.env ?? []) {
    names.add(e.name);
    if (e.value !== undefined) values[e.name] = e.value;
    else if (e.valueFrom?.secretKeyRef) values[e.name] = `placeholder-${e.valueFrom.secretKeyRef.key}`;
    else throw new Error(`${e.name}: unsupported env source ${JSON.stringify(e.valueFrom)}`);
  }
  return { names, values };
}

const WORKER_OVERLAYS = OVERLAYS.filter((o) => find(renderOverlay(o), 'Deployment').length > 0);
const envs = new Map(WORKER_OVERLAYS.map((o) => [o, podEnv(renderOverlay(o))]));
const known = new Set(workerEnvVars());

describe('environment drift', () => {
  it('finds the worker overlays and the variables in config.ts', () => {
    expect(WORKER_OVERLAYS).toEqual(['dev', 'prod', 'prod-hpa']);
    expect(known.has('KAFKA_BROKERS')).toBe(true);
    expect(known.has('CHUNKLINE_SHUTDOWN_TIMEOUT_MS')).toBe(true);
  });

  it.each(WORKER_OVERLAYS)('overlays/%s sets no variable the worker does not read', (overlay) => {
    const unknown = [...envs.get(overlay)!.names].filter((n) => !known.has(n) && !NODE_RUNTIME_VARS.has(n));
    expect(unknown, 'not in services/chunker/src/config.ts').toEqual([]);
  });

  it('every variable the worker reads is set by some overlay, or allow-listed with a reason', () => {
    const setSomewhere = new Set([...envs.values()].flatMap((e) => [...e.names]));
    const unset = [...known].filter((n) => !setSomewhere.has(n) && !ALLOWED_UNSET.has(n));
    expect(unset, 'set them in deploy/kubernetes (base/worker.env) or allow-list them here').toEqual([]);
    const stale = [...ALLOWED_UNSET.keys()].filter((n) => !known.has(n) || setSomewhere.has(n));
    expect(stale, 'allow-listed but no longer read, or now set: drop them from ALLOWED_UNSET').toEqual([]);
  });

  it.each(WORKER_OVERLAYS)('overlays/%s: the worker accepts the environment (loadConfig)', (overlay) => {
    const config = loadConfig(envs.get(overlay)!.values);
    expect(config.KAFKA_BROKERS.length).toBeGreaterThan(0);
  });
});
