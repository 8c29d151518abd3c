import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Hono } from 'hono';
import { binaryMessage } from '../../../shared/cloudevents.ts';
import { FileStore } from '../../../shared/file-store.ts';
import { functionApp } from '../../../shared/http.ts';
import { EventTypes, makeEvent, type WorkerStatus } from '../../../eventing/catalog.ts';
import { createApp } from '../app.ts';
import { createDashboard } from './app.tsx';
import { formatBytes, formatDuration } from './views.tsx';
import { Ledger } from '../../../orchestration/index.ts';
import type { Run, StepState } from '../../../orchestration/index.ts';

interface Ctx {
  dir: string;
  store: FileStore;
  ledger: Ledger;
  app: Hono;
  workers: WorkerStatus[];
}
/**
 * The dashboard's pages through `app.request` (in-memory deps, no browser): content
 * negotiation at `/`, what the list and a run's page show, escaping, HIPPO_TOKEN and the
 * session cookie, the submit form. local/dashboard.test.ts drives the same pages in Chromium.
 */
const test = suite<Ctx>('runs dashboard (app.request)');

const NOW = new Date('2026-03-01T12:00:00Z');
const TOKEN = 'dashboard-test-token';
const HTML = { accept: 'text/html,application/xhtml+xml' };

test.before.each(async (ctx) => {
  ctx.dir = await mkdtemp(join(tmpdir(), 'hippo-dashboard-'));
  ctx.store = new FileStore(ctx.dir);
  ctx.ledger = new Ledger(ctx.store);
  ctx.workers = [{ service: 'pit-join-t1', fn: 'pit-join', tier: 1, ready: 2, busy: 1, restarts: 3, oomKills: 1 }];
  ctx.app = createApp({ store: ctx.store, emit: async () => {}, stepTimeoutSeconds: 60, tiers: [512 << 20, 2 * 2 ** 30], now: () => NOW, workers: async () => ctx.workers });
});
test.after.each(async (ctx) => rm(ctx.dir, { recursive: true, force: true }));

const attempt = (n: number, tier: number, status: 'dispatched' | 'succeeded' | 'failed', from: string, to?: string, error?: { code: string; message: string }) =>
  ({ attempt: n, tier, status, dispatchedAt: from, ...(to ? { finishedAt: to } : {}), ...(error ? { error } : {}) });

function step(over: Partial<StepState> & Pick<StepState, 'step' | 'status'>): StepState {
  return { needs: [], inputRefs: {}, params: {}, output: 'work/x', attempt: 0, tier: 0, attempts: [], ...over };
}

/** A run as the coordinator records it: three steps, pit-join out of memory on t0, then t1. */
function run(id: string, over: Partial<Run> = {}): Run {
  return {
    id, pipeline: 'equity-panel', params: { start: '2015-01-02', end: '2015-06-30', fields: ['eps'] }, asOf: '2026-01-01T00:00:00.000Z',
    status: 'succeeded', createdAt: '2026-03-01T11:00:00.000Z', updatedAt: '2026-03-01T11:00:10.000Z',
    steps: {
      'delisting-adjust': step({
        step: 'delisting-adjust', status: 'succeeded', attempt: 1, tier: 0, finishedAt: '2026-03-01T11:00:02.000Z',
        estimate: { inputBytes: 3 << 20, tier: 0 }, metrics: { ms: 1500, peakRssBytes: 150 << 20, rowsIn: 900, rowsOut: 896 },
        attempts: [attempt(1, 0, 'succeeded', '2026-03-01T11:00:00.000Z', '2026-03-01T11:00:02.000Z')],
      }),
      'pit-join-fundamentals': step({
        step: 'pit-join', status: 'succeeded', needs: ['delisting-adjust'], attempt: 2, tier: 1, finishedAt: '2026-03-01T11:00:08.000Z',
        estimate: { inputBytes: 40 << 20, tier: 0 },
        attempts: [
          attempt(1, 0, 'failed', '2026-03-01T11:00:02.000Z', '2026-03-01T11:00:04.000Z', { code: 'out_of_memory', message: 'pit-join ran out of memory on t0' }),
          attempt(2, 1, 'succeeded', '2026-03-01T11:00:04.500Z', '2026-03-01T11:00:08.000Z'),
        ],
      }),
      export: step({
        step: 'export', status: 'succeeded', needs: ['pit-join-fundamentals'], attempt: 1, tier: 0, finishedAt: '2026-03-01T11:00:10.000Z',
        attempts: [attempt(1, 0, 'succeeded', '2026-03-01T11:00:08.000Z', '2026-03-01T11:00:10.000Z')],
      }),
    },
    result: { key: `results/${id}.arrow`, rows: 896, bytes: 27000, sha256: 'c0ffee'.padEnd(64, '0'), contentType: 'application/vnd.apache.arrow.stream' },
    ...over,
  };
}

const failed = (id: string, message: string): Run => ({
  ...run(id, { status: 'failed', createdAt: '2026-03-01T11:30:00.000Z', error: { code: 'invalid_input', message, step: 'delisting-adjust', stepId: 'delisting-adjust' } }),
  result: undefined,
});

const running = (id: string): Run => {
  const r = run(id, { status: 'running', createdAt: '2026-03-01T11:59:00.000Z', result: undefined });
  r.steps['pit-join-fundamentals'] = { ...r.steps['pit-join-fundamentals']!, status: 'dispatched', finishedAt: undefined,
    attempts: [r.steps['pit-join-fundamentals']!.attempts[0]!, attempt(2, 1, 'dispatched', '2026-03-01T11:59:30.000Z')] };
  r.steps.export = step({ step: 'export', status: 'pending', needs: ['pit-join-fundamentals'] });
  return r;
};

const page = async (app: Hono, path: string, headers: Record<string, string> = {}) => {
  const res = await app.request(path, { headers: { ...HTML, ...headers } });
  return { res, html: await res.text() };
};

/** The `data-…` attributes of each element that has `attr`, in document order. */
const dataOf = (html: string, attr: string) => [...html.matchAll(new RegExp(`${attr}="([^"]*)"`, 'g'))].map((m) => m[1]);

test('GET / negotiates: a browser gets the dashboard, anything else a JSON index; POST / is still the CloudEvents endpoint', async ({ app }) => {
  const json = await app.request('/');
  assert.is(json.status, 200);
  assert.equal(await json.json(), { service: 'runs', links: { runs: '/runs', workers: '/workers', dashboard: '/ (Accept: text/html)' } });

  const { res, html } = await page(app, '/');
  assert.is(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', 'text/html');
  assert.ok(html.startsWith('<!DOCTYPE html>'));
  assert.match(res.headers.get('content-security-policy') ?? '', "script-src 'self'");
  assert.match(html, 'No runs yet');

  const notAnEvent = await app.request('/', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  assert.is(notAnEvent.status, 400);
  assert.is(((await notAnEvent.json()) as { error: { code: string } }).error.code, 'invalid_event');
  const m = binaryMessage(makeEvent(EventTypes.runRequested, '/t', { pipeline: 'equity-panel', params: { start: '2015-01-02', end: '2015-01-30' }, id: 'from-event' }));
  const accepted = await app.request('/', { method: 'POST', headers: { ...m.headers, ...HTML }, body: m.body });
  assert.is(accepted.status, 202, 'a CloudEvent POST with Accept: text/html is still an event');
  assert.is(((await accepted.json()) as { id: string }).id, 'from-event');
});

test('the pages carry the security headers (Hono\'s secureHeaders); the JSON API does not', async ({ app, store }) => {
  const expected = {
    'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'cache-control': 'no-store',
  };
  const signInApp = createApp({ store, emit: async () => {}, stepTimeoutSeconds: 60, token: TOKEN });
  for (const [target, path] of [[app, '/'], [app, '/ui/new'], [app, '/ui/runs/nope'], [signInApp, '/']] as const) {
    const { res } = await page(target, path);
    for (const [name, value] of Object.entries(expected)) assert.is(res.headers.get(name), value, `${path} ${name}`);
    assert.is(res.headers.get('strict-transport-security'), null, 'HTTPS is the ingress\'s business');
  }
  const api = await app.request('/runs');
  assert.is(api.status, 200);
  assert.is(api.headers.get('content-security-policy'), null);
});

test('the runs list: status, pipeline, params, age, duration, what runs now, why a run failed; counts; filter', async ({ app, ledger }) => {
  await ledger.create(run('ok-1'));
  await ledger.create(failed('bad-1', 'dataset securities has no rows recorded by 2000-01-01'));
  await ledger.create(running('busy-1'));

  const { html } = await page(app, '/');
  assert.equal(dataOf(html, 'data-run'), ['busy-1', 'bad-1', 'ok-1'], 'newest first');
  assert.match(html, /<tr data-run="busy-1" data-status="running">.*pit-join-fundamentals \(t1, attempt 2\)/s);
  assert.match(html, /<tr data-run="bad-1" data-status="failed">.*delisting-adjust: dataset securities has no rows recorded by 2000-01-01 \(invalid_input\)/s);
  assert.match(html, /<tr data-run="ok-1" data-status="succeeded">.*2015-01-02 → 2015-06-30.*fields eps.*1 h 00 min ago.*10.0 s.*896 rows/s);
  assert.match(html, /data-filter="failed">failed <span class="muted">1<\/span>/);
  assert.match(html, /aria-current="page">all <span class="muted">3<\/span>/);

  const only = await page(app, '/?status=failed');
  assert.equal(dataOf(only.html, 'data-run'), ['bad-1']);
  assert.match(only.html, /aria-current="page" data-filter="failed"/);

  const bogus = await page(app, '/?status=bogus');
  assert.is(bogus.res.status, 400);
  assert.match(bogus.html, 'status must be one of queued, running, succeeded, failed, cancelled');
});

test('the list shows the newest `limit` runs and says how many there are', async ({ store, ledger }) => {
  const { app } = functionApp('runs');
  app.route('/', createDashboard({ ledger, store, submit: async () => { throw new Error('not here'); }, now: () => NOW }, { limit: 2 }));
  for (const [i, id] of ['a', 'b', 'c'].entries()) await ledger.create(run(id, { createdAt: `2026-03-01T11:0${i}:00.000Z` }));
  const { html } = await page(app, '/');
  assert.equal(dataOf(html, 'data-run'), ['c', 'b']);
  assert.match(html, 'Showing the 2 newest of 3 runs');
});

test('the workers panel: each service with its tier, ready, busy, restarts, OOM kills; a workers source that fails is shown, not fatal', async (ctx) => {
  const { html } = await page(ctx.app, '/');
  assert.match(html, /<tr data-service="pit-join-t1"><td class="mono" title="function pit-join">pit-join-t1<\/td><td class="nowrap">t1 · 2 GiB<\/td><td class="num">2<\/td><td class="num">1<\/td><td class="num">3<\/td><td class="num">1<\/td><\/tr>/);

  const { app } = functionApp('runs');
  app.route('/', createDashboard({ ledger: ctx.ledger, store: ctx.store, submit: async () => { throw new Error('not here'); }, workers: async () => { throw new Error('connect ECONNREFUSED 127.0.0.1:9'); } }));
  const broken = await page(app, '/');
  assert.is(broken.res.status, 200);
  assert.match(broken.html, 'Workers unavailable: <span class="reason">connect ECONNREFUSED 127.0.0.1:9</span>');
});

test('a run\'s page: steps in order, each attempt\'s tier, status, error and time, the estimate, a timeline, downloads, standing links', async ({ app, ledger }) => {
  await ledger.create(run('ok-1', { watch: false, previousRunId: 'ok-0', nextRunId: 'ok-2' }));
  const { res, html } = await page(app, '/ui/runs/ok-1');
  assert.is(res.status, 200);
  assert.equal(dataOf(html, 'data-step'), ['delisting-adjust', 'pit-join-fundamentals', 'export']);
  assert.equal(dataOf(html, 'data-attempt'), ['1', '1', '2', '1']);
  assert.equal(dataOf(html, 'data-tier'), ['0', '0', '1', '0']);
  assert.match(html, /<td><span class="mono">out_of_memory<\/span>: <span class="reason">pit-join ran out of memory on t0<\/span><\/td>/);
  assert.match(html, '40 MiB input → first tier t0 · 512 MiB');
  assert.match(html, '900 rows in → 896 rows out');
  assert.match(html, /t1 · 2 GiB · attempt 2<\/span><span class="muted">6.0 s<\/span>/);
  assert.is((html.match(/class="bar b-/g) ?? []).length, 4, 'a bar per attempt');
  assert.match(html, 'style="left: 20.00%; width: 20.00%"', 'the failed t0 attempt: from 2 s to 4 s of the run\'s 10 s');
  for (const format of ['arrow', 'parquet', 'csv']) assert.match(html, `href="/ui/runs/ok-1/result?format=${format}"`);
  assert.match(html, '<a href="/ui/runs/ok-0" class="mono" rel="prev">ok-0</a>');
  assert.match(html, '<a href="/ui/runs/ok-2" class="mono" rel="next">ok-2</a>');
  assert.match(html, 'data-poll="off"', 'a finished run is not fetched again');
  assert.not.match(html, 'http-equiv="refresh"');

  await ledger.create(running('busy-1'));
  const live = await page(app, '/ui/runs/busy-1');
  assert.match(live.html, 'data-poll="2000"');
  assert.match(live.html, '<noscript><meta http-equiv="refresh" content="5"/></noscript>', 'without JavaScript the page reloads itself');
  assert.match(live.html, '30.0 s so far', 'the dispatched attempt\'s time so far');

  const missing = await page(app, '/ui/runs/nope');
  assert.is(missing.res.status, 404);
  assert.match(missing.html, 'There is no run nope.');
  const noResult = await page(app, '/ui/runs/busy-1/result?format=csv');
  assert.is(noResult.res.status, 409);
  assert.match(noResult.html, 'Run busy-1 is running: it has no result.');
});

test('a fanned-out step is one row: k of P partitions done, the failed ones named with their reason, one timeline lane', async ({ app, ledger }) => {
  const part = (i: number, status: 'succeeded' | 'failed' | 'dispatched', error?: { code: string; message: string }) => [
    `pit-join-fundamentals-p${i}`,
    step({
      step: 'pit-join', status, partition: { index: i, count: 4 }, attempt: 1, tier: 0,
      ...(error ? { error } : {}),
      attempts: [attempt(1, 0, status, '2026-03-01T11:00:02.000Z', status === 'dispatched' ? undefined : '2026-03-01T11:00:04.000Z', error)],
    }),
  ] as const;
  const base = run('fan-1');
  await ledger.create({
    ...base, status: 'running', partitions: 4,
    steps: {
      'delisting-adjust': base.steps['delisting-adjust']!,
      ...Object.fromEntries([
        part(0, 'succeeded'), part(1, 'succeeded'), part(2, 'failed', { code: 'invalid_input', message: 'bad row in partition 2' }), part(3, 'dispatched'),
      ]),
      export: step({ step: 'export', status: 'pending' }),
    },
  });
  const { html } = await page(app, '/ui/runs/fan-1');
  assert.equal(dataOf(html, 'data-step'), ['delisting-adjust', 'pit-join-fundamentals', 'export']);
  assert.equal(dataOf(html, 'data-partitions'), ['4']);
  assert.match(html, '2 of 4 partitions done');
  assert.match(html, /<span class="mono">pit-join-fundamentals-p2<\/span>: <span class="reason">bad row in partition 2<\/span>/);
  assert.match(html, /<dt>running<\/dt><dd class="mono">pit-join-fundamentals-p3<\/dd>/);
  assert.match(html, 'pit-join-fundamentals ×4');
  assert.is((html.match(/class="bar b-/g) ?? []).length, 5, 'every partition\'s attempt on the timeline');
});

test('everything from the ledger is escaped', async ({ app, ledger }) => {
  const evil = '<img src=x onerror="alert(1)">';
  await ledger.create({ ...failed('evil-1', `bad file ${evil}`), params: { start: '2015-01-02', end: '2015-01-30', fields: ['</td><script>alert(2)</script>'] } });
  for (const path of ['/', '/ui/runs/evil-1']) {
    const { html } = await page(app, path);
    assert.not.match(html, '<img src=x', path);
    assert.not.match(html, '<script>alert', path);
    assert.match(html, 'bad file &lt;img src=x onerror=&quot;alert(1)&quot;&gt;', path);
  }
});

test('HIPPO_TOKEN: refused without it; ?token= sets an HttpOnly SameSite=Strict session cookie and leaves the address; bearer works; the cookie opens no JSON API', async ({ store }) => {
  const app = createApp({ store, emit: async () => {}, stepTimeoutSeconds: 60, token: TOKEN });
  await new Ledger(store).create(run('ok-1'));

  for (const path of ['/', '/ui/runs/ok-1', '/ui/runs/ok-1/result', '/ui/new']) {
    const { res, html } = await page(app, path);
    assert.is(res.status, 401, path);
    assert.not.match(html, 'data-run', `${path} shows no run`);
    assert.match(html, 'name="token"');
  }
  const refusedPost = await app.request('/ui/runs', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'pipeline=equity-panel' });
  assert.is(refusedPost.status, 401);

  const wrong = await page(app, '/ui/runs/ok-1?token=nope');
  assert.is(wrong.res.status, 401);
  assert.is(wrong.res.headers.get('set-cookie'), null);

  const signIn = await app.request(`/ui/runs/ok-1?x=1&token=${TOKEN}`, { headers: HTML });
  assert.is(signIn.status, 303);
  assert.is(signIn.headers.get('location'), '/ui/runs/ok-1?x=1', 'the token leaves the address');
  const setCookie = signIn.headers.get('set-cookie') ?? '';
  assert.match(setCookie, /^hippo_dashboard=[A-Za-z0-9_-]{43}; Max-Age=43200; Path=\/; HttpOnly; SameSite=Strict$/);
  assert.not.match(setCookie, TOKEN, 'the cookie is not the token');
  const cookie = setCookie.split(';')[0]!;

  const signedIn = await page(app, '/ui/runs/ok-1', { cookie });
  assert.is(signedIn.res.status, 200);
  assert.match(signedIn.html, 'Sign out');
  assert.not.match(signedIn.html, TOKEN, 'no link carries the token');
  assert.is((await page(app, '/', { authorization: `Bearer ${TOKEN}` })).res.status, 200);
  assert.is((await page(app, '/', { authorization: 'Bearer nope' })).res.status, 401);
  assert.is((await page(app, '/', { cookie: 'hippo_dashboard=forged' })).res.status, 401);
  assert.is((await app.request('/runs', { headers: { cookie } })).status, 401, '/runs still wants the bearer token');
  assert.is((await app.request('/ui/assets/dashboard.css')).status, 200, 'the stylesheet needs no token');

  const form = (body: Record<string, string>) => app.request('/ui/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body) });
  const bad = await form({ token: 'nope', next: '/ui/new' });
  assert.is(bad.status, 401);
  assert.is(bad.headers.get('set-cookie'), null);
  const good = await form({ token: TOKEN, next: '/ui/new' });
  assert.is(good.status, 303);
  assert.is(good.headers.get('location'), '/ui/new');
  assert.is(good.headers.get('set-cookie')?.split(';')[0], cookie);
  assert.is((await form({ token: TOKEN, next: '//evil.example/' })).headers.get('location'), '/', 'only a path on this site');

  const out = await app.request('/ui/logout', { method: 'POST', headers: { cookie } });
  assert.is(out.status, 303);
  assert.match(out.headers.get('set-cookie') ?? '', /^hippo_dashboard=; Max-Age=0; Path=\//);

  // A new token ends the old sessions.
  const rotated = createApp({ store, emit: async () => {}, stepTimeoutSeconds: 60, token: `${TOKEN}-2` });
  assert.is((await page(rotated, '/', { cookie })).res.status, 401);
});

test('the form submits a run like POST /runs; a request the API would refuse is shown beside the form, which keeps what was typed', async ({ app }) => {
  const post = (body: Record<string, string>) => app.request('/ui/runs', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body) });

  const notJson = await post({ pipeline: 'equity-panel', params: '{"start": 2015', asOf: '' });
  assert.is(notJson.status, 400);
  const notJsonHtml = await notJson.text();
  assert.match(notJsonHtml, 'params must be a JSON object');
  assert.match(notJsonHtml, '>{&quot;start&quot;: 2015</textarea>');

  const badParams = await post({ pipeline: 'equity-panel', params: '{"start": "2015-13-01", "end": "2015-01-30"}' });
  assert.is(badParams.status, 400);
  assert.match(await badParams.text(), /<span class="mono">params.start<\/span> is not a real calendar date/);

  const future = await post({ pipeline: 'equity-panel', params: '{"start": "2015-01-02", "end": "2015-01-30"}', asOf: '2099-01-01T00:00:00Z' });
  assert.is(future.status, 400);
  assert.match(await future.text(), 'asOf 2099-01-01T00:00:00Z is in the future');

  const ok = await post({ pipeline: 'equity-panel', params: '{"start": "2015-01-02", "end": "2015-01-30"}', asOf: '2026-01-01T00:00:00Z', id: 'form-1', watch: 'true' });
  assert.is(ok.status, 303);
  assert.is(ok.headers.get('location'), '/ui/runs/form-1');
  const created = (await (await app.request('/runs/form-1')).json()) as Run;
  assert.equal([created.pipeline, created.asOf, created.watch, created.params.start], ['equity-panel', '2026-01-01T00:00:00.000Z', true, '2015-01-02']);
  const again = await post({ pipeline: 'equity-panel', params: '{"start": "2015-01-02", "end": "2015-01-30"}', asOf: '2026-01-01T00:00:00Z', id: 'form-1', watch: 'true' });
  assert.is(again.headers.get('location'), '/ui/runs/form-1', 'the same id again: the same run');
  assert.match(await (await app.request('/metrics')).text(), /^hippo_runs_submitted_total 1$/m, 'counted once, as POST /runs counts');
});

test('a form posted from another site is refused (CSRF); the dashboard\'s own pages post fine', async ({ app }) => {
  const body = () => new URLSearchParams({ pipeline: 'equity-panel', params: '{"start": "2015-01-02", "end": "2015-01-30"}', id: 'csrf-1' });
  const form = { 'content-type': 'application/x-www-form-urlencoded' };
  const forged = await app.request('http://127.0.0.1:8080/ui/runs', { method: 'POST', headers: { ...form, origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }, body: body() });
  assert.is(forged.status, 403);
  assert.is(((await forged.json()) as { error: { code: string } }).error.code, 'cross_site');
  const oldBrowser = await app.request('http://127.0.0.1:8080/ui/runs', { method: 'POST', headers: { ...form, origin: 'https://evil.example' }, body: body() });
  assert.is(oldBrowser.status, 403);
  assert.is((await app.request('/runs/csrf-1')).status, 404, 'no run was started');
  const own = await app.request('http://127.0.0.1:8080/ui/runs', { method: 'POST', headers: { ...form, host: '127.0.0.1:8080', origin: 'http://127.0.0.1:8080', 'sec-fetch-site': 'same-origin' }, body: body() });
  assert.is(own.status, 303);
  const proxied = await app.request('http://runs.internal/ui/logout', { method: 'POST', headers: { host: 'runs.internal', 'x-forwarded-host': 'hippo.example.com', origin: 'https://hippo.example.com' } });
  assert.is(proxied.status, 303, 'behind a TLS proxy: the forwarded host');
});

test('durations and sizes read as a person writes them', () => {
  assert.equal([850, 12_345, 245_000, 7_620_000, 273_600_000].map(formatDuration), ['850 ms', '12.3 s', '4 min 05 s', '2 h 07 min', '3 d 04 h']);
  assert.equal([512, 1536, 12 << 20, 2 * 2 ** 30].map(formatBytes), ['512 B', '1.5 KiB', '12 MiB', '2 GiB']);
});

test.run();
