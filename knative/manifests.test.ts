import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parse, parseAllDocuments } from 'yaml';
import { EventTypes } from '../eventing/catalog.ts';
import { RETRY_SERVICE, STEPS, stepService } from '../eventing/triggers.ts';
import { functionSpecs, services, sourceSpecs } from '../functions/specs.ts';
import { envNames } from '../functions/wiring.ts';
import { loadConfig, parseBytes } from '../shared/config.ts';
import { DUCKDB_MEMORY_SHARE } from '../shared/duckdb.ts';
import { ConfigError } from '../shared/errors.ts';
import { checkSettings, compareManifests, entryOf, manifestFiles, renderManifests, SINK_LABEL, writeManifests, type K8sObject } from './generate.ts';
import { settings, type ManifestSettings } from './settings.ts';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
/** The Knative CRDs the manifests must satisfy, copied into the repository (reference/knative-crds/README.md): the test runs from any clone. */
const crdDir = join(root, 'reference', 'knative-crds');

const files = manifestFiles(settings);
const objects = [...files.values()].flat();
const ofKind = (kind: string) => objects.filter((o) => o.kind === kind);
const byName = (kind: string, name: string) => ofKind(kind).find((o) => o.metadata.name === name);

// Typed views of the few fields the invariants read.
interface Container {
  command: string[];
  env: { name: string; value: string }[];
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  readinessProbe: { httpGet: { path: string } };
  livenessProbe: { httpGet: { path: string } };
}
interface ServiceView {
  annotations: Record<string, string>;
  containerConcurrency: number;
  timeoutSeconds: number;
  container: Container;
  env: Record<string, string>;
}
function view(o: K8sObject): ServiceView {
  const template = (o.spec as { template: { metadata: { annotations: Record<string, string> }; spec: { containerConcurrency: number; timeoutSeconds: number; containers: Container[] } } }).template;
  const container = template.spec.containers[0]!;
  return {
    annotations: template.metadata.annotations,
    containerConcurrency: template.spec.containerConcurrency,
    timeoutSeconds: template.spec.timeoutSeconds,
    container,
    env: Object.fromEntries(container.env.map((e) => [e.name, e.value])),
  };
}
interface TriggerSpec {
  broker: string;
  filters: { exact: Record<string, string> }[];
  subscriber: { ref: { kind: string; name: string } };
  delivery: { retry: number; backoffPolicy: string; backoffDelay: string; timeout: string; deadLetterSink?: { ref?: { kind: string; name: string } } };
}
const triggerSpec = (o: K8sObject) => o.spec as TriggerSpec;
interface ContainerSourceSpec {
  template: { spec: { containers: (Container & { image: string })[] } };
  sink: { ref: { apiVersion: string; kind: string; name: string } };
}
/** `PT540S` → 540. */
function seconds(iso: string): number {
  const m = /^PT(\d+(?:\.\d+)?)S$/.exec(iso);
  assert.ok(m, `${iso} is not an ISO-8601 duration in seconds`);
  return Number(m![1]);
}
const serviceView = (name: string) => {
  const o = byName('Service', name);
  assert.ok(o, `no Service ${name}`);
  return view(o!);
};

// ---- the committed files ------------------------------------------------------------------

const generated = suite('knative/: committed files');

generated('equal the generator output (run `npm run manifests` when this fails)', async () => {
  const drift = await compareManifests(here, settings);
  const first = drift[0];
  const message = first
    ? `knative/${first.file} ${first.problem}${first.line ? ` at line ${first.line}:\n  generated: ${first.expected}\n  committed: ${first.actual}` : ''}` +
      `${drift.length > 1 ? `\n  (and ${drift.length - 1} more)` : ''}\nrun \`npm run manifests\` and commit knative/`
    : '';
  assert.equal(drift, [], message);
});

generated('the kustomization lists every generated file and points the image placeholder at settings.image', () => {
  assert.equal(parse(renderManifests(settings).get('kustomization.yaml')!).resources, ['base']);
  const k = parse(renderManifests(settings).get('base/kustomization.yaml')!);
  assert.equal(k.resources, [...files.keys()]);
  assert.is(k.namespace, settings.namespace);
  assert.equal(k.images, [{ name: 'hippo', newName: settings.image.name, newTag: settings.image.tag }]);
  for (const o of objects.filter((x) => x.kind !== 'Namespace')) assert.is(o.metadata.namespace, settings.namespace, `${o.kind}/${o.metadata.name}`);
});

generated('writing: every file, stale YAML removed; a changed, missing or extra file is drift', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hippo-manifests-'));
  try {
    await writeFile(join(dir, 'old-kind.yaml'), 'kind: Gone\n');
    const written = await writeManifests(dir, settings);
    assert.equal(written, [...renderManifests(settings).keys()]);
    assert.ok(!existsSync(join(dir, 'old-kind.yaml')));
    assert.equal(await compareManifests(dir, settings), []);
    await writeFile(join(dir, 'base/triggers.yaml'), renderManifests(settings).get('base/triggers.yaml')!.replace('retry: 3', 'retry: 2'));
    await rm(join(dir, 'base/rbac.yaml'));
    await writeFile(join(dir, 'base/extra.yml'), 'kind: Extra\n');
    const drift = await compareManifests(dir, settings);
    assert.equal(drift.map((d) => [d.file, d.problem]), [['base/rbac.yaml', 'missing'], ['base/triggers.yaml', 'differs'], ['base/extra.yml', 'not generated']]);
    assert.equal(drift[1], { file: 'base/triggers.yaml', problem: 'differs', line: 22, expected: '    retry: 3', actual: '    retry: 2' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

generated.run();

// ---- CRD schemas ---------------------------------------------------------------------------

/**
 * Validates objects against the CRDs' `openAPIV3Schema` as the API server would with strict
 * field validation (kubectl's default): a field the schema does not know is an error, not
 * silently pruned — unless the schema says `x-kubernetes-preserve-unknown-fields`.
 */
function loadCrdValidators(): Map<string, ValidateFunction> {
  assert.ok(existsSync(crdDir), `the Knative CRDs are missing: ${crdDir}`);
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  const out = new Map<string, ValidateFunction>();
  for (const file of readdirSync(crdDir).filter((f) => /\.ya?ml$/.test(f))) {
    for (const doc of parseAllDocuments(readFileSync(join(crdDir, file), 'utf8'))) {
      const crd = doc.toJS() as { kind?: string; spec?: { group: string; names: { kind: string }; versions: { name: string; schema?: { openAPIV3Schema: Schema } }[] } };
      if (crd?.kind !== 'CustomResourceDefinition' || !crd.spec) continue;
      for (const version of crd.spec.versions) {
        if (!version.schema) continue;
        out.set(`${crd.spec.group}/${version.name} ${crd.spec.names.kind}`, ajv.compile(topLevel(version.schema.openAPIV3Schema)));
      }
    }
  }
  for (const [key, schema] of Object.entries(coreSchemas)) out.set(key, ajv.compile(topLevel(schema)));
  return out;
}

type Schema = { [keyword: string]: unknown };

const objectMeta: Schema = {
  type: 'object',
  required: ['name'],
  properties: {
    // A DNS label: what Knative Services, Triggers and namespaces need.
    name: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 },
    namespace: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' },
    labels: { type: 'object', additionalProperties: { type: 'string', maxLength: 63 } },
    annotations: { type: 'object', additionalProperties: { type: 'string' } },
  },
};

/** The CRD schema with `apiVersion`, `kind` and `metadata` (implicit in a CRD), made strict. */
function topLevel(schema: Schema): Schema {
  const s = structuredClone(schema);
  const properties = (s.properties ?? {}) as Record<string, Schema>;
  s.properties = { ...properties, apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: objectMeta };
  s.required = ['apiVersion', 'kind', 'metadata', ...((s.required as string[]) ?? [])];
  return strict(s);
}

function strict(s: Schema): Schema {
  if (s.type === 'object' && s['x-kubernetes-preserve-unknown-fields'] !== true && s.additionalProperties === undefined) s.additionalProperties = false;
  for (const child of Object.values((s.properties ?? {}) as Record<string, Schema>)) strict(child);
  if (s.items && typeof s.items === 'object') strict(s.items as Schema);
  if (s.additionalProperties && typeof s.additionalProperties === 'object') strict(s.additionalProperties as Schema);
  for (const k of ['anyOf', 'allOf', 'oneOf']) for (const child of (s[k] as Schema[] | undefined) ?? []) strict(child);
  return s;
}

const str = { type: 'string' };
const strings = { type: 'array', items: str };
/** Core Kubernetes kinds have no CRD: the few fields the generator uses, just as strict. */
const coreSchemas: Record<string, Schema> = {
  'v1 Namespace': { type: 'object', properties: {} },
  'v1 ServiceAccount': { type: 'object', properties: {} },
  'v1 ConfigMap': { type: 'object', properties: { data: { type: 'object', additionalProperties: str } } },
  'rbac.authorization.k8s.io/v1 Role': {
    type: 'object',
    required: ['rules'],
    properties: {
      rules: { type: 'array', items: { type: 'object', required: ['verbs'], properties: { apiGroups: strings, resources: strings, verbs: strings } } },
    },
  },
  'rbac.authorization.k8s.io/v1 RoleBinding': {
    type: 'object',
    required: ['roleRef', 'subjects'],
    properties: {
      roleRef: { type: 'object', required: ['apiGroup', 'kind', 'name'], properties: { apiGroup: str, kind: str, name: str } },
      subjects: { type: 'array', items: { type: 'object', required: ['kind', 'name'], properties: { kind: str, name: str, namespace: str } } },
    },
  },
};

const validators = loadCrdValidators();

function validate(o: unknown): string[] {
  const { apiVersion, kind } = o as K8sObject;
  const v = validators.get(`${apiVersion} ${kind}`);
  if (!v) return [`no schema for ${apiVersion} ${kind}`];
  return v(o) ? [] : (v.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}${e.params && 'additionalProperty' in e.params ? ` (${e.params.additionalProperty})` : ''}`);
}

const schemas = suite('knative/: CRD schemas');

schemas('every generated object validates against its schema', () => {
  for (const o of objects) assert.equal(validate(o), [], `${o.kind}/${o.metadata.name}`);
});

schemas('the Knative objects are checked against the Knative CRDs (reference/knative-crds)', () => {
  for (const key of ['serving.knative.dev/v1 Service', 'eventing.knative.dev/v1 Broker', 'eventing.knative.dev/v1 Trigger', 'sources.knative.dev/v1 PingSource', 'sources.knative.dev/v1 SinkBinding', 'sources.knative.dev/v1 ContainerSource']) {
    assert.ok(validators.has(key), key);
  }
  assert.equal([...new Set(objects.map((o) => o.kind))].sort(), ['Broker', 'ConfigMap', 'ContainerSource', 'Namespace', 'PingSource', 'Role', 'RoleBinding', 'Service', 'ServiceAccount', 'SinkBinding', 'Trigger']);
});

schemas('a misspelled or misplaced field is an error, not silently pruned', () => {
  const svc = structuredClone(byName('Service', 'runs')!) as K8sObject & { spec: { template: { spec: Record<string, unknown> } } };
  svc.spec.template.spec.containerConcurency = 1;
  assert.equal(validate(svc), ['/spec/template/spec must NOT have additional properties (containerConcurency)']);
  const trig = structuredClone(ofKind('Trigger')[0]!) as K8sObject & { spec: { delivery: Record<string, unknown> } };
  trig.spec.delivery.deadLetterSink = { service: 'retry' };
  assert.equal(validate(trig), ['/spec/delivery/deadLetterSink must NOT have additional properties (service)']);
  assert.equal(validate({ ...byName('Broker', settings.broker.name)!, metadata: { name: 'Hippo_Broker' } }).length, 1);
});

schemas('the broker config has the keys of the Kafka broker example ConfigMap', () => {
  const example = parse(readFileSync(join(crdDir, 'kafka-broker-configmap.example.yaml'), 'utf8')) as { data: Record<string, string> };
  const config = ofKind('ConfigMap')[0] as K8sObject & { data: Record<string, string> };
  assert.equal(Object.keys(config.data).sort(), Object.keys(example.data).sort());
  const broker = byName('Broker', settings.broker.name)!;
  assert.is(broker.metadata.annotations?.['eventing.knative.dev/broker.class'], 'Kafka');
  assert.equal((broker.spec as { config: unknown }).config, { apiVersion: 'v1', kind: 'ConfigMap', name: config.metadata.name });
});

schemas.run();

// ---- what kustomize makes of it --------------------------------------------------------------

/**
 * `kubectl apply -k` applies what kustomize builds, not the files themselves: build both
 * kustomizations with kubectl's own kustomize (skipped, and counted as skipped, without kubectl).
 */
const kustomize = suite('knative/: kubectl kustomize');
const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
const build = (dir: string): K8sObject[] => {
  const r = spawnSync('kubectl', ['kustomize', join(here, dir)], { encoding: 'utf8' });
  assert.is(r.status, 0, `kubectl kustomize knative/${dir}: ${r.stderr}`);
  return parseAllDocuments(r.stdout).map((d) => d.toJS() as K8sObject);
};
const minScale = (o: K8sObject) => view(o).annotations['autoscaling.knative.dev/min-scale'];

(kubectl ? kustomize : kustomize.skip)('knative/: every object, valid, in the namespace, the image pointed at settings.image', () => {
  const built = build('.');
  assert.is(built.length, objects.length);
  for (const o of built) {
    assert.equal(validate(o), [], `${o.kind}/${o.metadata.name}`);
    if (o.kind !== 'Namespace') assert.is(o.metadata.namespace, settings.namespace);
  }
  for (const o of built.filter((x) => x.kind === 'Service' && x.apiVersion.startsWith('serving'))) {
    assert.is((view(o).container as unknown as { image: string }).image, `${settings.image.name}:${settings.image.tag}`);
  }
  for (const o of built.filter((x) => x.kind === 'ContainerSource')) {
    assert.is((o.spec as ContainerSourceSpec).template.spec.containers[0]!.image, `${settings.image.name}:${settings.image.tag}`, o.metadata.name);
  }
});

(kubectl ? kustomize : kustomize.skip)('knative/overlays/dev: local registry, one warm instance of every Service below tier 1', () => {
  const services = build('overlays/dev').filter((x) => x.kind === 'Service' && x.apiVersion.startsWith('serving'));
  assert.is(services.length, ofKind('Service').length);
  for (const o of services) {
    assert.is((view(o).container as unknown as { image: string }).image, `${settings.devRegistry}/hippo:dev`);
    const tier = o.metadata.labels?.['hippo.dev/tier'];
    assert.is(minScale(o), tier === undefined || tier === '0' ? '1' : '0', o.metadata.name);
  }
});

kustomize.run();

// ---- invariants ----------------------------------------------------------------------------

const invariants = suite('knative/: invariants');

invariants('every Trigger has a dead-letter sink, and it is the retry Service', () => {
  assert.ok(byName('Service', RETRY_SERVICE));
  const broker = byName('Broker', settings.broker.name)!.spec as { delivery: TriggerSpec['delivery'] };
  assert.equal(broker.delivery.deadLetterSink?.ref, { apiVersion: 'serving.knative.dev/v1', kind: 'Service', name: RETRY_SERVICE });
  for (const t of ofKind('Trigger')) {
    assert.equal(triggerSpec(t).delivery.deadLetterSink?.ref, { apiVersion: 'serving.knative.dev/v1', kind: 'Service', name: RETRY_SERVICE }, t.metadata.name);
    assert.is(triggerSpec(t).broker, settings.broker.name);
    assert.ok(byName('Service', triggerSpec(t).subscriber.ref.name), `${t.metadata.name} → a Service that exists`);
  }
});

invariants('every step has a Trigger per tier (exact type, step, tier) routed to the Service of that tier', () => {
  const triggers = ofKind('Trigger').map(triggerSpec);
  for (const step of STEPS) {
    for (const [tier, t] of settings.tiers.entries()) {
      const routed = triggers.filter((x) => x.filters[0]?.exact.step === step && x.filters[0]?.exact.tier === String(tier));
      assert.is(routed.length, 1, `${step} tier ${tier}`);
      assert.equal(routed[0]!.filters, [{ exact: { type: EventTypes.stepRequested, step, tier: String(tier) } }]);
      assert.is(routed[0]!.subscriber.ref.name, stepService(step, tier));
      const svc = serviceView(stepService(step, tier));
      assert.is(svc.env.HIPPO_TIER, String(tier));
      assert.is(parseBytes(svc.container.resources.limits.memory!), parseBytes(t.memory));
    }
  }
  assert.is(triggers.filter((x) => x.filters[0]?.exact.type === EventTypes.stepRequested).length, STEPS.length * settings.tiers.length);
});

invariants("the coordinator's events go to runs", () => {
  for (const type of [EventTypes.runRequested, EventTypes.stepCompleted, EventTypes.stepFailed]) {
    const routed = ofKind('Trigger').map(triggerSpec).filter((t) => t.filters[0]?.exact.type === type);
    assert.equal(routed.map((t) => t.subscriber.ref.name), ['runs'], type);
  }
});

invariants('tier memory limits increase, requests equal limits', () => {
  for (const step of STEPS) {
    const limits = settings.tiers.map((_, tier) => {
      const r = serviceView(stepService(step, tier)).container.resources;
      assert.is(r.requests.memory, r.limits.memory);
      return parseBytes(r.limits.memory!)!;
    });
    for (let i = 1; i < limits.length; i++) assert.ok(limits[i]! > limits[i - 1]!, `${step}: tier ${i} ${limits[i]} > tier ${i - 1} ${limits[i - 1]}`);
  }
});

invariants("DuckDB's memory limit and the Node heap stay below the container limit", () => {
  for (const svc of services(settings.tiers.length).filter((s) => s.fn.duckdb)) {
    const v = serviceView(svc.name);
    const limit = parseBytes(v.container.resources.limits.memory!)!;
    // What the function computes at start-up (functions/step-main.ts, functions/ingest/main.ts).
    const config = loadConfig(v.env);
    const tierBytes = config.HIPPO_MEMORY_LIMIT ?? config.HIPPO_TIERS[config.HIPPO_TIER]!;
    assert.is(tierBytes, limit, `${svc.name}: HIPPO_MEMORY_LIMIT is the container limit`);
    const duckdb = Math.floor(tierBytes * DUCKDB_MEMORY_SHARE);
    const heap = Number(/--max-old-space-size=(\d+)/.exec(v.env.NODE_OPTIONS ?? '')?.[1]) * 1024 ** 2;
    assert.ok(heap > 0, `${svc.name}: a heap limit`);
    assert.ok(duckdb + heap < limit, `${svc.name}: DuckDB ${duckdb} + heap ${heap} < ${limit}`);
  }
});

invariants('the delivery timeout covers the step deadline and stays within timeoutSeconds ≤ 600', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  // The deadline the coordinator and the watchdog hold each step to: from their own env.
  const deadlines = ['runs', 'watchdog'].map((name) => loadConfig({ ...serviceView(name).env, K_SINK: 'http://broker.example/' }));
  for (const t of ofKind('Trigger')) {
    const spec = triggerSpec(t);
    const timeout = seconds(spec.delivery.timeout);
    const subscriber = serviceView(spec.subscriber.ref.name);
    assert.ok(timeout <= subscriber.timeoutSeconds, `${t.metadata.name}: delivery timeout ${timeout} s ≤ timeoutSeconds ${subscriber.timeoutSeconds}`);
    const step = spec.filters[0]?.exact.step;
    if (step) {
      for (const c of deadlines) {
        const deadline = c.HIPPO_STEP_TIMEOUTS[step] ?? c.HIPPO_STEP_TIMEOUT;
        assert.ok(timeout >= deadline, `${t.metadata.name}: delivery timeout ${timeout} s ≥ deadline ${deadline} s`);
      }
    }
  }
  for (const o of ofKind('Service')) {
    const { timeoutSeconds } = view(o);
    if (timeoutSeconds > 600) assert.match(readme, 'max-revision-timeout-seconds', 'a request limit above 600 s needs the README to say how it was raised');
    assert.ok(timeoutSeconds <= settings.maxRevisionTimeoutSeconds, o.metadata.name);
  }
  assert.is(settings.maxRevisionTimeoutSeconds <= 600 || /max-revision-timeout-seconds/.test(readme), true);
});

invariants('the step deadline is the same for the functions that hold steps to it (runs, the watchdog)', () => {
  const holders = services(settings.tiers.length).filter((s) => envNames(s.fn).includes('HIPPO_STEP_TIMEOUT'));
  assert.equal(holders.map((s) => s.name), ['runs', 'watchdog']);
  const envs = holders.map((s) => serviceView(s.name).env);
  for (const env of envs) {
    assert.is(env.HIPPO_STEP_TIMEOUT, String(settings.stepTimeoutSeconds));
    assert.is(env.HIPPO_STEP_TIMEOUTS, envs[0]!.HIPPO_STEP_TIMEOUTS);
  }
});

invariants('every Service: KPA, scale from the spec, DuckDB steps one request at a time, health probes, its own entry point', () => {
  for (const svc of services(settings.tiers.length)) {
    const v = serviceView(svc.name);
    assert.is(v.annotations['autoscaling.knative.dev/class'], 'kpa.autoscaling.knative.dev');
    assert.is(v.annotations['autoscaling.knative.dev/min-scale'], String(svc.fn.minScale));
    assert.ok(Number(v.annotations['autoscaling.knative.dev/max-scale']) >= 1);
    assert.ok(Number(v.annotations['autoscaling.knative.dev/target']) >= 1);
    assert.ok(v.annotations['autoscaling.knative.dev/initial-scale'] !== undefined);
    assert.is(v.containerConcurrency, svc.fn.concurrency);
    if (svc.fn.duckdb && svc.fn.tiered) assert.is(v.containerConcurrency, 1, svc.name);
    assert.is(v.container.readinessProbe.httpGet.path, '/health/readiness');
    assert.is(v.container.livenessProbe.httpGet.path, '/health/liveness');
    assert.equal(v.container.command, ['node', entryOf(svc.fn)]);
    assert.ok(existsSync(join(root, svc.fn.entry)), svc.fn.entry);
    assert.ok(!('PORT' in v.env), 'PORT is Knative\'s to set');
    // Valid configuration for the function (K_SINK comes from the SinkBinding).
    loadConfig({ ...v.env, K_SINK: 'http://broker.example/' });
  }
  for (const fn of functionSpecs.filter((f) => f.minScale === 0)) {
    for (const svc of services(settings.tiers.length).filter((s) => s.fn === fn)) assert.is(serviceView(svc.name).annotations['autoscaling.knative.dev/min-scale'], '0');
  }
});

invariants('the SinkBinding gives K_SINK to exactly the functions that need it', () => {
  const needs = functionSpecs.filter((fn) => /\bK_SINK\b/.test(readFileSync(join(root, fn.entry), 'utf8'))).map((fn) => fn.name).sort();
  const bound = ofKind('Service').filter((o) => o.metadata.labels?.[SINK_LABEL] === 'broker').map((o) => o.metadata.name).sort();
  assert.equal(bound, needs);
  const binding = ofKind('SinkBinding')[0]!.spec as { subject: { selector: { matchLabels: Record<string, string> } }; sink: { ref: { kind: string; name: string } } };
  assert.equal(binding.subject.selector.matchLabels, { [SINK_LABEL]: 'broker' });
  assert.equal(binding.sink.ref, { apiVersion: 'eventing.knative.dev/v1', kind: 'Broker', name: settings.broker.name });
});

invariants('a PingSource wakes each scheduled function (the watchdog every minute)', () => {
  const pings = ofKind('PingSource').map((o) => o.spec as { schedule: string; sink: { ref: { kind: string; name: string } } });
  assert.equal(pings.map((p) => [p.sink.ref.kind, p.sink.ref.name, p.schedule]), functionSpecs.filter((fn) => fn.schedule).map((fn) => ['Service', fn.name, fn.schedule]));
  assert.ok(pings.some((p) => p.sink.ref.name === 'watchdog' && p.schedule === '* * * * *'));
});

invariants('the backup function: its own store to back up into, hourly, one at a time', () => {
  const env = serviceView('backup').env;
  const config = loadConfig(env);
  assert.is(config.HIPPO_BACKUP_STORE, settings.backupStore);
  assert.is(config.HIPPO_STORE, settings.store);
  assert.ok(config.HIPPO_BACKUP_STORE !== config.HIPPO_STORE);
  assert.equal(services(settings.tiers.length).filter((s) => serviceView(s.name).env.HIPPO_BACKUP_STORE).map((s) => s.name), ['backup']);
  const ping = ofKind('PingSource').find((o) => (o.spec as { sink: { ref: { name: string } } }).sink.ref.name === 'backup');
  assert.is((ping?.spec as { schedule: string }).schedule, '0 * * * *');
  assert.is(serviceView('backup').annotations['autoscaling.knative.dev/max-scale'], '1');
  assert.throws(() => checkSettings({ ...settings, backupStore: settings.store }), /backupStore must be another store/);
});

invariants('the Pub/Sub bridge is a ContainerSource: the built entry, posting to the broker, valid configuration, probes', () => {
  assert.equal(ofKind('ContainerSource').map((o) => o.metadata.name), sourceSpecs.map((fn) => fn.name));
  const o = byName('ContainerSource', 'pubsub-bridge')!;
  const spec = o.spec as ContainerSourceSpec;
  assert.equal(spec.sink.ref, { apiVersion: 'eventing.knative.dev/v1', kind: 'Broker', name: settings.broker.name });
  const [container] = spec.template.spec.containers;
  assert.equal(container!.command, ['node', 'dist/eventing/sources/pubsub/main.js']);
  assert.ok(existsSync(join(root, 'eventing/sources/pubsub/main.ts')));
  assert.match(readFileSync(join(root, 'scripts/build.mjs'), 'utf8'), /'eventing\/sources'/, 'npm run build bundles the event sources');
  assert.is(container!.readinessProbe.httpGet.path, '/health/readiness');
  assert.is(container!.livenessProbe.httpGet.path, '/health/liveness');
  const env = Object.fromEntries(container!.env.map((e) => [e.name, e.value]));
  // Valid configuration for the bridge once the ContainerSource has injected K_SINK.
  const config = loadConfig({ ...env, K_SINK: 'http://broker.example/' });
  assert.is(config.HIPPO_PUBSUB_SUBSCRIPTION, settings.pubsub.subscription);
  assert.is(config.PUBSUB_PROJECT_ID, settings.pubsub.projectId);
  assert.is(config.HIPPO_STORE, settings.store);
  assert.is(config.PORT, 8080);
  assert.equal(container!.resources.limits, { memory: '512Mi' });
});

invariants('only the runs API is reachable from outside the cluster', () => {
  const open = ofKind('Service').filter((o) => o.metadata.labels?.['networking.knative.dev/visibility'] !== 'cluster-local');
  assert.equal(open.map((o) => o.metadata.name), ['runs']);
});

invariants('skaffold.yaml builds the image the kustomizations deploy; the Dockerfile runs the build output', () => {
  const skaffold = parse(readFileSync(join(root, 'skaffold.yaml'), 'utf8')) as {
    build: { artifacts: { image: string }[] };
    manifests: { kustomize: { paths: string[] } };
    profiles: { name: string; build?: { artifacts: { image: string }[] }; manifests?: { kustomize: { paths: string[] } } }[];
  };
  assert.equal(skaffold.build.artifacts.map((a) => a.image), [settings.image.name]);
  assert.equal(skaffold.manifests.kustomize.paths, ['knative']);
  const dev = skaffold.profiles.find((p) => p.name === 'dev')!;
  assert.equal(dev.build?.artifacts.map((a) => a.image), [`${settings.devRegistry}/hippo`]);
  assert.equal(dev.manifests?.kustomize.paths, ['knative/overlays/dev']);
  assert.ok(skaffold.profiles.some((p) => p.name === 'prod'));
  const overlay = parse(renderManifests(settings).get('overlays/dev/kustomization.yaml')!) as { images: { name: string; newName: string }[] };
  assert.equal(overlay.images.map((i) => [i.name, i.newName]), [[settings.image.name, `${settings.devRegistry}/hippo`]]);
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
  assert.match(dockerfile, /npm run build/);
  assert.match(dockerfile, /^USER \d+/m); // numeric: runAsNonRoot can only verify a numeric user
});

invariants.run();

// ---- settings the generator refuses --------------------------------------------------------

const refused = suite('knative/: settings the generator refuses');

const refuses = (change: Partial<ManifestSettings>, pattern: RegExp) => {
  try {
    checkSettings({ ...settings, ...change });
  } catch (err) {
    assert.instance(err, ConfigError);
    assert.match((err as Error).message, pattern);
    return;
  }
  assert.unreachable(`accepted ${JSON.stringify(change)}`);
};

refused('a step deadline longer than the request limit', () => {
  refuses({ stepTimeoutSeconds: 900 }, /delisting-adjust-t0: delivery timeout \d+ s exceeds the Services' timeoutSeconds 600/);
  refuses({ stepTimeouts: { 'pit-join': 601 } }, /pit-join-t0: delivery timeout \d+ s/);
});

refused('a request limit above the cluster maximum', () => {
  refuses({ timeoutSeconds: 900 }, /timeoutSeconds 900 exceeds the cluster's max-revision-timeout-seconds \(600\)/);
});

refused('tiers that do not grow, an unknown step, a bad namespace', () => {
  refuses({ tiers: [{ memory: '4GiB', cpu: '1', maxScale: 1, spill: '4Gi' }, { memory: '1GiB', cpu: '1', maxScale: 1, spill: '4Gi' }] }, /tiers\[1\]\.memory 1GiB must be larger/);
  refuses({ stepTimeouts: { 'pit-jion': 60 } }, /"pit-jion" is not a step/);
  refuses({ namespace: 'Hippo' }, /namespace "Hippo"/);
});

refused('a Pub/Sub project or subscription Google would not accept', () => {
  refuses({ pubsub: { projectId: 'My Project', subscription: 'hippo-vendor' } }, /pubsub\.projectId "My Project" is not a Google Cloud project id/);
  refuses({ pubsub: { projectId: 'my-gcp-project', subscription: 'v' } }, /pubsub\.subscription "v"/);
});

refused('a raised cluster limit allows longer requests', () => {
  checkSettings({ ...settings, maxRevisionTimeoutSeconds: 3600, timeoutSeconds: 1800, stepTimeoutSeconds: 1500 });
});

refused.run();
