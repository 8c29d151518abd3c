// The cluster's view of the workers (the watchdog's `GET /workers` in a cluster): one
// entry per Knative Service of Hippo's in the namespace, from two list calls — the Knative
// Services, and every Knative-managed pod in the namespace — whatever the number of Services.
import type { KubeConfig } from '@kubernetes/client-node';
import type { WorkerStatus } from '../../eventing/catalog.ts';
import { parseService } from '../../eventing/triggers.ts';

/** Label Knative puts on every pod (and Route, Configuration, Revision) of a Service. */
export const SERVICE_LABEL = 'serving.knative.dev/service';
/** Label that marks Hippo's Knative Services among others in the namespace. */
export const PART_OF_LABEL = 'app.kubernetes.io/part-of';
export const PART_OF = 'hippo';
/** Knative's name for the app container when the Service does not name it (config-defaults `user-container-name`). */
const USER_CONTAINER = 'user-container';
/** Knative's sidecar in every Service pod: its restarts are not the function's. */
const QUEUE_PROXY = 'queue-proxy';

/** The fields read from a Knative Service (`serving.knative.dev/v1`). */
export interface KnativeService {
  metadata?: { name?: string; labels?: Record<string, string> };
  spec?: { template?: { spec?: { containers?: { name?: string }[] } } };
}
export interface KnativeServiceList {
  items?: KnativeService[];
}

interface ContainerState {
  terminated?: { reason?: string };
}
/** The fields read from a Pod: the client's `V1Pod`, or the raw JSON, both fit. */
export interface Pod {
  metadata?: { name?: string; labels?: Record<string, string>; deletionTimestamp?: unknown };
  status?: {
    conditions?: { type: string; status: string }[];
    containerStatuses?: { name: string; restartCount: number; state?: ContainerState; lastState?: ContainerState }[];
  };
}
export interface PodList {
  items?: Pod[];
}

/** The Kubernetes calls the worker view makes; tests pass recorded responses. */
export interface KubernetesApis {
  /** `GET /apis/serving.knative.dev/v1/namespaces/{namespace}/services` */
  listKnativeServices(namespace: string): Promise<KnativeServiceList>;
  /** `GET /api/v1/namespaces/{namespace}/pods?labelSelector={labelSelector}` */
  listPods(namespace: string, labelSelector: string): Promise<PodList>;
  /** The namespace to look in when the caller names none (see kubernetesApis). */
  readonly namespace?: string;
}

/**
 * The client's modules, loaded on first use: 4 MB of JavaScript that a watchdog outside a
 * cluster never needs and one in a cluster needs only on its first tick, after it is ready
 * (the build leaves the package out of the watchdog's bundle: scripts/build.mjs).
 */
const client = () => import('@kubernetes/client-node');

/** The watchdog's kubeconfig: the pod's service account in a cluster, else `$KUBECONFIG` / `~/.kube/config`. */
export async function defaultKubeConfig(): Promise<KubeConfig> {
  const kc = new (await client()).KubeConfig();
  if (process.env.KUBERNETES_SERVICE_HOST) kc.loadFromCluster();
  else kc.loadFromDefault();
  return kc;
}

/**
 * The real APIs, through `@kubernetes/client-node`. `namespace` is the default namespace
 * offered to callers: the one given, else the kubeconfig context's (in a cluster, the
 * pod's own, from the service-account namespace file), else `default`.
 */
export async function kubernetesApis(config?: KubeConfig, namespace?: string): Promise<KubernetesApis & { namespace: string }> {
  const { CoreV1Api, CustomObjectsApi } = await client();
  const kc = config ?? (await defaultKubeConfig());
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  return {
    namespace: namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default',
    listKnativeServices: async (ns) =>
      (await custom.listNamespacedCustomObject({ group: 'serving.knative.dev', version: 'v1', namespace: ns, plural: 'services' })) as KnativeServiceList,
    listPods: (ns, labelSelector) => core.listNamespacedPod({ namespace: ns, labelSelector }),
  };
}

/** A Kubernetes API call that failed: names the call and namespace, and the status if the server answered. */
export class KubernetesApiError extends Error {
  override name = 'KubernetesApiError';
  constructor(
    readonly call: string,
    readonly namespace: string,
    /** HTTP status when the API server answered (403 …); undefined when it could not be reached. */
    readonly status: number | undefined,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`Kubernetes API: ${call} in namespace "${namespace}" failed: ${detail}`, options);
  }
}

/** The status and a readable reason from the client's `ApiException` (body: the API server's `Status`, as text) or a network error. */
function failure(e: unknown): { status?: number; detail: string } {
  const err = e as { code?: unknown; body?: unknown; message?: unknown; cause?: unknown };
  if (typeof err?.code === 'number' && err.code >= 100 && err.code < 600) {
    let status: { message?: string; reason?: string } | undefined;
    try {
      status = typeof err.body === 'string' ? JSON.parse(err.body) : (err.body as typeof status);
    } catch {
      // Not JSON (a proxy's HTML page, say): show the start of it.
      return { status: err.code, detail: `HTTP ${err.code}: ${String(err.body).slice(0, 200)}` };
    }
    const reason = status?.reason ? ` (${status.reason})` : '';
    return { status: err.code, detail: `HTTP ${err.code}${reason}${status?.message ? `: ${status.message}` : ''}` };
  }
  const message = e instanceof Error ? e.message : String(e);
  const cause = err?.cause instanceof Error && !message.includes(err.cause.message) ? ` (${err.cause.message})` : '';
  return { detail: `${message}${cause}` };
}

async function call<T>(what: string, namespace: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    const { status, detail } = failure(e);
    throw new KubernetesApiError(what, namespace, status, detail, { cause: e });
  }
}

/**
 * Hippo's Services among the namespace's: never one another app claims (`part-of` set to
 * something else); and when any Service is labelled `part-of: hippo` (the manifests label
 * them), only those. With no labels at all, every Service is taken as Hippo's.
 */
function hippoServices(all: KnativeService[]): KnativeService[] {
  const partOf = (s: KnativeService) => s.metadata?.labels?.[PART_OF_LABEL];
  const labelled = all.some((s) => partOf(s) === PART_OF);
  return all.filter((s) => s.metadata?.name && (labelled ? partOf(s) === PART_OF : partOf(s) === undefined));
}

/**
 * The app containers' names of a Service: those its template names (the Knative webhook
 * fills in `user-container` for an unnamed one, so a stored Service always names them), and
 * `user-container` for pods of older revisions. Never `queue-proxy`, Knative's sidecar.
 */
function appContainers(s: KnativeService): Set<string> {
  const names = new Set([USER_CONTAINER]);
  for (const c of s.spec?.template?.spec?.containers ?? []) if (c.name) names.add(c.name);
  names.delete(QUEUE_PROXY);
  return names;
}

const isReady = (p: Pod) =>
  !p.metadata?.deletionTimestamp && (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

/**
 * One `WorkerStatus` per Hippo Knative Service in `namespace`, sorted by Service name.
 *
 * - `ready`: pods of the Service whose `Ready` condition is True and that are not terminating
 *   (a pod keeps reporting Ready for a moment after its deletion starts). Pods of every revision
 *   count: during a rollout both serve.
 * - `restarts`: the sum of `restartCount` over the app container(s) (`user-container`), not
 *   `queue-proxy`, over the pods that exist now — the restarts of pods already gone are lost.
 * - `oomKills`: app containers whose last termination (`lastState.terminated`), or current
 *   state (`state.terminated`, killed and not yet restarted), has reason `OOMKilled` — one per
 *   container status. Kubernetes keeps only the last termination, so this counts containers
 *   *currently showing* an OOM kill, not every OOM kill in `restarts`: a container killed twice
 *   counts once, and one OOM-killed then crashed otherwise counts none.
 * - `busy`: always 0. Kubernetes does not know in-flight requests; Knative's queue-proxy and
 *   autoscaler do, but only as Prometheus metrics off the API (queue-proxy :9091 per pod,
 *   the autoscaler's own endpoint), which would cost a proxied call per pod. The Revision's
 *   `status.actualReplicas`/`desiredReplicas` were considered and rejected: desired is the
 *   autoscaler's target from concurrency averaged over its (60 s) stable window and stays up
 *   through the scale-down delay, so it reports pods as busy long after their requests ended.
 */
export async function clusterWorkers(apis: KubernetesApis, namespace: string): Promise<WorkerStatus[]> {
  const [services, pods] = await Promise.all([
    call('list serving.knative.dev/v1 services', namespace, () => apis.listKnativeServices(namespace)),
    call(`list pods (labelSelector ${SERVICE_LABEL})`, namespace, () => apis.listPods(namespace, SERVICE_LABEL)),
  ]);
  const podsOf = new Map<string, Pod[]>();
  for (const p of pods.items ?? []) {
    const service = p.metadata?.labels?.[SERVICE_LABEL];
    if (service) podsOf.set(service, [...(podsOf.get(service) ?? []), p]);
  }
  return hippoServices(services.items ?? [])
    .map((s): WorkerStatus => {
      const service = s.metadata!.name!;
      const app = appContainers(s);
      const own = podsOf.get(service) ?? [];
      const statuses = own.flatMap((p) => p.status?.containerStatuses ?? []).filter((c) => app.has(c.name));
      return {
        service,
        ...parseService(service),
        ready: own.filter(isReady).length,
        busy: 0,
        restarts: statuses.reduce((n, c) => n + (c.restartCount ?? 0), 0),
        oomKills: statuses.filter((c) => c.lastState?.terminated?.reason === 'OOMKilled' || c.state?.terminated?.reason === 'OOMKilled').length,
      };
    })
    .sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : 0));
}
