/** @jsxImportSource hono/jsx */
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { csrf } from 'hono/csrf';
import { html } from 'hono/html';
import { secureHeaders } from 'hono/secure-headers';
import type { HtmlEscapedString } from 'hono/utils/html';
import { runRequestSchema, zodToValidation, type RunRequest, type WorkerStatus } from '../../../eventing/catalog.ts';
import { HippoError, ValidationError } from '../../../shared/errors.ts';
import { limitBody, refuseWith } from '../../../shared/http.ts';
import type { ObjectStore } from '../../../shared/object-store.ts';
import { dashboardAuth, localPath, withoutToken } from './auth.ts';
import { dashboardCss, liveJs } from './assets.ts';
import { MessagePage, NewRunPage, RunPage, RunsPage, SignInPage, type NewRunForm, type ViewContext } from './views.tsx';
import type { Ledger } from '../../../orchestration/index.ts';
import { pipelines } from '../../../orchestration/index.ts';
import { resultResponse, type ResultFormat } from '../results.ts';
import { RUN_STATUSES, type Run, type RunStatus } from '../../../orchestration/index.ts';

export interface DashboardDeps {
  ledger: Ledger;
  store: ObjectStore;
  /** Submits a run as `POST /runs` does (the same coordinator, the same counter). */
  submit: (req: RunRequest) => Promise<{ run: Run; created: boolean }>;
  workers?: () => Promise<WorkerStatus[]>;
  /** HIPPO_TOKEN: when set, every page needs it (auth.ts). */
  token?: string;
  tiers?: readonly number[];
  tempRoot?: string;
  now?: () => Date;
  /** HIPPO_MAX_BODY_BYTES: a form post over it is refused (413). */
  maxBodyBytes?: number;
}

export const dashboardDefaults = {
  /** The runs list shows this many, newest first (sorted over every run; Ledger.list re-reads only changed ones). */
  limit: 100,
  /** Live pages fetch themselves again this often. */
  pollMs: 2000,
};

/** The pages' headers (Hono's secureHeaders): scripts only from this origin (live.js); style attributes place the timeline's bars. */
const pageHeaders = secureHeaders({
  contentSecurityPolicy: {
    defaultSrc: ["'none'"], scriptSrc: ["'self'"], styleSrc: ["'self'", "'unsafe-inline'"], connectSrc: ["'self'"], imgSrc: ["'self'"],
    formAction: ["'self'"], frameAncestors: ["'none'"], baseUri: ["'none'"],
  },
  xFrameOptions: 'DENY',
  // HTTPS is the cluster ingress's business: HSTS from here would bind every host of its domain.
  strictTransportSecurity: false,
});

/** The host the browser addressed: behind a TLS proxy the request here is http while the page was https, so hosts are compared, not origins. */
const requestHost = (c: Context) => c.req.header('x-forwarded-host') ?? c.req.header('host') ?? new URL(c.req.url).host;

/** Hono's csrf: Sec-Fetch-Site `same-origin`, or from a browser that sends none, an Origin of this host. */
const sameSite = refuseWith(
  csrf({ origin: (origin, c) => c.req.header('sec-fetch-site') === undefined && URL.canParse(origin) && new URL(origin).host === requestHost(c) }),
  (c) => new HippoError(`a dashboard form posted from another site (${c.req.header('origin') ?? c.req.header('sec-fetch-site')}) is refused`, { code: 'cross_site', status: 403 }),
);

/**
 * The forms post only from the dashboard's own pages: another site's form (CSRF) is refused.
 * Browsers mark every POST with Sec-Fetch-Site or (older ones) Origin; a client without either
 * (curl) is no browser and passes.
 */
const sameSiteForms: MiddlewareHandler = (c, next) =>
  c.req.header('sec-fetch-site') === undefined && c.req.header('origin') === undefined ? next() : sameSite(c, next);

/**
 * A dashboard for browsers on the `runs` function (server-rendered Hono JSX; a page works
 * without JavaScript, /ui/assets/live.js keeps it current):
 *
 * - `GET /` with `Accept: text/html` — the runs list (`?status=`) and the workers panel;
 *   any other `GET /` gets a small JSON index. `POST /` (CloudEvents) is not touched.
 * - `GET /ui/runs/:id` — a run: its steps as a timeline, each attempt's tier, status, error and
 *   time, the planner's estimate, result downloads (`/ui/runs/:id/result?format=`), standing links.
 * - `GET /ui/new`, `POST /ui/runs` — submit a run from a form.
 * - `POST /ui/login`, `POST /ui/logout` — the session cookie when HIPPO_TOKEN is set.
 *
 * @example
 * const dashboard = createDashboard({ ledger, store, submit: (req) => coordinator.submit(req), token: 's3cret' });
 * app.route('/', dashboard); // beside POST / (CloudEvents): the composing app's onError answers its errors
 */
export function createDashboard(deps: DashboardDeps, options: Partial<typeof dashboardDefaults> = {}): Hono {
  const { limit, pollMs } = { ...dashboardDefaults, ...options };
  const auth = dashboardAuth(deps.token);
  const view = (): ViewContext => ({ now: deps.now?.() ?? new Date(), tiers: deps.tiers, signedIn: auth.enabled, pollMs });
  const dashboard = new Hono();

  const page = (c: Context, body: HtmlEscapedString | Promise<HtmlEscapedString>, status = 200) => {
    c.header('cache-control', 'no-store');
    return c.html(html`<!DOCTYPE html>${body}`, status as 200);
  };

  const signIn = (c: Context, reason: 'missing' | 'wrong') =>
    page(c, <SignInPage view={view()} next={withoutToken(c)} wrong={reason === 'wrong'} />, 401);
  const guard = auth.require(signIn);

  dashboard.use('/ui/*', pageHeaders);
  // The stylesheet and script hold nothing secret: the sign-in page needs the stylesheet.
  dashboard.get('/ui/assets/dashboard.css', (c) => c.body(dashboardCss, 200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'max-age=300' }));
  dashboard.get('/ui/assets/live.js', (c) => c.body(liveJs, 200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'max-age=300' }));

  dashboard.post('/ui/*', sameSiteForms);
  dashboard.use('/ui/runs', guard);
  dashboard.use('/ui/runs/*', guard);
  dashboard.use('/ui/new', guard);
  // After the guard: a post without the token is refused before its body is read.
  dashboard.post('/ui/*', limitBody(deps.maxBodyBytes));

  dashboard.post('/ui/login', async (c) => {
    const form = await c.req.parseBody();
    const next = localPath(typeof form.next === 'string' ? form.next : undefined);
    if (typeof form.token !== 'string' || !(await auth.signIn(c, form.token))) {
      return page(c, <SignInPage view={view()} next={next} wrong />, 401);
    }
    return c.redirect(next, 303);
  });
  dashboard.post('/ui/logout', (c) => {
    auth.signOut(c);
    return c.redirect('/', 303);
  });

  // Content negotiation: a browser gets the dashboard, anything else a small JSON index.
  const browsers: MiddlewareHandler = async (c, next) => {
    if ((c.req.header('accept') ?? '').includes('text/html')) return guard(c, next);
    return c.json({ service: 'runs', links: { runs: '/runs', workers: '/workers', dashboard: '/ (Accept: text/html)' } });
  };

  dashboard.get('/', pageHeaders, browsers, async (c) => {
    const status = c.req.query('status');
    if (status !== undefined && status !== '' && !RUN_STATUSES.includes(status as RunStatus)) {
      return page(c, <MessagePage view={view()} title="Unknown status" message={`status must be one of ${RUN_STATUSES.join(', ')}`} />, 400);
    }
    const filter = status ? (status as RunStatus) : undefined;
    const [all, workers] = await Promise.all([
      deps.ledger.list({ limit: Number.MAX_SAFE_INTEGER }),
      deps.workers
        ? deps.workers().catch((err: unknown) => ({ error: err instanceof Error ? err.message : String(err) }))
        : Promise.resolve([] as WorkerStatus[]),
    ]);
    const counts = Object.fromEntries(RUN_STATUSES.map((s) => [s, 0])) as Record<RunStatus, number>;
    for (const r of all) counts[r.status]++;
    const runs = (filter ? all.filter((r) => r.status === filter) : all).slice(0, limit);
    return page(c, <RunsPage view={view()} runs={runs} counts={counts} total={all.length} status={filter} limit={limit} workers={workers} />);
  });

  dashboard.get('/ui/runs/:id', async (c) => {
    const run = await deps.ledger.get(c.req.param('id'));
    if (!run) return page(c, <MessagePage view={view()} title="No such run" message={`There is no run ${c.req.param('id')}.`} />, 404);
    return page(c, <RunPage view={view()} run={run} />);
  });

  // The result for a browser: the same bytes as GET /runs/:id/result, behind the dashboard's session.
  dashboard.get('/ui/runs/:id/result', async (c) => {
    const run = await deps.ledger.get(c.req.param('id'));
    if (!run) return page(c, <MessagePage view={view()} title="No such run" message={`There is no run ${c.req.param('id')}.`} />, 404);
    const format = (c.req.query('format') ?? 'arrow') as ResultFormat;
    if (!['arrow', 'parquet', 'csv'].includes(format)) {
      return page(c, <MessagePage view={view()} title="Unknown format" message="format must be arrow, parquet or csv" />, 400);
    }
    if (run.status !== 'succeeded' || !run.result) {
      return page(c, <MessagePage view={view()} title="No result" message={`Run ${run.id} is ${run.status}: it has no result${run.error ? ` (${run.error.message})` : ''}.`} />, 409);
    }
    return resultResponse(deps.store, run, format, c.req.header('if-none-match'), deps.tempRoot);
  });

  const blankForm: NewRunForm = { pipeline: Object.keys(pipelines)[0] ?? '', params: '', asOf: '', id: '', watch: false };
  const pipelineList = Object.values(pipelines).map((p) => ({ name: p.name, describe: p.describe }));

  dashboard.get('/ui/new', (c) => page(c, <NewRunPage view={view()} pipelines={pipelineList} form={blankForm} />));

  dashboard.post('/ui/runs', async (c) => {
    const body = await c.req.parseBody();
    const field = (name: string) => (typeof body[name] === 'string' ? (body[name] as string) : '');
    const form: NewRunForm = { pipeline: field('pipeline'), params: field('params'), asOf: field('asOf').trim(), id: field('id').trim(), watch: field('watch') === 'true' };
    try {
      let params: unknown = {};
      if (form.params.trim()) {
        try {
          params = JSON.parse(form.params);
        } catch (err) {
          throw new ValidationError(`params must be a JSON object: ${(err as Error).message}`, [{ field: 'params', message: 'not JSON' }]);
        }
      }
      const parsed = runRequestSchema.safeParse({
        pipeline: form.pipeline, params,
        ...(form.asOf ? { asOf: form.asOf } : {}), ...(form.id ? { id: form.id } : {}), ...(form.watch ? { watch: true } : {}),
      });
      if (!parsed.success) throw zodToValidation(parsed.error, 'invalid run request');
      const { run } = await deps.submit(parsed.data);
      return c.redirect(`/ui/runs/${encodeURIComponent(run.id)}`, 303);
    } catch (err) {
      // A request the API would refuse (400, 409) is shown beside the form, which keeps what was typed.
      if (!(err instanceof HippoError) || err.status >= 500) throw err;
      return page(c, <NewRunPage view={view()} pipelines={pipelineList} form={form} error={{ message: err.message, details: err.problems }} />, err.status);
    }
  });

  return dashboard;
}
