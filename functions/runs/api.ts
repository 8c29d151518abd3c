import { Hono } from 'hono';
import { bearerAuth } from 'hono/bearer-auth';
import { runRequestSchema, zodToValidation, type RunRequest } from '../../eventing/catalog.ts';
import { ConflictError, UnauthorizedError, ValidationError } from '../../shared/errors.ts';
import { limitBody, refuseWith } from '../../shared/http.ts';
import type { ObjectStore } from '../../shared/object-store.ts';
import { resultResponse, type ResultFormat } from './results.ts';
import { RUN_STATUSES, type Coordinator, type Ledger, type Run, type RunStatus, type StandingRuns } from '../../orchestration/index.ts';

export interface RunsApiDeps {
  ledger: Ledger;
  /** Submits a run and counts it (the same as `POST /` and the dashboard's form). */
  submit: (req: RunRequest) => Promise<{ run: Run; created: boolean }>;
  coordinator: Pick<Coordinator, 'cancel'>;
  standing: Pick<StandingRuns, 'unwatch'>;
  store: ObjectStore;
  /** HIPPO_TOKEN: when set, every route needs `Authorization: Bearer <token>`. */
  token?: string;
  /** Where result conversions (`?format=csv`) work. */
  tempRoot?: string;
  /** HIPPO_MAX_BODY_BYTES: a larger `POST /runs` body is refused (413). */
  maxBodyBytes?: number;
}

/** A run as the API shows it: the record and where it and its result are. */
export const runView = (run: Run) => ({
  ...run,
  links: { self: `/runs/${run.id}`, result: `/runs/${run.id}/result` },
});

/** The answer to a submit: `202` with the new run's id and links, `200` with the existing run for the same id again (DESIGN §9). */
export function submitted({ run, created }: { run: Run; created: boolean }) {
  if (!created) return { body: runView(run), status: 200 as const };
  return { body: { id: run.id, status: run.status, links: runView(run).links, ...(run.reusedFrom ? { reusedFrom: run.reusedFrom } : {}), ...(run.error ? { error: run.error } : {}) }, status: 202 as const };
}

/**
 * The JSON API of DESIGN §9, mounted at `/runs`: submit, list, get, cancel, stop watching,
 * the result. Errors are thrown as HippoErrors; the composing app's onError answers them.
 *
 * @example
 * app.route('/runs', createRunsApi({ ledger, submit, coordinator, standing, store, token: 's3cret' }));
 */
export function createRunsApi(deps: RunsApiDeps): Hono {
  const api = new Hono();

  if (deps.token) {
    // Any refusal (no header, not a bearer token, the wrong one) is the same 401.
    api.use(refuseWith(bearerAuth({ token: deps.token }), () => new UnauthorizedError()));
  }

  api.post('/', limitBody(deps.maxBodyBytes), async (c) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      throw new ValidationError('request body must be JSON: {"pipeline": …, "params": {…}}', [{ field: 'body', message: 'not JSON' }]);
    }
    const parsed = runRequestSchema.safeParse(body);
    if (!parsed.success) throw zodToValidation(parsed.error, 'invalid run request');
    const { body: answer, status } = submitted(await deps.submit(parsed.data));
    return c.json(answer, status);
  });

  api.get('/', async (c) => {
    const status = c.req.query('status');
    if (status && !RUN_STATUSES.includes(status as RunStatus)) {
      throw new ValidationError(`status must be one of ${RUN_STATUSES.join(', ')}`, [{ field: 'status', value: status, message: 'unknown status' }]);
    }
    const limit = Number(c.req.query('limit') ?? 100);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      throw new ValidationError('limit must be an integer from 1 to 1000', [{ field: 'limit', value: c.req.query('limit'), message: 'out of range' }]);
    }
    const runs = await deps.ledger.list({ status: status as RunStatus | undefined, limit });
    return c.json({ runs: runs.map(runView) });
  });

  api.get('/:id', async (c) => {
    const run = runView(await deps.ledger.mustGet(c.req.param('id')));
    // Where the store can sign URLs (S3), a succeeded run also offers its Arrow result
    // straight from the store: large downloads skip this function.
    const download = run.status === 'succeeded' && run.result ? await deps.store.presign?.(run.result.key) : undefined;
    return c.json(download ? { ...run, links: { ...run.links, download } } : run);
  });

  api.delete('/:id', async (c) => c.json(runView(await deps.coordinator.cancel(c.req.param('id')))));

  // A standing run stops following data changes (earlier and later runs of its chain stay).
  api.delete('/:id/watch', async (c) => {
    await deps.ledger.mustGet(c.req.param('id'));
    return c.json(runView(await deps.standing.unwatch(c.req.param('id'))));
  });

  api.get('/:id/result', async (c) => {
    const run = await deps.ledger.mustGet(c.req.param('id'));
    if (run.status !== 'succeeded' || !run.result) {
      throw new ConflictError(`run ${run.id} is ${run.status}${run.error ? ` (${run.error.message})` : ''}: no result yet`, 'not_ready');
    }
    const format = (c.req.query('format') ?? 'arrow') as ResultFormat;
    if (!['arrow', 'parquet', 'csv'].includes(format)) {
      throw new ValidationError('format must be arrow, parquet or csv', [{ field: 'format', value: format, message: 'unknown format' }]);
    }
    return resultResponse(deps.store, run, format, c.req.header('if-none-match'), deps.tempRoot);
  });

  return api;
}
