import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { binaryMessage, type HippoEvent } from '../../shared/cloudevents.ts';
import { FileStore } from '../../shared/file-store.ts';
import { EventTypes, makeEvent, type StepCompleted, type StepRequested } from '../../eventing/catalog.ts';
import { createApp, createRuns } from './app.ts';
import type { Run } from '../../orchestration/index.ts';
import { QUEUED_GRACE_MS } from '../../orchestration/index.ts';

interface Ctx {
  dir: string;
  store: FileStore;
  emitted: HippoEvent[];
  app: ReturnType<typeof createApp>;
}
const test = suite<Ctx>('runs API and coordinator');

test.before.each(async (ctx) => {
  ctx.dir = await mkdtemp(join(tmpdir(), 'hippo-runs-'));
  ctx.store = new FileStore(ctx.dir);
  ctx.emitted = [];
  ctx.app = createApp({ store: ctx.store, emit: async (e) => void ctx.emitted.push(e), stepTimeoutSeconds: 60 });
});
test.after.each(async (ctx) => rm(ctx.dir, { recursive: true, force: true }));

const submit = (app: Ctx['app'], body: unknown) =>
  app.request('/runs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

const post = (app: Ctx['app'], e: HippoEvent) => {
  const m = binaryMessage(e);
  return app.request('/', { method: 'POST', headers: m.headers, body: m.body });
};

const completion = (req: StepRequested, attempt = 1): HippoEvent => {
  const data: StepCompleted = {
    runId: req.runId, stepId: req.stepId, attempt, tier: 0,
    outputs: { [req.step === 'export' ? 'result' : 'panel']: { key: `${req.output}/x`, rows: 10, bytes: 100, sha256: 'ab' } },
    lineage: req.step === 'export' ? {} : { prices: ['lake/prices/part-1'] },
    metrics: { ms: 1, peakRssBytes: 1, rowsIn: 10, rowsOut: 10 },
  };
  return makeEvent(EventTypes.stepCompleted, '/t', data, { runid: req.runId });
};

const getRun = async (app: Ctx['app'], id: string) => (await (await app.request(`/runs/${id}`)).json()) as Run;

test('submit → 202, plans steps, dispatches the first with its attributes', async ({ app, emitted }) => {
  const res = await submit(app, { pipeline: 'equity-panel', params: { start: '2010-01-04', end: '2010-12-31' }, id: 'run-1' });
  assert.is(res.status, 202);
  const body = (await res.json()) as { id: string; status: string; links: { self: string } };
  assert.equal(body, { id: 'run-1', status: 'running', links: { self: '/runs/run-1', result: '/runs/run-1/result' } });
  assert.is(emitted.length, 1);
  const e = emitted[0]!;
  assert.is(e.type, EventTypes.stepRequested);
  assert.is(e.step, 'delisting-adjust');
  assert.is(e.tier, '0');
  assert.is(e.runid, 'run-1');
  assert.is(e.partitionkey, 'run-1');
  const data = e.data as StepRequested;
  assert.equal(data.params, { start: '2010-01-04', end: '2010-12-31', universe: 'all', delisting: 'shumway' });
  assert.is(data.output, 'work/run-1/delisting-adjust');
  const run = await getRun(app, 'run-1');
  assert.equal(Object.keys(run.steps), ['delisting-adjust', 'export']);
  assert.is(run.steps['delisting-adjust']!.status, 'dispatched');
  assert.is(run.steps.export!.status, 'pending');
});

test('the same id twice returns the existing run (200) and dispatches nothing new; other params → 409', async ({ app, emitted }) => {
  const req = { pipeline: 'equity-panel', params: { start: '2010-01-04', end: '2010-01-31' }, id: 'same' };
  assert.is((await submit(app, req)).status, 202);
  const again = await submit(app, req);
  assert.is(again.status, 200);
  const run = (await again.json()) as Run;
  assert.is(run.id, 'same');
  assert.is(run.steps['delisting-adjust']!.status, 'dispatched');
  assert.is(emitted.length, 1);
  const other = await submit(app, { ...req, params: { start: '2010-01-04', end: '2010-02-28' } });
  assert.is(other.status, 409);
  assert.is(((await other.json()) as { error: { code: string } }).error.code, 'id_conflict');
});

test('asOf must be an instant with an offset, and not in the future', async ({ app }) => {
  for (const asOf of ['1', '2020-02-30T00:00:00Z', '2019-01-01T10:00:00', '2099-01-01T00:00:00Z']) {
    const res = await submit(app, { pipeline: 'equity-panel', params: { start: '2010-01-04', end: '2010-01-31' }, asOf });
    assert.is(res.status, 400, asOf);
    const err = ((await res.json()) as { error: { details: { field: string }[] } }).error;
    assert.is(err.details[0]!.field, 'asOf', asOf);
  }
  const ok = await submit(app, { pipeline: 'equity-panel', params: { start: '2010-01-04', end: '2010-01-31' }, asOf: '2019-01-01T10:00:00-05:00' });
  assert.is(ok.status, 202);
});

test('the deadline sweep re-dispatches a lost step, then fails the run with timeout; nothing waits forever', async ({ store }) => {
  let clock = Date.parse('2026-01-01T00:00:00Z');
  const emitted: HippoEvent[] = [];
  const { app, coordinator } = createRuns({ store, emit: async (e) => void emitted.push(e), stepTimeoutSeconds: 60, now: () => new Date(clock) });
  await submit(app, { pipeline: 'equity-panel', params: { start: '2010-01-04', end: '2010-01-31' }, id: 'lost', asOf: '2025-12-31T00:00:00Z' });
  assert.equal(await coordinator.sweep(), { redispatched: 0, failed: 0 });
  clock += 61_000;
  assert.equal(await coordinator.sweep(), { redispatched: 1, failed: 0 });
  const again = emitted.at(-1)!;
  assert.is(again.step, 'delisting-adjust');
  assert.is(again.attempt, '2');
  clock += 61_000;
  await coordinator.sweep();
  clock += 61_000;
  assert.equal(await coordinator.sweep(), { redispatched: 0, failed: 1 });
  const run = await getRun(app, 'lost');
  assert.is(run.status, 'failed');
  assert.is(run.error!.code, 'timeout');
  assert.equal(run.steps['delisting-adjust']!.attempts.map((a) => [a.attempt, a.status, a.error?.code]), [
    [1, 'failed', 'timeout'], [2, 'failed', 'timeout'], [3, 'failed', 'timeout'],
  ]);
  // A late completion of an old attempt changes nothing now.
  await post(app, completion(emitted[0]!.data as StepRequested));
  assert.is((await getRun(app, 'lost')).status, 'failed');
});

test('a re-dispatched attempt that answers after its deadline still counts; the attempt dispatched after it is superseded', async ({ store }) => {
  let clock = Date.parse('2026-01-01T00:00:00Z');
  const emitted: HippoEvent[] = [];
  const { app, coordinator } = createRuns({ store, emit: async (e) => void emitted.push(e), stepTimeoutSeconds: 60, now: () => new Date(clock) });
  await submit(app, { pipeline: 'equity-panel', params: { start: '2010-01-04', end: '2010-01-31' }, id: 'late', asOf: '2025-12-31T00:00:00Z' });
  clock += 61_000;
  await coordinator.sweep(); // attempt 1 hung → attempt 2
  const second = emitted.at(-1)!.data as StepRequested;
  clock += 61_000;
  await coordinator.sweep(); // attempt 2 late → attempt 3
  await post(app, completion(second, second.attempt)); // then attempt 2 answers
  const s = (await getRun(app, 'late')).steps['delisting-adjust']!;
  assert.is(s.status, 'succeeded');
  assert.equal(s.attempts.map((a) => [a.attempt, a.status, a.error?.code]), [
    [1, 'failed', 'timeout'], [2, 'succeeded', undefined], [3, 'superseded', undefined],
  ]);
});

test('the planner starts a step with a big input on a bigger tier; small ones start at tier 0', async ({ store }) => {
  const emitted: HippoEvent[] = [];
  const MiB = 1024 ** 2;
  // Tier 0 gives DuckDB ~0.6 MiB: room for ~30 KB of Parquet input; the lake's prices are 200 KB.
  const { app } = createRuns({ store, emit: async (e) => void emitted.push(e), stepTimeoutSeconds: 60, tiers: [1 * MiB, 64 * MiB] });
  await store.put('lake/prices/part-20250101T000000Z-01.parquet', new Uint8Array(200_000));
  await store.put('lake/securities/part-20250101T000000Z-01.parquet', new Uint8Array(1_000));
  await submit(app, { pipeline: 'equity-panel', params: { start: '2010-01-04', end: '2010-01-31' }, id: 'big' });
  const first = emitted.at(-1)!;
  assert.is(first.step, 'delisting-adjust');
  assert.is(first.tier, '1');
  let run = await getRun(app, 'big');
  assert.equal(run.steps['delisting-adjust']!.estimate, { inputBytes: 201_000, tier: 1 });
  assert.equal(run.steps['delisting-adjust']!.attempts.map((a) => a.tier), [1]);
  // export reads only the panel before it (10 KB here): tier 0.
  const req = first.data as StepRequested;
  const done = completion(req);
  (done.data as StepCompleted).outputs.panel!.bytes = 10_000;
  await post(app, done);
  const exp = emitted.at(-1)!;
  assert.is(exp.step, 'export');
  assert.is(exp.tier, '0');
  run = await getRun(app, 'big');
  assert.equal(run.steps.export!.estimate, { inputBytes: 10_000, tier: 0 });
});

test('a run left queued (its first dispatch was lost) is dispatched by a resubmit or the sweep', async ({ store }) => {
  let fail = true;
  const emitted: HippoEvent[] = [];
  const { app, coordinator } = createRuns({
    store, stepTimeoutSeconds: 60,
    emit: async (e) => {
      if (fail) throw new Error('broker down');
      emitted.push(e);
    },
  });
  // Simulate a crash right after the ledger write: create the record, never advance it.
  const { Ledger } = await import('../../orchestration/index.ts');
  const queued = (id: string, at: string) => new Ledger(store).create({
    id, pipeline: 'equity-panel', params: { start: '2010-01-04', end: '2010-01-31', universe: 'all', delisting: 'shumway' }, asOf: at, status: 'queued',
    steps: { 'delisting-adjust': { step: 'delisting-adjust', status: 'pending', needs: [], inputRefs: {}, params: {}, output: `work/${id}/delisting-adjust`, attempt: 0, tier: 0, attempts: [] } },
    createdAt: at, updatedAt: at,
  });
  await queued('q', new Date(Date.now() - QUEUED_GRACE_MS - 1000).toISOString());
  // Written a moment ago: its creator is about to dispatch it; the sweep leaves it alone.
  await queued('fresh', new Date().toISOString());
  fail = false;
  await coordinator.sweep();
  assert.is(emitted.length, 1);
  assert.is((emitted[0]!.data as StepRequested).runId, 'q');
  assert.is((await getRun(app, 'q')).status, 'running');
  assert.is((await getRun(app, 'fresh')).status, 'queued');
});

test('a duplicated step.completed leaves the ledger correct; the next step is re-sent, never re-planned', async ({ app, emitted }) => {
  await submit(app, { pipeline: 'equity-panel', params: { start: '2010-01-04', end: '2010-01-31' }, id: 'dup' });
  const first = emitted[0]!.data as StepRequested;
  const done = completion(first);
  assert.is((await post(app, done)).status, 202);
  const after1 = await getRun(app, 'dup');
  assert.is((await post(app, done)).status, 202); // the broker redelivers the same event
  assert.is((await post(app, completion(first))).status, 202); // or a second completion of the same step
  const after2 = await getRun(app, 'dup');
  assert.equal({ ...after2, updatedAt: '' }, { ...after1, updatedAt: '' });
  assert.is(after2.updatedAt, after1.updatedAt);
  // Each redelivery re-sends the export's request (the first send may have been lost):
  // the very same request, attempt 1 — the ledger records one dispatch.
  const exports = emitted.filter((e) => e.step === 'export');
  assert.is(exports.length, 3);
  assert.equal(exports.map((e) => e.data), exports.map(() => exports[0]!.data));
  const exp = exports[0]!.data as StepRequested;
  assert.equal(exp.inputs, { panel: 'work/dup/delisting-adjust/x' });
  assert.equal(exp.params.lineage, { prices: ['lake/prices/part-1'] });
  assert.is(after2.steps['delisting-adjust']!.attempts.length, 1);
  assert.is(after2.steps['delisting-adjust']!.attempts[0]!.status, 'succeeded');

  // Export completes: the run succeeds with the result, and announces it once.
  await post(app, completion(exp));
  await post(app, completion(exp));
  const final = await getRun(app, 'dup');
  assert.is(final.status, 'succeeded');
  assert.equal(final.result, { key: 'results/dup/x', rows: 10, bytes: 100, sha256: 'ab', contentType: 'application/vnd.apache.arrow.stream' });
  assert.is(emitted.filter((e) => e.type === EventTypes.runCompleted).length, 1);
});

test('step.failed fails the run with the step and reason; later events change nothing', async ({ app, emitted }) => {
  await submit(app, { pipeline: 'equity-panel', params: { start: '2010-01-04', end: '2010-01-31' }, id: 'bad' });
  const req = emitted[0]!.data as StepRequested;
  const failed = makeEvent(EventTypes.stepFailed, '/retry', {
    runId: 'bad', stepId: req.stepId, attempt: 1, tier: 0, error: { code: 'invalid_input', message: 'prices.csv is broken', retriable: false },
  }, { runid: 'bad' });
  await post(app, failed);
  await post(app, completion(req));
  const run = await getRun(app, 'bad');
  assert.is(run.status, 'failed');
  assert.equal(run.error, { code: 'invalid_input', message: 'prices.csv is broken', step: 'delisting-adjust', stepId: 'delisting-adjust' });
  assert.is(run.steps['delisting-adjust']!.status, 'failed');
  assert.is(emitted.filter((e) => e.type === EventTypes.runFailed).length, 1);
  assert.is(emitted.filter((e) => e.step === 'export').length, 0);
  const result = await app.request('/runs/bad/result');
  assert.is(result.status, 409);
});

test('malformed requests → 400 naming the field', async ({ app }) => {
  const cases: [unknown, string, string][] = [
    [{ params: {} }, 'pipeline', 'invalid_params'],
    [{ pipeline: 'equity-panel', params: { end: '2010-01-01' } }, 'params.start', 'invalid_params'],
    [{ pipeline: 'equity-panel', params: { start: '2010-13-01', end: '2010-12-31' } }, 'params.start', 'invalid_params'],
    [{ pipeline: 'equity-panel', params: { start: '2010-02-30', end: '2010-12-31' } }, 'params.start', 'invalid_params'],
    [{ pipeline: 'equity-panel', params: { start: '2011-01-01', end: '2010-12-31' } }, 'params.start', 'invalid_params'],
    [{ pipeline: 'equity-panel', params: { start: '2010-01-04', end: '2010-12-31', delisting: 'magic' } }, 'params.delisting', 'invalid_params'],
    [{ pipeline: 'equity-panel', params: { start: '2010-01-04', end: '2010-12-31', colour: 'red' } }, 'params', 'invalid_params'],
    [{ pipeline: 'nope', params: {} }, 'pipeline', 'unknown_pipeline'],
    [{ pipeline: 'equity-panel', params: { start: '2010-01-04', end: '2010-12-31', fields: ['eps'] } }, 'params.fields', 'unknown_field'],
    [{ pipeline: 'equity-panel', params: { start: '2010-01-04', end: '2010-12-31', macro: ['CPI'] } }, 'params.macro', 'unknown_field'],
    [{ pipeline: 'equity-panel', params: { start: '2010-01-04', end: '2010-12-31', fields: ['close'] } }, 'params.fields', 'invalid_params'],
    [{ pipeline: 'equity-panel', params: { start: '2010-01-04', end: '2010-12-31', cutoff: '25:00' } }, 'params.cutoff', 'invalid_params'],
    [{ pipeline: 'equity-panel', params: { start: '2010-01-04', end: '2010-12-31', timezone: 'Mars/Olympus' } }, 'params.timezone', 'invalid_params'],
    [{ pipeline: 'equity-panel', params: { start: '2010-01-04', end: '2010-12-31', maxAge: '1y' } }, 'params.maxAge', 'invalid_params'],
    [{ pipeline: 'equity-panel', params: {}, id: 'bad id!' }, 'id', 'invalid_params'],
  ];
  for (const [body, field, code] of cases) {
    const res = await submit(app, body);
    assert.is(res.status, 400, JSON.stringify(body));
    const err = ((await res.json()) as { error: { code: string; message: string; details: { field: string }[] } }).error;
    assert.is(err.code, code, JSON.stringify(body));
    assert.is(err.details[0]!.field, field, JSON.stringify(body));
    assert.ok(err.message.includes(field), `${err.message} names ${field}`);
  }
  const notJson = await app.request('/runs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{oops' });
  assert.is(notJson.status, 400);
});

test('a run requested as a CloudEvent (binary) is accepted; redelivery starts no second run', async ({ app, emitted }) => {
  const e = makeEvent(EventTypes.runRequested, 'curl', { pipeline: 'equity-panel', params: { start: '2010-01-04', end: '2010-01-31' } });
  const res = await post(app, e);
  assert.is(res.status, 202);
  assert.is(((await res.json()) as { id: string }).id, e.id);
  assert.is((await post(app, e)).status, 200);
  assert.is(emitted.filter((x) => x.type === EventTypes.stepRequested).length, 1);
});

test('list, filter by status, cancel, 404s', async ({ app }) => {
  await submit(app, { pipeline: 'equity-panel', params: { start: '2010-01-04', end: '2010-01-31' }, id: 'a' });
  await submit(app, { pipeline: 'equity-panel', params: { start: '2010-01-04', end: '2010-01-31' }, id: 'b' });
  const del = await app.request('/runs/b', { method: 'DELETE' });
  assert.is(((await del.json()) as Run).status, 'cancelled');
  const running = (await (await app.request('/runs?status=running')).json()) as { runs: Run[] };
  assert.equal(running.runs.map((r) => r.id), ['a']);
  const all = (await (await app.request('/runs?limit=10')).json()) as { runs: Run[] };
  assert.equal(all.runs.map((r) => r.id).sort(), ['a', 'b']);
  assert.is((await app.request('/runs/zzz')).status, 404);
  assert.is((await app.request('/runs?status=weird')).status, 400);
});

test('HIPPO_TOKEN protects /runs: no token, a wrong one or not a bearer header is 401 with the JSON error body', async ({ store }) => {
  const app = createApp({ store, emit: async () => {}, stepTimeoutSeconds: 60, token: 's3cret' });
  const unauthorized = { error: { code: 'unauthorized', message: 'missing or wrong bearer token' } };
  for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: 'Basic czNjcmV0' }, { authorization: 'Bearer s3cret!' }] as Record<string, string>[]) {
    for (const [method, path] of [['GET', '/runs'], ['GET', '/runs/x/result'], ['DELETE', '/runs/x']]) {
      const res = await app.request(path!, { method, headers });
      assert.is(res.status, 401, `${method} ${path} ${JSON.stringify(headers)}`);
      assert.equal(await res.json(), unauthorized);
    }
  }
  const refused = await submit(app, { pipeline: 'equity-panel', params: { start: '2010-01-04', end: '2010-01-31' }, id: 'no-token' });
  assert.is(refused.status, 401);
  assert.is((await app.request('/runs', { headers: { authorization: 'Bearer s3cret' } })).status, 200);
  assert.is((await app.request('/runs/no-token', { headers: { authorization: 'bearer s3cret' } })).status, 404, 'the scheme is case-insensitive; no run was started');
  assert.is((await app.request('/health/readiness')).status, 200);
});

test('the broker refusing the first dispatch fails the run instead of leaving it waiting', async ({ store }) => {
  const app = createApp({ store, emit: async () => { throw new Error('broker down'); }, stepTimeoutSeconds: 60 });
  const res = await submit(app, { pipeline: 'equity-panel', params: { start: '2010-01-04', end: '2010-01-31' }, id: 'x' });
  const body = (await res.json()) as { status: string; error: { code: string } };
  assert.is(body.status, 'failed');
  assert.is(body.error.code, 'dispatch_failed');
});

test('a step.failed with nextTier: the attempt is recorded failed and the step runs again one tier up', async ({ app, emitted }) => {
  await submit(app, { pipeline: 'equity-panel', params: { start: '2010-01-04', end: '2010-01-31' }, id: 'oom' });
  const first = emitted[0]!.data as StepRequested;
  const failed = makeEvent(EventTypes.stepFailed, '/hippo/retry', {
    runId: 'oom', stepId: first.stepId, attempt: 1, tier: 0,
    error: { code: 'out_of_memory', message: 'Out of Memory Error', retriable: true, nextTier: 1 },
  }, { runid: 'oom' });
  assert.is((await post(app, failed)).status, 202);
  assert.is((await post(app, failed)).status, 202, 'a redelivery of the same report is stale');
  const again = emitted.filter((e) => e.type === EventTypes.stepRequested && e.stepid === first.stepId);
  assert.is(again.length, 2);
  const second = again[1]!.data as StepRequested;
  assert.equal([second.attempt, second.tier], [2, 1]);
  let run = await getRun(app, 'oom');
  assert.is(run.status, 'running');
  assert.equal(run.steps[first.stepId]!.attempts.map((a) => [a.attempt, a.tier, a.status, a.error?.code]), [[1, 0, 'failed', 'out_of_memory'], [2, 1, 'dispatched', undefined]]);
  await post(app, completion(second, 2));
  run = await getRun(app, 'oom');
  assert.equal(run.steps[first.stepId]!.attempts.map((a) => [a.tier, a.status]), [[0, 'failed'], [1, 'succeeded']]);
});

test('a broker down while a step.completed is handled: 503 for redelivery, and the redelivery sends the next step', async ({ store }) => {
  const emitted: HippoEvent[] = [];
  let brokerUp = true;
  const app = createApp({ store, emit: async (e) => { if (!brokerUp) throw new Error('broker down'); emitted.push(e); }, stepTimeoutSeconds: 60 });
  await submit(app, { pipeline: 'equity-panel', params: { start: '2010-01-04', end: '2010-01-31' }, id: 'blip' });
  const done = completion(emitted[0]!.data as StepRequested);
  brokerUp = false;
  assert.is((await post(app, done)).status, 503, 'not acknowledged: the broker delivers it again');
  assert.is((await getRun(app, 'blip')).status, 'running', 'the run is not failed for a broker blip');
  brokerUp = true;
  assert.is((await post(app, done)).status, 202);
  assert.equal(emitted.filter((e) => e.step === 'export').length, 1, 'the next step goes out on the redelivery');
});

test.run();
