import { loadConfig } from '../../shared/config.ts';
import { createLogger } from '../../shared/log.ts';
import { openStore } from '../../shared/store.ts';
import { ConfigError } from '../../shared/errors.ts';
import type { WorkerStatus } from '../../eventing/catalog.ts';
import { httpEmit } from '../../eventing/http-emit.ts';
import { serveFunction } from '../serve.ts';
import { createApp } from './app.ts';
import { clusterWorkers, kubernetesApis } from './kubernetes.ts';

const config = loadConfig();
const log = createLogger({ fn: 'watchdog' }, { level: config.HIPPO_LOG_LEVEL });
if (!config.K_SINK) throw new ConfigError('K_SINK is required: the broker URL the watchdog sends re-dispatches and worker status to');

serveFunction(
  createApp({
    store: openStore(config),
    emit: httpEmit(config.K_SINK),
    stepTimeoutSeconds: config.HIPPO_STEP_TIMEOUT,
    stepTimeouts: config.HIPPO_STEP_TIMEOUTS,
    tiers: config.HIPPO_TIERS,
    watchDebounceSeconds: config.HIPPO_WATCH_DEBOUNCE_SECONDS,
    partitionSize: { rows: config.HIPPO_PARTITION_ROWS, bytes: config.HIPPO_PARTITION_BYTES },
    workers: workersSource(),
    log,
  }),
  { port: config.PORT, host: config.HIPPO_HOST, name: 'watchdog', log },
);

/** Locally the runner knows its processes (HIPPO_WORKERS_URL); in a cluster, the Kubernetes API does. */
function workersSource(): (() => Promise<WorkerStatus[]>) | undefined {
  if (config.HIPPO_WORKERS_URL) {
    const url = config.HIPPO_WORKERS_URL;
    return async () => ((await (await fetch(url)).json()) as { workers: WorkerStatus[] }).workers;
  }
  if (process.env.KUBERNETES_SERVICE_HOST) {
    // In a pod: the service account's token and namespace. The client (~300 ms of modules)
    // loads on the first tick, after the watchdog is ready; a failed load is retried next tick.
    let apis: ReturnType<typeof kubernetesApis> | undefined;
    return async () => {
      apis ??= kubernetesApis().catch((err: unknown) => {
        apis = undefined;
        throw err;
      });
      const k8s = await apis;
      return clusterWorkers(k8s, k8s.namespace);
    };
  }
  return undefined;
}
