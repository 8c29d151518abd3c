import { loadConfig } from '../../shared/config.ts';
import { createLogger } from '../../shared/log.ts';
import { openStore } from '../../shared/store.ts';
import { ConfigError } from '../../shared/errors.ts';
import { httpEmit } from '../../eventing/ingress.ts';
import { serveFunction } from '../serve.ts';
import type { WorkerStatus } from '../../eventing/catalog.ts';
import { createRuns } from './app.ts';

const config = loadConfig();
const log = createLogger({ fn: 'runs' }, { level: config.HIPPO_LOG_LEVEL });
if (!config.K_SINK) throw new ConfigError('K_SINK is required: the broker URL runs sends step.requested to');
const { app, coordinator } = createRuns({
  store: openStore(config),
  emit: httpEmit(config.K_SINK),
  stepTimeoutSeconds: config.HIPPO_STEP_TIMEOUT,
  token: config.HIPPO_TOKEN,
  log,
  workers: config.HIPPO_WORKERS_URL ? workersFrom(config.HIPPO_WORKERS_URL) : undefined,
});
serveFunction(app, { port: config.PORT, name: 'runs', log });

// The deadline sweep: at start-up (runs left behind by a restart) and then periodically.
// Stand-in for the watchdog function of DESIGN §10 until it exists.
const sweep = () =>
  coordinator.sweep().then(
    (r) => (r.redispatched || r.failed) && log.warn('deadline sweep', r),
    (err) => log.error('deadline sweep failed', { err }),
  );
void sweep();
setInterval(sweep, Math.min(60, config.HIPPO_STEP_TIMEOUT / 2) * 1000).unref();

/** Locally the runner knows the workers; `runs` asks it. (In a cluster: the Kubernetes API.) */
function workersFrom(url: string): () => Promise<WorkerStatus[]> {
  return async () => ((await (await fetch(url)).json()) as { workers: WorkerStatus[] }).workers;
}
