// The cluster worker view against recorded API responses (testdata/), served at the real API
// paths by a local HTTP server and read through the real @kubernetes/client-node client.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { workerStatusSchema, type WorkerStatus } from '../../eventing/catalog.ts';
import { clusterWorkers, KubernetesApiError, kubernetesApis, type KubernetesApis, type KnativeService, type Pod } from './kubernetes.ts';

const fixture = (name: string) => readFileSync(new URL(`./testdata/${name}`, import.meta.url), 'utf8');
const ksvcList = fixture('ksvc-list.json');
const podList = fixture('pod-list.json');
const forbidden = fixture('forbidden.json');

/** A fake API server: what it serves, by path, and every request it saw. */
function apiServer(routes: Record<string, { status?: number; body: string }>) {
  const seen: URL[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://api');
    seen.push(url);
    const route = req.method === 'GET' ? routes[url.pathname] : undefined;
    const notFound = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'the server could not find the requested resource', reason: 'NotFound', code: 404 });
    res.writeHead(route?.status ?? (route ? 200 : 404), { 'content-type': 'application/json' });
    res.end(route?.body ?? notFound);
  });
  return {
    seen,
    async start(): Promise<KubeConfig> {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return kubeConfig(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function kubeConfig(server: string, namespace?: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    // client-node 1.x refuses an http:// server unless TLS verification is explicitly off.
    clusters: [{ name: 't', server, skipTLSVerify: true }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'c', cluster: 't', user: 'u', namespace }],
    currentContext: 'c',
  });
  return kc;
}

const byService = (ws: WorkerStatus[]) => Object.fromEntries(ws.map((w) => [w.service, w]));

test('through the real client: one entry per Hippo Knative Service, from two list calls', async () => {
  const api = apiServer({
    '/apis/serving.knative.dev/v1/namespaces/hippo/services': { body: ksvcList },
    '/api/v1/namespaces/hippo/pods': { body: podList },
  });
  const kc = await api.start();
  try {
    const workers = await clusterWorkers(await kubernetesApis(kc), 'hippo');

    // The paths and selectors the client really sent: one list of Services, one of all Knative pods.
    const calls = api.seen.map((u) => `${u.pathname} ${u.searchParams.get('labelSelector') ?? ''}`.trim()).sort();
    assert.equal(calls, ['/api/v1/namespaces/hippo/pods serving.knative.dev/service', '/apis/serving.knative.dev/v1/namespaces/hippo/services']);

    // alert-relay is labelled part-of: monitoring, so it is not Hippo's (nor are its pods counted).
    assert.equal(workers.map((w) => w.service), ['pit-join-t0', 'pit-join-t1', 'retry', 'runs']);
    for (const w of workers) workerStatusSchema.parse(w);
    const w = byService(workers);

    // Crash-looping after an OOM kill: not Ready; 4 restarts, the last one OOMKilled.
    assert.equal(w['pit-join-t0'], { service: 'pit-join-t0', fn: 'pit-join', tier: 0, ready: 0, busy: 0, restarts: 4, oomKills: 1 });
    // Three pods: Ready with restartCount 2 and lastState OOMKilled; OOM-killed right now
    // (state.terminated, restartCount 0, NotReady); the old revision's, terminating though still
    // reporting Ready (restartCount 1, last exit Error). Ready 1, restarts 2+0+1, OOM kills 2.
    assert.equal(w['pit-join-t1'], { service: 'pit-join-t1', fn: 'pit-join', tier: 1, ready: 1, busy: 0, restarts: 3, oomKills: 2 });
    // Scaled to zero: no pods.
    assert.equal(w['retry'], { service: 'retry', fn: 'retry', ready: 0, busy: 0, restarts: 0, oomKills: 0 });
    // One Ready pod whose queue-proxy was OOM-killed once: the sidecar is not the function.
    assert.equal(w['runs'], { service: 'runs', fn: 'runs', ready: 1, busy: 0, restarts: 0, oomKills: 0 });
    assert.not.ok('tier' in w['runs']!, 'a non-tiered function has no tier key');
  } finally {
    await api.stop();
  }
});

test('403 listing Services → a KubernetesApiError naming the call, the namespace and the API server message', async () => {
  const api = apiServer({
    '/apis/serving.knative.dev/v1/namespaces/locked/services': { status: 403, body: forbidden },
    '/api/v1/namespaces/locked/pods': { body: podList },
  });
  const kc = await api.start();
  try {
    const err = await clusterWorkers(await kubernetesApis(kc), 'locked').then(
      () => assert.unreachable('should have failed'),
      (e: unknown) => e,
    );
    assert.instance(err, KubernetesApiError);
    const e = err as KubernetesApiError;
    assert.is(e.status, 403);
    assert.is(e.namespace, 'locked');
    assert.is(e.call, 'list serving.knative.dev/v1 services');
    assert.match(e.message, 'Kubernetes API: list serving.knative.dev/v1 services in namespace "locked" failed: HTTP 403 (Forbidden)');
    assert.match(e.message, 'cannot list resource "services" in API group "serving.knative.dev"');
    assert.ok(api.seen.some((u) => u.pathname === '/apis/serving.knative.dev/v1/namespaces/locked/services'));
  } finally {
    await api.stop();
  }
});

test('403 listing pods → the error names the pod list', async () => {
  const api = apiServer({
    '/apis/serving.knative.dev/v1/namespaces/hippo/services': { body: ksvcList },
    '/api/v1/namespaces/hippo/pods': { status: 403, body: forbidden.replaceAll('services.serving.knative.dev', 'pods').replaceAll('serving.knative.dev', '') },
  });
  const kc = await api.start();
  try {
    const e = (await clusterWorkers(await kubernetesApis(kc), 'hippo').catch((e: unknown) => e)) as KubernetesApiError;
    assert.instance(e, KubernetesApiError);
    assert.is(e.status, 403);
    assert.match(e.message, 'list pods (labelSelector serving.knative.dev/service) in namespace "hippo" failed: HTTP 403 (Forbidden): pods is forbidden');
  } finally {
    await api.stop();
  }
});

test('API server unreachable → a KubernetesApiError with no status, naming the call and namespace', async () => {
  // A port that was just free: nothing listens there.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));

  const e = (await clusterWorkers(await kubernetesApis(kubeConfig(`http://127.0.0.1:${port}`)), 'hippo').catch((e: unknown) => e)) as KubernetesApiError;
  assert.instance(e, KubernetesApiError);
  assert.is(e.status, undefined);
  assert.match(e.message, /^Kubernetes API: list .* in namespace "hippo" failed: /);
  assert.match(e.message, 'ECONNREFUSED');
});

test('kubernetesApis: the namespace given, else the kubeconfig context’s, else default', async () => {
  assert.is((await kubernetesApis(kubeConfig('http://127.0.0.1:1', 'ctx-ns'), 'given')).namespace, 'given');
  assert.is((await kubernetesApis(kubeConfig('http://127.0.0.1:1', 'ctx-ns'))).namespace, 'ctx-ns');
  assert.is((await kubernetesApis(kubeConfig('http://127.0.0.1:1'))).namespace, 'default');
});

/** Recorded responses without a server: the interface is what the watchdog's tests can fake. */
function recorded(services: KnativeService[], pods: Pod[]): KubernetesApis & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    listKnativeServices: async (ns) => (calls.push(`services ${ns}`), { items: services }),
    listPods: async (ns, selector) => (calls.push(`pods ${ns} ${selector}`), { items: pods }),
  };
}

const ksvc = (name: string, labels?: Record<string, string>, containers?: string[]): KnativeService => ({
  metadata: { name, labels },
  spec: { template: { spec: { containers: (containers ?? ['user-container']).map((n) => ({ name: n })) } } },
});

test('no part-of labels on any Service: every one not claimed by another app is Hippo’s', async () => {
  const apis = recorded([ksvc('runs'), ksvc('export-t2'), ksvc('grafana', { 'app.kubernetes.io/part-of': 'monitoring' })], []);
  const workers = await clusterWorkers(apis, 'ns');
  assert.equal(workers, [
    { service: 'export-t2', fn: 'export', tier: 2, ready: 0, busy: 0, restarts: 0, oomKills: 0 },
    { service: 'runs', fn: 'runs', ready: 0, busy: 0, restarts: 0, oomKills: 0 },
  ]);
  assert.equal(apis.calls, ['services ns', 'pods ns serving.knative.dev/service']);
});

test('some Services labelled part-of: hippo → unlabelled ones are not Hippo’s', async () => {
  const workers = await clusterWorkers(recorded([ksvc('runs', { 'app.kubernetes.io/part-of': 'hippo' }), ksvc('stray')], []), 'ns');
  assert.equal(workers.map((w) => w.service), ['runs']);
});

test('an app container the Service names is counted like user-container; queue-proxy never', async () => {
  const pod: Pod = {
    metadata: { labels: { 'serving.knative.dev/service': 'ingest' } },
    status: {
      conditions: [{ type: 'Ready', status: 'True' }],
      containerStatuses: [
        { name: 'ingest', restartCount: 3, lastState: { terminated: { reason: 'OOMKilled' } } },
        { name: 'queue-proxy', restartCount: 5, state: { terminated: { reason: 'OOMKilled' } } },
      ],
    },
  };
  const [w] = await clusterWorkers(recorded([ksvc('ingest', undefined, ['ingest'])], [pod]), 'ns');
  assert.equal(w, { service: 'ingest', fn: 'ingest', ready: 1, busy: 0, restarts: 3, oomKills: 1 });
});

test.run();
