import type { Hono } from 'hono';
import { Registry, Counter } from 'prom-client';
import type { RunRequest, WorkerStatus } from '../../eventing/catalog.ts';
import { NotFoundError } from '../../shared/errors.ts';
import { functionApp } from '../../shared/http.ts';
import { createRunsApi } from './api.ts';
import { createDashboard } from './dashboard/app.tsx';
import { createRunEvents } from './events.ts';
import { createRunDomain, type Coordinator, type RunDomainOptions, type StandingRuns } from '../../orchestration/index.ts';

/** The run domain's options (store, emit, deadlines, tiers, clock, …) and the API's own. */
export interface RunsDeps extends RunDomainOptions {
  token?: string;
  /** The largest request body read (HIPPO_MAX_BODY_BYTES, default 1 MiB); over it: 413. */
  maxBodyBytes?: number;
  /** Worker status from the runner (locally) or the cluster. */
  workers?: () => Promise<WorkerStatus[]>;
}


/**
 * The `runs` function: the HTTP API of DESIGN §9 and the coordinator behind it. CloudEvents
 * arrive at `POST /` (from clients, and from the broker's triggers); JSON at `/runs`.
 */
export function createApp(deps: RunsDeps): Hono {
  return createRuns(deps).app;
}

/**
 * The app and the coordinator behind it: the JSON API (api.ts) at `/runs`, the CloudEvents
 * endpoint (events.ts) and the dashboard (dashboard/) at `/`, composed on one run domain, with
 * the health, worker and metrics endpoints and the one error handler of every function.
 */
export function createRuns(deps: RunsDeps): { app: Hono; coordinator: Coordinator; standing: StandingRuns } {
  const { app, log } = functionApp('runs', deps.log);
  const { ledger, coordinator, standing, debounceMs } = createRunDomain({ ...deps, log });
  const registry = new Registry();
  const submitted = new Counter({ name: 'hippo_runs_submitted_total', help: 'Runs accepted', registers: [registry] });
  const received = new Counter({ name: 'hippo_events_received_total', help: 'CloudEvents received', labelNames: ['type'], registers: [registry] });
  const computation = new Counter({
    name: 'hippo_runs_computation_total',
    help: 'Runs accepted, by whether they computed, reused a finished result, or joined (coalesced with) a running computation',
    labelNames: ['computation'],
    registers: [registry],
  });
  // Every way in (POST /runs, a run.requested event, the dashboard's form) counts a new run once.
  const submit = async (req: RunRequest) => {
    const submission = await coordinator.submit(req);
    if (submission.created) {
      submitted.inc();
      const { run } = submission;
      computation.inc({ computation: run.coalesced ? 'coalesced' : run.reusedFrom ? 'reused' : 'computed' });
    }
    return submission;
  };
  const { store, token, tempRoot, maxBodyBytes } = deps;

  app.route('/runs', createRunsApi({ ledger, submit, coordinator, standing, store, token, tempRoot, maxBodyBytes }));
  app.route('/', createRunEvents({ submit, coordinator, standing, debounceMs, log, maxBodyBytes, received: (type) => received.inc({ type }) }));
  app.get('/workers', async (c) => c.json({ workers: deps.workers ? await deps.workers() : [] }));
  // GET / for browsers and /ui/*; POST / above stays the CloudEvents endpoint.
  app.route('/', createDashboard({ ledger, store, submit, workers: deps.workers, token, tiers: deps.tiers, tempRoot, now: deps.now, maxBodyBytes }));
  app.get('/metrics', async (c) => c.text(await registry.metrics(), 200, { 'content-type': registry.contentType }));

  app.notFound((c) => c.json(new NotFoundError(`no route ${c.req.method} ${c.req.path}`).toBody(), 404));
  return { app, coordinator, standing };
}
