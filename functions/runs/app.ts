import type { Hono } from 'hono';
import type { MiddlewareHandler } from 'hono';
import { Registry, Counter } from 'prom-client';
import {
  EventTypes,
  parseData,
  runRequestSchema,
  stepCompletedSchema,
  stepFailedSchema,
  datasetChangedSchema,
  zodToValidation,
  type WorkerStatus,
} from '../../eventing/catalog.ts';
import type { Emit } from '../../eventing/bus.ts';
import { carriesEvent, readEvent } from '../../shared/cloudevents.ts';
import { ConflictError, NotFoundError, UnauthorizedError, ValidationError } from '../../shared/errors.ts';
import { functionApp, sameSecret } from '../../shared/http.ts';
import type { Logger } from '../../shared/log.ts';
import type { ObjectStore } from '../../shared/object-store.ts';
import { mountDashboard } from './dashboard.tsx';
import { resultResponse, type ResultFormat } from './results.ts';
import { createRunDomain, RUN_STATUSES, type Coordinator, type Run, type RunStatus, type StandingRuns } from '../../orchestration/index.ts';

export interface RunsDeps {
  store: ObjectStore;
  emit: Emit;
  stepTimeoutSeconds: number;
  stepTimeouts?: Readonly<Record<string, number>>;
  /** Memory per tier, bytes (HIPPO_TIERS): the planner's first-tier estimate uses it. */
  tiers?: readonly number[];
  /** Standing runs wait this long after a data change for more before re-running (HIPPO_WATCH_DEBOUNCE_SECONDS). */
  watchDebounceSeconds?: number;
  token?: string;
  log?: Logger;
  /** Where result conversions (`?format=csv`) work. */
  tempRoot?: string;
  /** Worker status from the runner (locally) or the cluster. */
  workers?: () => Promise<WorkerStatus[]>;
  now?: () => Date;
}


/**
 * The `runs` function: the HTTP API of DESIGN §9 and the coordinator behind it. CloudEvents
 * arrive at `POST /` (from clients, and from the broker's triggers); JSON at `/runs`.
 */
export function createApp(deps: RunsDeps): Hono {
  return createRuns(deps).app;
}

/** The app and the coordinator behind it. */
export function createRuns(deps: RunsDeps): { app: Hono; coordinator: Coordinator; standing: StandingRuns } {
  const { app, log } = functionApp('runs', deps.log);
  const { ledger, coordinator, standing, debounceMs } = createRunDomain({ ...deps, log });
  const registry = new Registry();
  const submitted = new Counter({ name: 'hippo_runs_submitted_total', help: 'Runs accepted', registers: [registry] });
  const received = new Counter({ name: 'hippo_events_received_total', help: 'CloudEvents received', labelNames: ['type'], registers: [registry] });


  if (deps.token) {
    const expected = `Bearer ${deps.token}`;
    const auth: MiddlewareHandler = async (c, next) => {
      if (!sameSecret(c.req.header('authorization') ?? '', expected)) throw new UnauthorizedError();
      await next();
    };
    app.use('/runs', auth);
    app.use('/runs/*', auth);
  }

  const view = (run: Run) => ({
    ...run,
    links: { self: `/runs/${run.id}`, result: `/runs/${run.id}/result` },
  });

  app.post('/runs', async (c) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      throw new ValidationError('request body must be JSON: {"pipeline": …, "params": {…}}', [{ field: 'body', message: 'not JSON' }]);
    }
    const parsed = runRequestSchema.safeParse(body);
    if (!parsed.success) throw zodToValidation(parsed.error, 'invalid run request');
    const { run, created } = await coordinator.submit(parsed.data);
    if (!created) return c.json(view(run), 200); // the same id again: the existing run (DESIGN §9)
    submitted.inc();
    return c.json({ id: run.id, status: run.status, links: view(run).links, ...(run.error ? { error: run.error } : {}) }, 202);
  });

  app.get('/runs', async (c) => {
    const status = c.req.query('status');
    if (status && !RUN_STATUSES.includes(status as RunStatus)) {
      throw new ValidationError(`status must be one of ${RUN_STATUSES.join(', ')}`, [{ field: 'status', value: status, message: 'unknown status' }]);
    }
    const limit = Number(c.req.query('limit') ?? 100);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      throw new ValidationError('limit must be an integer from 1 to 1000', [{ field: 'limit', value: c.req.query('limit'), message: 'out of range' }]);
    }
    const runs = await ledger.list({ status: status as RunStatus | undefined, limit });
    return c.json({ runs: runs.map(view) });
  });

  app.get('/runs/:id', async (c) => {
    const run = view(await ledger.mustGet(c.req.param('id')));
    // Where the store can sign URLs (S3), a succeeded run also offers its Arrow result
    // straight from the store: large downloads skip this function.
    const download = run.status === 'succeeded' && run.result ? await deps.store.presign?.(run.result.key) : undefined;
    return c.json(download ? { ...run, links: { ...run.links, download } } : run);
  });

  app.delete('/runs/:id', async (c) => c.json(view(await coordinator.cancel(c.req.param('id')))));

  // A standing run stops following data changes (earlier and later runs of its chain stay).
  app.delete('/runs/:id/watch', async (c) => {
    await ledger.mustGet(c.req.param('id'));
    return c.json(view(await standing.unwatch(c.req.param('id'))));
  });

  app.get('/runs/:id/result', async (c) => {
    const run = await ledger.mustGet(c.req.param('id'));
    if (run.status !== 'succeeded' || !run.result) {
      throw new ConflictError(`run ${run.id} is ${run.status}${run.error ? ` (${run.error.message})` : ''}: no result yet`, 'not_ready');
    }
    const format = (c.req.query('format') ?? 'arrow') as ResultFormat;
    if (!['arrow', 'parquet', 'csv'].includes(format)) {
      throw new ValidationError('format must be arrow, parquet or csv', [{ field: 'format', value: format, message: 'unknown format' }]);
    }
    return resultResponse(deps.store, run, format, c.req.header('if-none-match'), deps.tempRoot);
  });

  app.post('/', async (c) => {
    if (!carriesEvent(c.req.raw.headers)) {
      throw new ValidationError('POST / takes a CloudEvent (binary ce-* headers or application/cloudevents+json); use POST /runs for JSON', [], { code: 'invalid_event' });
    }
    const event = await readEvent(c.req.raw);
    received.inc({ type: event.type });
    switch (event.type) {
      case EventTypes.runRequested: {
        // A run requested without an id takes the event's id: a redelivered event starts no second run.
        const req = parseData(event, runRequestSchema, 400);
        const { run, created } = await coordinator.submit({ ...req, id: req.id ?? event.id });
        if (!created) return c.json(view(run), 200);
        submitted.inc();
        return c.json({ id: run.id, status: run.status, links: view(run).links }, 202);
      }
      case EventTypes.stepCompleted:
        await coordinator.onStepCompleted(parseData(event, stepCompletedSchema));
        return c.body(null, 202);
      case EventTypes.stepFailed:
        await coordinator.onStepFailed(parseData(event, stepFailedSchema));
        return c.body(null, 202);
      case EventTypes.datasetChanged: {
        // Standing runs that read the dataset are due for a re-run after the debounce; the
        // timer here starts it promptly, the watchdog's tick if this instance is gone by then.
        if (await standing.onDatasetChanged(parseData(event, datasetChangedSchema))) {
          setTimeout(() => void standing.rerunDue().catch((err) => log.warn('standing re-run failed', { err })), debounceMs + 100).unref();
        }
        return c.body(null, 202);
      }
      default:
        throw new ValidationError(`runs does not handle ${event.type}`, [], { status: 422, code: 'wrong_event' });
    }
  });

  app.get('/workers', async (c) => c.json({ workers: deps.workers ? await deps.workers() : [] }));

  // GET / for browsers and /ui/*; POST / above stays the CloudEvents endpoint.
  mountDashboard(app, {
    ledger, store: deps.store, workers: deps.workers, token: deps.token, tiers: deps.tiers, tempRoot: deps.tempRoot, now: deps.now,
    submit: async (req) => {
      const submission = await coordinator.submit(req);
      if (submission.created) submitted.inc();
      return submission;
    },
  });

  app.get('/metrics', async (c) => c.text(await registry.metrics(), 200, { 'content-type': registry.contentType }));

  app.notFound((c) => c.json(new NotFoundError(`no route ${c.req.method} ${c.req.path}`).toBody(), 404));
  return { app, coordinator, standing };
}
