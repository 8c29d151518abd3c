import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudEvent } from 'cloudevents';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { binaryMessage, type HippoEvent } from '../../shared/cloudevents.ts';
import { FileStore } from '../../shared/file-store.ts';
import { EventTypes, workersStatusSchema, type StepFailed, type StepRequested, type WorkerStatus } from '../../eventing/catalog.ts';
import { createRunDomain } from '../../orchestration/index.ts';
import { createApp } from './app.ts';

interface Ctx { dir: string; store: FileStore }
const test = suite<Ctx>('watchdog');
test.before.each(async (ctx) => {
  ctx.dir = await mkdtemp(join(tmpdir(), 'hippo-watchdog-'));
  ctx.store = new FileStore(ctx.dir);
});
test.after.each(async (ctx) => rm(ctx.dir, { recursive: true, force: true }));

const WORKERS: WorkerStatus[] = [{ service: 'pit-join-t0', fn: 'pit-join', tier: 0, ready: 1, busy: 1, restarts: 2, oomKills: 1 }];

/** The platform as the watchdog meets it: the run domain (as the runs function uses it) and the watchdog on one ledger and one clock. */
function platform(store: FileStore, opts: { stepTimeouts?: Record<string, number>; workers?: () => Promise<WorkerStatus[]> } = {}) {
  const clock = { now: Date.parse('2026-01-01T00:00:00Z') };
  const emitted: HippoEvent[] = [];
  const emit = async (e: HippoEvent) => void emitted.push(e);
  const now = () => new Date(clock.now);
  const { coordinator, ledger } = createRunDomain({ store, emit, stepTimeoutSeconds: 60, stepTimeouts: opts.stepTimeouts, now });
  const watchdog = createApp({ store, emit, stepTimeoutSeconds: 60, stepTimeouts: opts.stepTimeouts, now, workers: opts.workers ?? (async () => WORKERS) });
  const tick = async () => {
    const m = binaryMessage(new CloudEvent({ type: 'dev.knative.sources.ping', source: '/apis/v1/namespaces/hippo/pingsources/watchdog', data: {} }));
    const res = await watchdog.request('/', { method: 'POST', headers: m.headers, body: m.body });
    assert.is(res.status, 200);
    return (await res.json()) as { swept: { redispatched: number; failed: number }; workers?: number };
  };
  const submit = async (id: string) =>
    (await coordinator.submit({ pipeline: 'equity-panel', params: { start: '2010-01-04', end: '2010-01-31' }, id, asOf: '2025-12-31T00:00:00Z' })).created;
  const run = (id: string) => ledger.mustGet(id);
  return { clock, emitted, tick, submit, run, coordinator, watchdog };
}

test('a tick re-dispatches a step past its deadline and reports the workers as dev.hippo.workers.status', async ({ store }) => {
  const p = platform(store);
  assert.ok(await p.submit('late'));
  assert.equal((await p.tick()).swept, { redispatched: 0, failed: 0 }, 'not late yet');
  p.clock.now += 61_000;
  const out = await p.tick();
  assert.equal(out.swept, { redispatched: 1, failed: 0 });
  const again = p.emitted.filter((e) => e.type === EventTypes.stepRequested).at(-1)!;
  assert.is(again.step, 'delisting-adjust');
  assert.is(again.attempt, '2');
  assert.is(again.tier, '0', 'a timeout is not a memory problem: same tier');
  const status = p.emitted.filter((e) => e.type === EventTypes.workersStatus).at(-1)!;
  assert.is(status.source, '/hippo/watchdog');
  assert.equal(workersStatusSchema.parse(status.data).workers, WORKERS);
  const run = await p.run('late');
  assert.equal(run.steps['delisting-adjust']!.attempts.map((a) => [a.attempt, a.status, a.error?.code]), [[1, 'failed', 'timeout'], [2, 'dispatched', undefined]]);
});

test('a step that keeps missing its deadline fails its run with timeout after 3 tries, in bounded time', async ({ store }) => {
  const p = platform(store);
  await p.submit('hung');
  for (let i = 0; i < 3; i++) {
    p.clock.now += 61_000;
    await p.tick();
  }
  const run = await p.run('hung');
  assert.is(run.status, 'failed');
  assert.is(run.error!.code, 'timeout');
  assert.is(run.error!.step, 'delisting-adjust');
  assert.match(run.error!.message, 'did not answer within 60 s, 3 times');
  assert.ok(p.emitted.some((e) => e.type === EventTypes.runFailed));
  p.clock.now += 61_000;
  assert.equal((await p.tick()).swept, { redispatched: 0, failed: 0 }, 'a failed run is left alone');
});

test('only timeouts count against the bound: an attempt lost to out of memory does not', async ({ store }) => {
  const p = platform(store);
  await p.submit('mixed');
  const first = p.emitted.find((e) => e.type === EventTypes.stepRequested)!.data as StepRequested;
  const oom: StepFailed = { ...first, error: { code: 'out_of_memory', message: 'oom', retriable: true, nextTier: 1 } };
  assert.is((await p.coordinator.onStepFailed(oom)).steps['delisting-adjust']!.tier, 1, 'the next attempt one tier up');
  for (let i = 0; i < 2; i++) {
    p.clock.now += 61_000;
    await p.tick();
  }
  let run = await p.run('mixed');
  assert.is(run.status, 'running');
  assert.equal(run.steps['delisting-adjust']!.attempts.map((a) => [a.tier, a.error?.code ?? a.status]), [
    [0, 'out_of_memory'], [1, 'timeout'], [1, 'timeout'], [1, 'dispatched'],
  ]);
  p.clock.now += 61_000;
  await p.tick();
  run = await p.run('mixed');
  assert.is(run.status, 'failed');
  assert.is(run.error!.code, 'timeout');
});

test('per-step deadlines (HIPPO_STEP_TIMEOUTS) set each dispatched step its own', async ({ store }) => {
  const p = platform(store, { stepTimeouts: { 'delisting-adjust': 5 } });
  await p.submit('quick');
  const s = (await p.run('quick')).steps['delisting-adjust']!;
  assert.is(Date.parse(s.deadline!) - Date.parse(s.dispatchedAt!), 5_000);
  p.clock.now += 6_000;
  assert.equal((await p.tick()).swept, { redispatched: 1, failed: 0 });
});

test('workers that cannot be read do not stop the sweep; GET /workers reports them', async ({ store }) => {
  const p = platform(store, { workers: async () => { throw new Error('forbidden: pods is forbidden'); } });
  await p.submit('w');
  p.clock.now += 61_000;
  const out = await p.tick();
  assert.equal(out.swept, { redispatched: 1, failed: 0 });
  assert.is(out.workers, undefined);
  const ok = platform(store);
  const body = workersStatusSchema.parse(await (await ok.watchdog.request('/workers')).json());
  assert.equal(body.workers, WORKERS);
});

test.run();
