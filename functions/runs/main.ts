import { loadConfig } from '../../shared/config.ts';
import { createLogger } from '../../shared/log.ts';
import { openStore } from '../../shared/store.ts';
import { ConfigError } from '../../shared/errors.ts';
import { httpEmit } from '../../eventing/http-emit.ts';
import { serveFunction } from '../serve.ts';
import type { WorkerStatus } from '../../eventing/catalog.ts';
import { createRuns } from './app.ts';

const config = loadConfig();
const log = createLogger({ fn: 'runs' }, { level: config.HIPPO_LOG_LEVEL });
if (!config.K_SINK) throw new ConfigError('K_SINK is required: the broker URL runs sends step.requested to');
const { app } = createRuns({
  store: openStore(config),
  emit: httpEmit(config.K_SINK),
  stepTimeoutSeconds: config.HIPPO_STEP_TIMEOUT,
  stepTimeouts: config.HIPPO_STEP_TIMEOUTS,
  tiers: config.HIPPO_TIERS,
  watchDebounceSeconds: config.HIPPO_WATCH_DEBOUNCE_SECONDS,
  partitionSize: { rows: config.HIPPO_PARTITION_ROWS, bytes: config.HIPPO_PARTITION_BYTES },
  token: config.HIPPO_TOKEN,
  maxBodyBytes: config.HIPPO_MAX_BODY_BYTES,
  log,
  workers: config.HIPPO_WORKERS_URL ? workersFrom(config.HIPPO_WORKERS_URL) : undefined,
});
serveFunction(app, { port: config.PORT, host: config.HIPPO_HOST, name: 'runs', log });

/** `runs` shows the workers it is told about: the local runner's, or the watchdog's view of the cluster. */
function workersFrom(url: string): () => Promise<WorkerStatus[]> {
  return async () => ((await (await fetch(url)).json()) as { workers: WorkerStatus[] }).workers;
}
