import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { manifestFiles, knativeValues, type K8sObject } from './generate.ts';
import { settings, type ManifestSettings } from './settings.ts';
import { localEnv, localValues } from '../local/dev.ts';
import { loadConfig } from '../shared/config.ts';
import { functionSpecs, services, sourceSpecs, type FunctionSpec, type ServiceSpec } from '../functions/specs.ts';
import { envNames, functionEnv, LEFT_OUT, type EnvName } from '../functions/wiring.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

// Every optional setting set, on both platforms: nothing is missing only because it was not configured.
const cluster: ManifestSettings = {
  ...settings,
  stepTimeouts: { 'pit-join': 120 },
  pubsub: { ...settings.pubsub, deadLetterTopic: 'hippo-vendor-dead' },
};
const config = loadConfig({
  HIPPO_STORE: 's3://wiring-test/prefix', S3_ENDPOINT: 'http://127.0.0.1:5000', HIPPO_TOKEN: 'secret-token',
  HIPPO_STEP_TIMEOUTS: 'pit-join=120', HIPPO_BACKUP_STORE: 'file:///tmp/wiring-test-backups', HIPPO_CHAOS: 'kill:export:1',
  PUBSUB_EMULATOR_HOST: '127.0.0.1:8085', PUBSUB_PROJECT_ID: 'wiring-test', HIPPO_PUBSUB_SUBSCRIPTION: 'vendor',
  HIPPO_PUBSUB_DEAD_LETTER_TOPIC: 'vendor-dead',
});
const local = localValues({ config, storeUrl: config.HIPPO_STORE, brokerUrl: 'http://127.0.0.1:8081', port: 8080 });
const runnerEnv = localEnv(local);

const everyService: ServiceSpec[] = [...services(cluster.tiers.length), ...sourceSpecs.map((fn) => ({ name: fn.name, fn }))];

/** The generated object of a Service or event source, and its container's env and envFrom. */
function container(name: string): { env: Record<string, string>; secret: boolean } {
  const o = [...manifestFiles(cluster).values()].flat().find((x: K8sObject) => (x.kind === 'Service' || x.kind === 'ContainerSource') && x.metadata.name === name);
  assert.ok(o, `no Service or ContainerSource ${name}`);
  const c = (o!.spec as { template: { spec: { containers: { env: { name: string; value: string }[]; envFrom?: unknown[] }[] } } }).template.spec.containers[0]!;
  return { env: Object.fromEntries(c.env.map((e) => [e.name, e.value])), secret: (c.envFrom ?? []).length > 0 };
}

const defined = (env: Record<string, string | undefined>) => Object.keys(env).filter((k) => env[k] !== undefined);
const without = (names: string[], left: object) => names.filter((n) => !Object.hasOwn(left, n)).sort();

const test = suite('functions/wiring: one derivation for both platforms');

test('the manifests and the local runner get their env from the wiring', () => {
  for (const svc of everyService) {
    const knative = functionEnv(svc, 'knative', knativeValues(cluster));
    assert.equal(container(svc.name).env, Object.fromEntries(defined(knative).map((k) => [k, knative[k]!])), svc.name);
    const wired = functionEnv(svc, 'local', local);
    const env = runnerEnv(svc);
    for (const name of envNames(svc.fn)) assert.is(env[name], wired[name], `${svc.name}: ${name}`);
    // Beyond its wiring a local process gets only what any process needs and its clients' variables.
    const extra = Object.keys(env).filter((k) => !(k in wired) && !['PATH', 'HOME', 'TMPDIR'].includes(k));
    assert.ok(extra.every((k) => /^(S3_|AWS_|GOOGLE_|CLOUDSDK_)/.test(k)), `${svc.name}: ${extra.join(', ')}`);
  }
});

test('a function gets the same variables locally and in a cluster, but for the platform-only list (LEFT_OUT)', () => {
  for (const svc of everyService) {
    const localNames = Object.keys(functionEnv(svc, 'local', local));
    const knativeNames = Object.keys(functionEnv(svc, 'knative', knativeValues(cluster)));
    assert.equal(without(localNames, LEFT_OUT.knative), without(knativeNames, LEFT_OUT.local), svc.name);
    // And what a platform leaves out, the other one sets.
    for (const name of envNames(svc.fn)) assert.ok(localNames.includes(name) || knativeNames.includes(name), `${svc.name}: ${name} on neither platform`);
  }
  assert.equal(Object.keys(LEFT_OUT.local).filter((n) => Object.hasOwn(LEFT_OUT.knative, n)), [], 'left out on both platforms');
});

test('a function that does not need the store or the broker gets none of it', () => {
  const noStore = functionSpecs.filter((fn) => !fn.store);
  assert.equal(noStore.map((fn) => fn.name), ['retry']);
  const store: EnvName[] = ['HIPPO_STORE', 'S3_ENDPOINT'];
  const saved = { AWS_REGION: process.env.AWS_REGION, GOOGLE_CLOUD_PROJECT: process.env.GOOGLE_CLOUD_PROJECT };
  process.env.AWS_REGION = 'eu-west-1';
  process.env.GOOGLE_CLOUD_PROJECT = 'wiring-test';
  try {
    for (const svc of everyService) {
      const env = runnerEnv(svc);
      const { env: knative, secret } = container(svc.name);
      for (const name of store) {
        assert.is(name in env, !!svc.fn.store, `${svc.name} locally: ${name}`);
        if (name === 'HIPPO_STORE') assert.is(name in knative, !!svc.fn.store, `${svc.name} in a cluster: ${name}`);
      }
      // The store's credentials: passed through locally, the env Secret in a cluster.
      assert.is(env.AWS_REGION, svc.fn.store ? 'eu-west-1' : undefined, `${svc.name}: AWS_REGION`);
      assert.is(env.GOOGLE_CLOUD_PROJECT, svc.fn.pubsub ? 'wiring-test' : undefined, `${svc.name}: GOOGLE_CLOUD_PROJECT`);
      assert.is(secret, !!svc.fn.store || envNames(svc.fn).includes('HIPPO_TOKEN'), `${svc.name}: env Secret`);
      // K_SINK: the local broker; in a cluster the SinkBinding or ContainerSource injects it.
      assert.is(env.K_SINK, svc.fn.sink ? 'http://127.0.0.1:8081' : undefined, `${svc.name}: K_SINK`);
      assert.not.ok('K_SINK' in knative, svc.name);
    }
  } finally {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  }
  assert.equal(Object.keys(runnerEnv({ name: 'retry', fn: noStore[0]! })).sort(), ['HIPPO_LOG_LEVEL', 'HIPPO_TIERS', 'HOME', 'PATH', 'PORT', 'TMPDIR']);
  assert.equal(Object.keys(container('retry').env), ['HIPPO_HOST', 'HIPPO_TIERS', 'NODE_OPTIONS']);
});

test("the wiring is what each function's entry point reads (config.X, openStore, K_SINK, the Kubernetes API)", () => {
  const sourceOf = (path: string) => readFileSync(join(root, path), 'utf8');
  const reads = (fn: FunctionSpec): string[] => {
    let text = sourceOf(fn.entry);
    if (text.includes('runStepMain(')) text += sourceOf('functions/step-main.ts');
    const names = new Set([...text.matchAll(/\bconfig\.([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]!));
    if (/openStore\(config\)/.test(text)) for (const n of ['HIPPO_STORE', 'S3_ENDPOINT']) names.add(n);
    return [...names].sort();
  };
  for (const fn of [...functionSpecs, ...sourceSpecs]) {
    // NODE_OPTIONS is Node's, not the function's Config.
    assert.equal(envNames(fn).filter((n) => n !== 'NODE_OPTIONS').sort(), reads(fn), fn.name);
    assert.is(/KUBERNETES_SERVICE_HOST/.test(sourceOf(fn.entry)), !!fn.kubernetes, `${fn.name}: kubernetes`);
  }
});

test('local ports: the public API on the port asked for, every other instance on a free one; tiers by the wiring', () => {
  for (const svc of everyService) assert.is(runnerEnv(svc).PORT, svc.fn.public ? '8080' : '0', svc.name);
  for (const svc of everyService) assert.is(runnerEnv(svc).HIPPO_TIER, svc.tier === undefined ? undefined : String(svc.tier), svc.name);
  assert.is(container('pubsub-bridge').env.PORT, '8080');
  assert.not.ok('PORT' in container('runs').env, "PORT is Knative Serving's to set");
});

test.run();
