import type { Hono } from 'hono';
import { EventTypes, makeEvent, type WorkerStatus, type WorkersStatus } from '../../eventing/catalog.ts';
import { readEvent } from '../../shared/cloudevents.ts';
import { functionApp } from '../../shared/http.ts';
import { createRunDomain, type RunDomainOptions } from '../../orchestration/index.ts';

/**
 * The run domain's options — `emit` is where re-dispatched `step.requested`, `run.failed` and
 * `workers.status` go (the broker); a standing run's re-run is planned like any submit — and
 * the watchdog's own.
 */
export interface WatchdogDeps extends RunDomainOptions {
  /** How many times a step may miss its deadline before its run fails with `timeout`. */
  maxTimeouts?: number;
  /** The workers: the local runner's view, or the Kubernetes API's in a cluster. */
  workers?: () => Promise<WorkerStatus[]>;
}

const SOURCE = '/hippo/watchdog';

/**
 * `watchdog` (DESIGN §10): woken by a tick — a PingSource every minute in a cluster, a timer
 * under the local runner — it sweeps the ledger for steps past their deadline (re-dispatch,
 * a bounded number of times, then fail the run with `timeout`), dispatches runs left queued,
 * starts the re-runs of standing runs that are due, and reports the workers as
 * `dev.hippo.workers.status`.
 *
 * The sweep is a ledger transition like any other, so it is the run domain's own code
 * (orchestration/: one implementation of "what a run may do next"), run here against the same
 * ledger. Two ticks at once are harmless: every change is a compare-and-swap.
 */
export function createApp(deps: WatchdogDeps): Hono {
  const { app, log } = functionApp('watchdog', deps.log);
  const { coordinator, standing } = createRunDomain({ ...deps, log });
  const now = deps.now ?? (() => new Date());

  const workers = async (): Promise<WorkersStatus> => ({ at: now().toISOString(), workers: deps.workers ? await deps.workers() : [] });

  app.post('/', async (c) => {
    const tick = await readEvent(c.req.raw);
    const swept = await coordinator.sweep(deps.maxTimeouts);
    if (swept.redispatched || swept.failed) log.warn('deadline sweep', { tick: tick.id, ...swept });
    // Standing runs whose re-run is due (and any the runs function started but did not finish).
    const reruns = await standing.rerunDue();
    // Worker status is a report, not a duty: a cluster API that does not answer must not stop the sweep.
    let status: WorkersStatus | undefined;
    try {
      status = await workers();
      await deps.emit(makeEvent(EventTypes.workersStatus, SOURCE, status));
    } catch (err) {
      log.warn('could not report workers', { err });
    }
    return c.json({ swept, reruns, workers: status?.workers.length });
  });

  app.get('/workers', async (c) => c.json(await workers()));
  return app;
}
