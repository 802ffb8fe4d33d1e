/**
 * Renders every overlay with kustomize and checks what comes out: each object against its schema (see
 * schemas.ts), then the properties the deployment relies on (security context, probes, grace period,
 * KEDA trigger matching the worker's group, replica ceilings under the partition count, network policy).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { find, type K8sObject, kustomizeCommand, one, OVERLAYS, renderOverlay } from './support.js';
import { isBuiltin, strimziKafkaTopicCrd, validateStrict, validateStructural, validateWithModels } from './schemas.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- rendered YAML is walked field by field */
type Any = any;

const rendered = new Map<string, K8sObject[]>();

beforeAll(() => {
  for (const overlay of OVERLAYS) rendered.set(overlay, renderOverlay(overlay));
});

const objectsOf = (overlay: string): K8sObject[] => rendered.get(overlay)!;
/** Overlays that deploy the worker (all but the topics-only one). */
const WORKER_OVERLAYS = OVERLAYS.filter((o) => o !== 'strimzi-topics');

function configOf(objects: readonly K8sObject[]): Record<string, string> {
  const deployment = one(objects, 'Deployment', 'chunkline-worker') as Any;
  const ref: string = deployment.spec.template.spec.containers[0].envFrom[0].configMapRef.name;
  return (one(objects, 'ConfigMap', ref) as Any).data as Record<string, string>;
}

function inputTopicPartitions(): number {
  const config = configOf(objectsOf('prod'));
  const topic = find(objectsOf('strimzi-topics'), 'KafkaTopic').find(
    (t: Any) => t.spec.topicName === config.CHUNKLINE_INPUT_TOPIC,
  ) as Any;
  return topic.spec.partitions as number;
}

describe('kustomize', () => {
  it('finds kustomize v5 (components and replacements need it)', () => {
    const { cmd, version } = kustomizeCommand();
    expect(version, `${cmd} embeds kustomize ${version}`).toMatch(/^v?5\./);
  });

  it('has the overlays the README documents', () => {
    expect(OVERLAYS).toEqual(['dev', 'prod', 'prod-hpa', 'strimzi-topics']);
  });

  it.each(OVERLAYS)('renders overlays/%s into named objects', (overlay) => {
    const objects = objectsOf(overlay);
    expect(objects.length).toBeGreaterThan(0);
    for (const o of objects) expect(o.metadata?.name, `${o.kind} without a name`).toBeTruthy();
  });
});

describe('schemas', () => {
  it.each(OVERLAYS)('overlays/%s: every object validates against the npm schemas of its kind', async (overlay) => {
    const problems: string[] = [];
    for (const o of objectsOf(overlay)) {
      if (o.apiVersion.startsWith('kafka.strimzi.io/')) continue; // below, against the Strimzi CRD
      for (const p of await validateWithModels(o)) problems.push(`${o.kind}/${o.metadata.name}: ${p}`);
    }
    expect(problems).toEqual([]);
  });

  it.each(OVERLAYS)('overlays/%s: built-in kinds have no unknown fields (kubernetes-validate --strict)', (overlay) => {
    const builtin = objectsOf(overlay).filter(isBuiltin);
    if (builtin.length === 0) return;
    expect(validateStrict(builtin)).toEqual([]);
  });

  it('the strict check does reject an unknown field (the checker works)', () => {
    const deployment = structuredClone(one(objectsOf('dev'), 'Deployment')) as Any;
    deployment.spec.template.spec.containers[0].securityContext.readOnlyRootFileSystem = true;
    expect(validateStrict([deployment]).join('\n')).toMatch(/readOnlyRootFileSystem/);
  });

  it('the npm schemas do reject a wrong type (the checker works)', async () => {
    const so = structuredClone(one(objectsOf('prod'), 'ScaledObject')) as Any;
    so.spec.maxReplicaCount = 'twelve';
    expect((await validateWithModels(so)).join('\n')).toMatch(/maxReplicaCount/);
  });

  it('KafkaTopic resources validate against the Strimzi CRD schema, unknown fields included', () => {
    const crd = strimziKafkaTopicCrd();
    const topics = find(objectsOf('strimzi-topics'), 'KafkaTopic');
    expect(topics.length).toBeGreaterThan(0);
    const problems: string[] = [];
    for (const t of topics) {
      const schema = crd.schemaFor(t.apiVersion);
      if (schema === undefined) problems.push(`${t.metadata.name}: ${t.apiVersion} is not served by ${crd.path}`);
      else problems.push(...validateStructural(schema, t).map((e) => `${t.metadata.name}: ${e}`));
    }
    expect(problems).toEqual([]);
    const typo = structuredClone(topics[0]) as Any;
    typo.spec.partition = 3;
    expect(validateStructural(crd.schemaFor(typo.apiVersion)!, typo)).toEqual(['/spec: unknown field partition']);
  }, 300_000);
});

describe.each(WORKER_OVERLAYS)('overlays/%s worker', (overlay) => {
  const deployment = (): Any => one(objectsOf(overlay), 'Deployment', 'chunkline-worker');
  const container = (): Any => deployment().spec.template.spec.containers[0];

  it('runs as non-root with a read-only root filesystem, no capabilities, RuntimeDefault seccomp', () => {
    const pod = deployment().spec.template.spec;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(container().securityContext).toMatchObject({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(pod.automountServiceAccountToken).toBe(false);
  });

  it('mounts an emptyDir at /tmp, the only writable path', () => {
    const pod = deployment().spec.template.spec;
    const mount = container().volumeMounts.find((m: Any) => m.mountPath === '/tmp');
    expect(mount).toBeDefined();
    expect(pod.volumes.find((v: Any) => v.name === mount.name).emptyDir).toBeDefined();
    for (const m of container().volumeMounts) if (m.mountPath !== '/tmp') expect(m.readOnly, m.mountPath).toBe(true);
  });

  it('probes /healthz and /readyz on the http-metrics port the worker listens on', () => {
    const config = configOf(objectsOf(overlay));
    const port = container().ports.find((p: Any) => p.name === 'http-metrics');
    expect(port.containerPort).toBe(Number(config.CHUNKLINE_HTTP_PORT ?? 8080));
    expect(container().livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http-metrics' });
    expect(container().readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http-metrics' });
    const service = one(objectsOf(overlay), 'Service') as Any;
    expect(service.spec.ports).toContainEqual(
      expect.objectContaining({ name: 'http-metrics', targetPort: 'http-metrics' }),
    );
    for (const [k, v] of Object.entries(service.spec.selector as Record<string, string>)) {
      expect(deployment().spec.template.metadata.labels[k]).toBe(v);
    }
  });

  it('gives SIGTERM more time than the worker takes to stop (grace period > CHUNKLINE_SHUTDOWN_TIMEOUT_MS)', () => {
    const config = configOf(objectsOf(overlay));
    const shutdownMs = Number(config.CHUNKLINE_SHUTDOWN_TIMEOUT_MS ?? 25_000);
    // At least 5 s of margin for the final log flush and process exit.
    expect(deployment().spec.template.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThanOrEqual(
      shutdownMs + 5000,
    );
  });

  it('sets resources, spreads over zones and nodes, pins an image tag', () => {
    expect(container().resources.requests).toMatchObject({ cpu: expect.anything(), memory: expect.anything() });
    expect(container().resources.limits.memory).toBeDefined();
    const keys = deployment().spec.template.spec.topologySpreadConstraints.map((c: Any) => c.topologyKey);
    expect(keys).toEqual(expect.arrayContaining(['topology.kubernetes.io/zone', 'kubernetes.io/hostname']));
    expect(container().image).toMatch(/:[\w.-]+$/);
    expect(container().image).not.toMatch(/:latest$/);
  });

  it('references only ConfigMaps that the overlay renders', () => {
    const names = new Set(find(objectsOf(overlay), 'ConfigMap').map((c) => c.metadata.name));
    for (const e of container().envFrom) expect(names.has(e.configMapRef.name), e.configMapRef.name).toBe(true);
  });
});

describe('overlays/dev', () => {
  it('runs one replica with no KEDA, HPA or Prometheus-operator objects', () => {
    const objects = objectsOf('dev');
    expect((one(objects, 'Deployment') as Any).spec.replicas).toBe(1);
    expect(objects.filter((o) => !isBuiltin(o)).map((o) => o.kind)).toEqual([]);
    expect(find(objects, 'HorizontalPodAutoscaler')).toEqual([]);
  });
});

describe.each(['prod', 'prod-hpa'])('overlays/%s', (overlay) => {
  const objects = (): K8sObject[] => objectsOf(overlay);

  it('has a PodDisruptionBudget, a NetworkPolicy, a ServiceMonitor and a PrometheusRule', () => {
    for (const kind of ['PodDisruptionBudget', 'NetworkPolicy', 'ServiceMonitor', 'PrometheusRule']) {
      expect(find(objects(), kind), kind).toHaveLength(1);
    }
  });

  it('leaves the replica count to the autoscaler', () => {
    expect((one(objects(), 'Deployment') as Any).spec.replicas).toBeUndefined();
  });

  it('takes SASL credentials from Secrets and mounts the CA the config points at', () => {
    const config = configOf(objects());
    const c = (one(objects(), 'Deployment') as Any).spec.template.spec.containers[0];
    const fromSecret = new Set(c.env.filter((e: Any) => e.valueFrom?.secretKeyRef).map((e: Any) => e.name));
    for (const v of ['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD', 'CHUNKLINE_SCHEMA_REGISTRY_PASSWORD']) {
      expect(fromSecret.has(v), v).toBe(true);
      expect(config[v], `${v} must not be in the ConfigMap`).toBeUndefined();
    }
    expect(config.KAFKA_TLS).toBe('true');
    const caFile = config.KAFKA_TLS_CA_FILE!;
    const mount = c.volumeMounts.find((m: Any) => caFile.startsWith(`${m.mountPath}/`));
    expect(mount, `no volume mounted over ${caFile}`).toBeDefined();
    const volume = (one(objects(), 'Deployment') as Any).spec.template.spec.volumes.find(
      (v: Any) => v.name === mount.name,
    );
    expect(volume.secret.items.map((i: Any) => `${mount.mountPath}/${i.path}`)).toContain(caFile);
  });

  it('the NetworkPolicy lets in only the monitoring namespace on http-metrics, lets out only DNS, Kafka and the registry', () => {
    const np = one(objects(), 'NetworkPolicy') as Any;
    expect(np.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(np.spec.ingress).toHaveLength(1);
    expect(np.spec.ingress[0].from).toEqual([
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } },
    ]);
    expect(np.spec.ingress[0].ports).toEqual([{ port: 'http-metrics', protocol: 'TCP' }]);
    const egressPorts = np.spec.egress.flatMap((r: Any) => r.ports.map((p: Any) => p.port)).sort();
    expect([...new Set(egressPorts)]).toEqual([53, 8081, 9092, 9093, 9094]);
    for (const rule of np.spec.egress)
      expect(rule.to?.length, 'an egress rule without `to` allows any peer').toBeGreaterThan(0);
    const brokerPort = Number(/:(\d+)/.exec(configOf(objects()).KAFKA_BROKERS!)![1]);
    expect(egressPorts).toContain(brokerPort);
  });

  it('caps replicas at the input topic partition count', () => {
    const partitions = inputTopicPartitions();
    const so = find(objects(), 'ScaledObject') as Any[];
    const hpa = find(objects(), 'HorizontalPodAutoscaler') as Any[];
    expect(so.length + hpa.length, 'exactly one autoscaler').toBe(1);
    if (so.length === 1) {
      expect(so[0].spec.minReplicaCount).toBe(1);
      expect(so[0].spec.maxReplicaCount).toBeLessThanOrEqual(partitions);
    } else {
      expect(hpa[0].spec.maxReplicas).toBeLessThanOrEqual(partitions);
      expect(hpa[0].spec.scaleTargetRef).toEqual({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        name: 'chunkline-worker',
      });
    }
  });
});

describe('overlays/prod KEDA', () => {
  const KEDA_SASL: Record<string, string> = {
    plain: 'plaintext',
    'scram-sha-256': 'scram_sha256',
    'scram-sha-512': 'scram_sha512',
  };

  it('measures the lag of the group the workers are in, with the same SASL and TLS', () => {
    const objects = objectsOf('prod');
    const config = configOf(objects);
    const so = one(objects, 'ScaledObject') as Any;
    expect(so.spec.scaleTargetRef.name).toBe('chunkline-worker');
    const trigger = so.spec.triggers.find((t: Any) => t.type === 'kafka');
    expect(trigger.metadata).toMatchObject({
      bootstrapServers: config.KAFKA_BROKERS,
      consumerGroup: config.CHUNKLINE_GROUP_ID,
      topic: config.CHUNKLINE_INPUT_TOPIC,
      sasl: KEDA_SASL[config.KAFKA_SASL_MECHANISM!],
      tls: config.KAFKA_TLS === 'true' ? 'enable' : 'disable',
      offsetResetPolicy: 'earliest',
    });
    expect(Number(trigger.metadata.lagThreshold)).toBeGreaterThan(0);
    const auth = one(objects, 'TriggerAuthentication', trigger.authenticationRef.name) as Any;
    const params = auth.spec.secretTargetRef.map((r: Any) => r.parameter).sort();
    expect(params).toEqual(['ca', 'password', 'username']);
  });
});

describe('overlays/strimzi-topics', () => {
  it('declares the worker topics with the ConfigMap names; manifests compacted', () => {
    const config = configOf(objectsOf('prod'));
    const topics = find(objectsOf('strimzi-topics'), 'KafkaTopic') as Any[];
    const byName = new Map(topics.map((t) => [t.spec.topicName as string, t]));
    const wanted = Object.entries(config)
      .filter(([k]) => /^CHUNKLINE_\w+_TOPIC$/.test(k))
      .map(([, v]) => v);
    expect(wanted.length).toBeGreaterThanOrEqual(4);
    expect([...byName.keys()].sort()).toEqual([...wanted].sort());
    expect(byName.get(config.CHUNKLINE_MANIFEST_TOPIC!).spec.config['cleanup.policy']).toBe('compact');
    for (const t of topics) expect(t.metadata.labels['strimzi.io/cluster']).toBe('chunkline');
    // Chunks and manifests of a doc_id land on the same partition number.
    expect(byName.get(config.CHUNKLINE_MANIFEST_TOPIC!).spec.partitions).toBe(
      byName.get(config.CHUNKLINE_CHUNK_TOPIC!).spec.partitions,
    );
  });

  it('lets output records of CHUNKLINE_MAX_MESSAGE_BYTES through the chunk topic', () => {
    const config = configOf(objectsOf('prod'));
    const chunks = find(objectsOf('strimzi-topics'), 'KafkaTopic').find(
      (t: Any) => t.spec.topicName === config.CHUNKLINE_CHUNK_TOPIC,
    ) as Any;
    expect(Number(config.CHUNKLINE_MAX_MESSAGE_BYTES)).toBeLessThanOrEqual(
      Number(chunks.spec.config['max.message.bytes']),
    );
  });
});
