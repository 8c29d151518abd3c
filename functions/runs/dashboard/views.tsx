/** @jsxImportSource hono/jsx */
// The dashboard's pages (Hono JSX: every value is escaped when rendered). Each page is whole
// without JavaScript; the part that changes sits in `#live`, which /ui/assets/live.js refreshes.
import type { Child, FC, PropsWithChildren } from 'hono/jsx';
import type { WorkerStatus } from '../../../eventing/catalog.ts';
import type { ErrorDetail } from '../../../shared/errors.ts';
import { RUN_STATUSES, stepGroups, TERMINAL, type Attempt, type Run, type RunStatus, type StepGroup, type StepState } from '../../../orchestration/index.ts';

/** What every page is rendered with besides its own data. */
export interface ViewContext {
  now: Date;
  /** Memory per tier, bytes (HIPPO_TIERS), to name a tier's size. */
  tiers?: readonly number[];
  /** Whether a token guards the dashboard (then a sign-out button shows). */
  signedIn: boolean;
  /** Live-update interval, ms. */
  pollMs: number;
}


// ---- formatting -----------------------------------------------------------------------------

/** `850 ms`, `12.3 s`, `4 min 05 s`, `2 h 07 min`, `3 d 04 h` */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const pad = (n: number) => String(Math.floor(n)).padStart(2, '0');
  if (s < 3600) return `${Math.floor(s / 60)} min ${pad(s % 60)} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${pad((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${pad((s % 86400) / 3600)} h`;
}

/** `512 B`, `1.5 KiB`, `12 MiB`, `2 GiB` */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${Number(n.toFixed(1))} ${units[i]}`;
}

const ms = (iso: string | undefined) => (iso ? Date.parse(iso) : NaN);

/** When a run stopped changing: its last step's finish once it ended (later bookkeeping, such as a standing run's next link, moves `updatedAt` but is not run time). */
export function runEnd(run: Run, now: Date): number {
  if (!TERMINAL.has(run.status)) return now.getTime();
  const finishes = Object.values(run.steps).flatMap((s) => [ms(s.finishedAt), ...s.attempts.map((a) => ms(a.finishedAt))]).filter(Number.isFinite);
  return finishes.length ? Math.max(...finishes) : ms(run.updatedAt);
}

/** `t1 · 2.0 GiB` */
function tierLabel(tier: number, tiers: readonly number[] | undefined): string {
  const size = tiers?.[tier];
  return size ? `t${tier} · ${formatBytes(size)}` : `t${tier}`;
}

/** The steps at work now, as `stepId (t1, attempt 2)`. */
function working(run: Run): string {
  return Object.entries(run.steps)
    .filter(([, s]) => s.status === 'dispatched')
    .map(([id, s]) => `${id} (t${s.tier}, attempt ${s.attempt})`)
    .join(', ');
}

function reason(run: Run): string {
  if (!run.error) return '';
  return `${run.error.stepId ?? run.error.step ? `${run.error.stepId ?? run.error.step}: ` : ''}${run.error.message} (${run.error.code})`;
}

const resultUrl = (id: string, format: 'arrow' | 'parquet' | 'csv') => `/ui/runs/${encodeURIComponent(id)}/result?format=${format}`;
const runUrl = (id: string) => `/ui/runs/${encodeURIComponent(id)}`;

// ---- pieces -------------------------------------------------------------------------------

const Status: FC<{ status: string }> = ({ status }) => <span class={`status s-${status}`} data-status={status}>{status}</span>;

const Time: FC<{ iso: string | undefined; now: Date }> = ({ iso, now }) =>
  iso ? <time datetime={iso} title={iso}>{formatDuration(now.getTime() - ms(iso))} ago</time> : <span class="muted">–</span>;

const Layout: FC<PropsWithChildren<{ title: string; view: ViewContext; poll?: boolean; bare?: boolean }>> = ({ title, view, poll, bare, children }) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>{title} · Hippo</title>
      <link rel="stylesheet" href="/ui/assets/dashboard.css" />
      {poll ? <noscript><meta http-equiv="refresh" content={String(Math.max(5, Math.round(view.pollMs / 1000)))} /></noscript> : null}
      <script src="/ui/assets/live.js" defer></script>
    </head>
    <body>
      <header>
        <h1><a href="/" style="color: inherit; text-decoration: none">Hippo</a></h1>
        <nav>
          {bare ? null : <><a href="/">Runs</a><a href="/#workers">Workers</a><a href="/ui/new">New run</a></>}
        </nav>
        <span id="live-state" class="live-state muted">{poll ? 'refreshes every few seconds' : ''}</span>
        {view.signedIn ? (
          <form method="post" action="/ui/logout"><button type="submit">Sign out</button></form>
        ) : null}
      </header>
      <main>{children}</main>
    </body>
  </html>
);

// ---- the runs list --------------------------------------------------------------------------

export interface RunsPageProps {
  view: ViewContext;
  runs: Run[];
  /** Runs per status, over all runs. */
  counts: Record<RunStatus, number>;
  total: number;
  status?: RunStatus;
  limit: number;
  workers: WorkerStatus[] | { error: string };
}

export const RunsPage: FC<RunsPageProps> = ({ view, runs, counts, total, status, limit, workers }) => {
  const matching = status ? counts[status] : total;
  return (
    <Layout title={status ? `${status} runs` : 'Runs'} view={view} poll>
      <div id="live" data-poll={String(view.pollMs)}>
        <div class="grid">
          <section>
            <h2>Runs</h2>
            <nav class="filters" aria-label="filter by status">
              <a href="/" aria-current={status ? undefined : 'page'}>all <span class="muted">{total}</span></a>
              {RUN_STATUSES.map((s) => (
                <a href={`/?status=${s}`} aria-current={status === s ? 'page' : undefined} data-filter={s}>
                  {s} <span class="muted">{counts[s]}</span>
                </a>
              ))}
            </nav>
            {runs.length === 0 ? (
              <p class="muted">{status ? `No ${status} runs.` : <>No runs yet. <a href="/ui/new">Submit one</a>.</>}</p>
            ) : (
              <div class="scroll"><table id="runs">
                <thead>
                  <tr><th>run</th><th>status</th><th>pipeline</th><th>params</th><th>age</th><th class="num">duration</th><th>now / why</th></tr>
                </thead>
                <tbody>
                  {runs.map((run) => (
                    <tr data-run={run.id} data-status={run.status}>
                      <td class="mono"><a href={runUrl(run.id)}>{run.id}</a>{run.watch ? <span class="muted" title="standing run"> ↻</span> : null}</td>
                      <td><Status status={run.status} /></td>
                      <td>{run.pipeline}</td>
                      <td class="mono muted" title={JSON.stringify(run.params)}>{shortParams(run.params).map((part, i) => <>{i ? ', ' : ''}<span class="nowrap">{part}</span></>)}</td>
                      <td class="nowrap"><Time iso={run.createdAt} now={view.now} /></td>
                      <td class="num nowrap">{formatDuration(runEnd(run, view.now) - ms(run.createdAt))}</td>
                      <td>
                        {run.status === 'failed' || run.status === 'cancelled' ? <span class="reason">{reason(run)}</span>
                          : run.status === 'succeeded' ? <span class="muted">{run.result ? `${run.result.rows.toLocaleString('en-US')} rows` : ''}</span>
                          : <span>{working(run) || 'waiting'}</span>}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table></div>
            )}
            {matching > runs.length ? (
              <p class="muted">Showing the {limit} newest of {matching} runs. The JSON API pages further: <code>GET /runs?status=&amp;limit=</code>.</p>
            ) : null}
          </section>
          <section id="workers">
            <h2>Workers</h2>
            <WorkersPanel workers={workers} tiers={view.tiers} />
          </section>
        </div>
      </div>
    </Layout>
  );
};

/** `['2015-01-02 → 2015-06-30', 'fields eps']` for the usual params; other params as compact JSON. */
function shortParams(params: Record<string, unknown>): string[] {
  const cut = (text: string) => (text.length > 60 ? `${text.slice(0, 59)}…` : text);
  const { start, end, ...rest } = params as { start?: unknown; end?: unknown };
  if (typeof start !== 'string' || typeof end !== 'string') return [cut(JSON.stringify(params))];
  const lists = Object.entries(rest).filter(([, v]) => Array.isArray(v) && v.length > 0).map(([k, v]) => cut(`${k} ${(v as unknown[]).join(' ')}`));
  return [`${start} → ${end}`, ...lists];
}

const WorkersPanel: FC<{ workers: WorkerStatus[] | { error: string }; tiers?: readonly number[] }> = ({ workers, tiers }) => {
  if (!Array.isArray(workers)) return <p class="error">Workers unavailable: <span class="reason">{workers.error}</span></p>;
  if (workers.length === 0) return <p class="muted">No workers reported.</p>;
  return (
    <div class="scroll"><table id="workers-table">
      <thead>
        <tr><th>service</th><th>tier</th><th class="num">ready</th><th class="num">busy</th><th class="num">restarts</th><th class="num" title="out-of-memory kills">OOM</th></tr>
      </thead>
      <tbody>
        {workers.map((w) => (
          <tr data-service={w.service}>
            <td class="mono" title={`function ${w.fn}`}>{w.service}</td>
            <td class="nowrap">{w.tier === undefined ? '' : tierLabel(w.tier, tiers)}</td>
            <td class="num">{w.ready}</td>
            <td class="num">{w.busy}</td>
            <td class="num">{w.restarts}</td>
            <td class="num">{w.oomKills}</td>
          </tr>
        ))}
      </tbody>
    </table></div>
  );
};

// ---- one run --------------------------------------------------------------------------------

export const RunPage: FC<{ view: ViewContext; run: Run }> = ({ view, run }) => {
  const start = ms(run.createdAt);
  const end = runEnd(run, view.now);
  // A finished run is not fetched again, unless it is standing: its next run's link may appear.
  const live = !TERMINAL.has(run.status) || (run.watch === true && !run.nextRunId);
  return (
    <Layout title={`Run ${run.id}`} view={view} poll={live}>
      <div id="live" data-poll={live ? String(view.pollMs) : 'off'} data-run={run.id} data-status={run.status}>
        <h2>
          Run <span class="mono">{run.id}</span> <Status status={run.status} />
        </h2>
        {run.error ? (
          <div class="error" id="run-error">
            <strong>{run.status === 'cancelled' ? 'Cancelled' : 'Failed'}</strong>
            {run.error.stepId ?? run.error.step ? <> in step <span class="mono">{run.error.stepId ?? run.error.step}</span></> : null}
            {' '}<span class="mono muted">{run.error.code}</span>
            <div class="reason">{run.error.message}</div>
          </div>
        ) : null}
        <dl class="facts">
          <dt>pipeline</dt><dd>{run.pipeline}</dd>
          <dt>as of</dt><dd class="mono">{run.asOf}</dd>
          <dt>created</dt><dd><Time iso={run.createdAt} now={view.now} /> <span class="muted mono">{run.createdAt}</span></dd>
          <dt>duration</dt><dd>{formatDuration(end - start)}{TERMINAL.has(run.status) ? '' : ' so far'}</dd>
          {run.datasets?.length ? <><dt>reads</dt><dd>{run.datasets.join(', ')}</dd></> : null}
          {run.reusedFrom ? (
            <>
              <dt>{run.coalesced ? 'joined' : 'reused'}</dt>
              <dd id="reused-from">
                {run.coalesced ? 'shares the computation of ' : 'took the result of '}
                <a href={runUrl(run.reusedFrom)} class="mono">{run.reusedFrom}</a>
                <span class="muted"> (the same request and the same data: no step of its own)</span>
              </dd>
            </>
          ) : null}
          {run.followers?.length ? <><dt>shared with</dt><dd id="followers">{run.followers.length} run{run.followers.length === 1 ? '' : 's'} that joined this computation</dd></> : null}
          <dt>params</dt><dd><pre>{JSON.stringify(run.params, null, 2)}</pre></dd>
          {run.watch || run.previousRunId || run.nextRunId ? (
            <>
              <dt>standing</dt>
              <dd id="standing">
                {run.watch ? 'watching: re-runs when a dataset it read changes' : 'not watching'}
                {run.rerun ? <span class="muted"> · re-run due after <span class="mono">{run.rerun.after}</span>{run.rerun.error ? ` (last try: ${run.rerun.error})` : ''}</span> : null}
                {run.previousRunId ? <div>previous: <a href={runUrl(run.previousRunId)} class="mono" rel="prev">{run.previousRunId}</a></div> : null}
                {run.nextRunId ? <div>next: <a href={runUrl(run.nextRunId)} class="mono" rel="next">{run.nextRunId}</a></div> : null}
              </dd>
            </>
          ) : null}
        </dl>
        {run.result ? (
          <section id="result">
            <h2>Result</h2>
            <p>
              {run.result.rows.toLocaleString('en-US')} rows · {formatBytes(run.result.bytes)} Arrow · sha256 <span class="mono" id="result-sha256">{run.result.sha256}</span>
            </p>
            <p class="downloads">
              Download: <a href={resultUrl(run.id, 'arrow')} id="download-arrow" download>Arrow</a>
              <a href={resultUrl(run.id, 'parquet')} id="download-parquet" download>Parquet</a>
              <a href={resultUrl(run.id, 'csv')} id="download-csv" download>CSV</a>
            </p>
          </section>
        ) : null}
        <h2>Steps</h2>
        <Timeline run={run} start={start} end={end} view={view} />
        {stepGroups(run.steps).map((g) =>
          g.ids.length === 1
            ? <StepCard stepId={g.ids[0]!} step={run.steps[g.ids[0]!]!} view={view} runEnd={end} />
            : <PartitionsCard group={g} run={run} view={view} />,
        )}
      </div>
    </Layout>
  );
};

/**
 * A fanned-out step as one row: how many of its partitions are done, which failed (with their
 * reason) and which are running, the tiers they used; each partition is in the run's JSON.
 */
const PartitionsCard: FC<{ group: StepGroup; run: Run; view: ViewContext }> = ({ group, run, view }) => {
  const parts = group.ids.map((id) => [id, run.steps[id]!] as const);
  const tiers = [...new Set(parts.flatMap(([, s]) => s.attempts.map((a) => a.tier)))].sort();
  const retried = parts.filter(([, s]) => s.attempts.length > 1).map(([id]) => id);
  return (
    <section class="step" data-step={group.stepId} data-status={group.status} data-partitions={String(group.ids.length)}>
      <h3>
        <span class="mono">{group.stepId}</span>
        <span class="muted">{group.step}</span>
        <Status status={group.status} />
        <span class="progress" data-done={String(group.done)}>{group.done} of {group.ids.length} partitions done</span>
      </h3>
      <dl class="facts">
        {tiers.length ? <><dt>tiers</dt><dd>{tiers.map((t) => tierLabel(t, view.tiers)).join(', ')}</dd></> : null}
        {group.running.length ? <><dt>running</dt><dd class="mono">{group.running.join(', ')}</dd></> : null}
        {retried.length ? <><dt>retried</dt><dd class="mono">{retried.join(', ')}</dd></> : null}
        {group.failed.length ? (
          <>
            <dt>failed</dt>
            <dd class="failed-partitions">
              {group.failed.map((id) => <div><span class="mono">{id}</span>: <span class="reason">{run.steps[id]!.error?.message ?? 'failed'}</span></div>)}
            </dd>
          </>
        ) : null}
      </dl>
    </section>
  );
};

/** One lane per step (a fanned-out step's partitions share one), one bar per attempt, placed on the run's time axis. */
const Timeline: FC<{ run: Run; start: number; end: number; view: ViewContext }> = ({ run, start, end, view }) => {
  const span = Math.max(1, end - start);
  const pct = (t: number) => Math.min(100, Math.max(0, ((t - start) / span) * 100));
  const groups = stepGroups(run.steps);
  return (
    <div class="timeline" role="img" aria-label={`timeline of ${groups.length} steps over ${formatDuration(span)}`}>
      {groups.map((g) => (
        <div class="lane">
          <span class="mono">{g.ids.length > 1 ? `${g.stepId} ×${g.ids.length}` : g.stepId}</span>
          <div class="track">
            {g.ids.flatMap((stepId) => run.steps[stepId]!.attempts.map((a) => ({ stepId, a }))).map(({ stepId, a }) => {
              const from = pct(ms(a.dispatchedAt));
              const to = pct(a.finishedAt ? ms(a.finishedAt) : end);
              const title = `${stepId} attempt ${a.attempt}, ${tierLabel(a.tier, view.tiers)}: ${a.status}${a.error ? ` (${a.error.code})` : ''}, ${formatDuration((a.finishedAt ? ms(a.finishedAt) : end) - ms(a.dispatchedAt))}`;
              return (
                <span class={`bar b-${a.status}`} style={`left: ${from.toFixed(2)}%; width: ${Math.max(0.3, to - from).toFixed(2)}%`} title={title}>
                  t{a.tier}
                </span>
              );
            })}
          </div>
        </div>
      ))}
      <div class="lane muted"><span></span><span>0 → {formatDuration(span)}</span></div>
    </div>
  );
};

const StepCard: FC<{ stepId: string; step: StepState; view: ViewContext; runEnd: number }> = ({ stepId, step, view, runEnd: end }) => {
  const first = step.attempts[0];
  const took = first ? (step.finishedAt ? ms(step.finishedAt) : end) - ms(first.dispatchedAt) : NaN;
  return (
    <section class="step" data-step={stepId} data-status={step.status}>
      <h3>
        <span class="mono">{stepId}</span>
        {step.step !== stepId ? <span class="muted">{step.step}</span> : null}
        <Status status={step.status} />
        {step.attempts.length ? <span>{tierLabel(step.tier, view.tiers)} · attempt {step.attempt}</span> : <span class="muted">not dispatched yet</span>}
        {first ? <span class="muted">{formatDuration(took)}</span> : null}
      </h3>
      <dl class="facts">
        {step.needs.length ? <><dt>after</dt><dd class="mono">{step.needs.join(', ')}</dd></> : null}
        <dt>estimate</dt>
        <dd>
          {step.estimate
            ? <>{formatBytes(step.estimate.inputBytes)} input → first tier {tierLabel(step.estimate.tier, view.tiers)}</>
            : <span class="muted">none{step.lakeBytes !== undefined ? ` (reads ${formatBytes(step.lakeBytes)} of lake)` : ''}</span>}
        </dd>
        {step.metrics ? (
          <>
            <dt>work</dt>
            <dd>
              {step.metrics.rowsIn.toLocaleString('en-US')} rows in → {step.metrics.rowsOut.toLocaleString('en-US')} rows out ·
              {' '}{formatDuration(step.metrics.ms)}
              {step.metrics.cpuMs === undefined ? '' : ` · CPU ${formatDuration(step.metrics.cpuMs)}`} · peak RSS {formatBytes(step.metrics.peakRssBytes)}
            </dd>
          </>
        ) : null}
        {step.error ? <><dt>error</dt><dd class="reason">{step.error.message} <span class="mono muted">{step.error.code}</span></dd></> : null}
      </dl>
      {step.attempts.length ? <Attempts attempts={step.attempts} view={view} end={end} /> : null}
    </section>
  );
};

const Attempts: FC<{ attempts: Attempt[]; view: ViewContext; end: number }> = ({ attempts, view, end }) => (
  <table class="attempts">
    <thead>
      <tr><th class="num">#</th><th>tier</th><th>status</th><th>dispatched</th><th class="num">took</th><th>error</th></tr>
    </thead>
    <tbody>
      {attempts.map((a) => (
        <tr data-attempt={String(a.attempt)} data-tier={String(a.tier)} data-status={a.status}>
          <td class="num">{a.attempt}</td>
          <td>{tierLabel(a.tier, view.tiers)}</td>
          <td><Status status={a.status} /></td>
          <td class="mono">{a.dispatchedAt}</td>
          <td class="num">{formatDuration((a.finishedAt ? ms(a.finishedAt) : end) - ms(a.dispatchedAt))}{a.finishedAt ? '' : ' so far'}</td>
          <td>{a.error ? <><span class="mono">{a.error.code}</span>: <span class="reason">{a.error.message}</span></> : null}</td>
        </tr>
      ))}
    </tbody>
  </table>
);

// ---- submit a run ---------------------------------------------------------------------------

export interface NewRunForm {
  pipeline: string;
  params: string;
  asOf: string;
  id: string;
  watch: boolean;
}

export const NewRunPage: FC<{
  view: ViewContext;
  pipelines: { name: string; describe: string }[];
  form: NewRunForm;
  error?: { message: string; details?: ErrorDetail[] };
}> = ({ view, pipelines, form, error }) => (
  <Layout title="New run" view={view}>
    <h2>New run</h2>
    {error ? (
      <div class="error" id="form-error">
        <div class="reason">{error.message}</div>
        {error.details?.length ? <ul>{error.details.map((d) => <li>{d.field ? <span class="mono">{d.field}</span> : null} {d.message}</li>)}</ul> : null}
      </div>
    ) : null}
    <form class="new-run" method="post" action="/ui/runs">
      <label for="pipeline">pipeline</label>
      <select id="pipeline" name="pipeline">
        {pipelines.map((p) => <option value={p.name} selected={p.name === form.pipeline} title={p.describe}>{p.name}</option>)}
      </select>
      <label for="params">params (JSON)</label>
      <textarea id="params" name="params" spellcheck={false} class="mono" placeholder='{"start": "2015-01-02", "end": "2015-06-30"}'>{form.params}</textarea>
      <label for="asOf">as of</label>
      <input id="asOf" name="asOf" type="text" value={form.asOf} placeholder="now, or an instant like 2025-06-01T00:00:00Z" />
      <label for="id">run id</label>
      <input id="id" name="id" type="text" value={form.id} placeholder="optional: the same id again returns the same run" />
      <label for="watch">standing</label>
      <label><input id="watch" name="watch" type="checkbox" value="true" checked={form.watch} /> re-run when a dataset it read changes</label>
      <span></span>
      <div><button type="submit" id="submit-run">Submit run</button></div>
    </form>
    <p class="muted">{pipelines.map((p) => <><strong>{p.name}</strong>: {p.describe}<br /></>)}</p>
  </Layout>
);

// ---- sign-in and errors ---------------------------------------------------------------------

export const SignInPage: FC<{ view: ViewContext; next: string; wrong: boolean }> = ({ view, next, wrong }) => (
  <Layout title="Sign in" view={{ ...view, signedIn: false }} bare>
    <h2>Sign in</h2>
    <p>This dashboard is protected by the platform's token (<code>HIPPO_TOKEN</code>).</p>
    {wrong ? <p class="error" id="signin-error"><span class="reason">That token is wrong.</span></p> : null}
    <form method="post" action="/ui/login">
      <input type="hidden" name="next" value={next} />
      <label for="token">token </label>
      <input id="token" name="token" type="password" autocomplete="current-password" required />
      <button type="submit">Sign in</button>
    </form>
    <p class="muted">Or open any dashboard address once with <code>?token=…</code>: it is swapped for a session cookie and removed from the address.</p>
  </Layout>
);

export const MessagePage: FC<{ view: ViewContext; title: string; message: Child }> = ({ view, title, message }) => (
  <Layout title={title} view={view}>
    <h2>{title}</h2>
    <p class="error"><span class="reason">{message}</span></p>
    <p><a href="/">All runs</a></p>
  </Layout>
);
