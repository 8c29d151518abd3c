import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { binaryMessage, type HippoEvent } from '../../shared/cloudevents.ts';
import { FileStore } from '../../shared/file-store.ts';
import { keys } from '../../shared/object-store.ts';
import { EventTypes, makeEvent } from '../../eventing/catalog.ts';
import { createRuns } from './app.ts';
import { Ledger } from '../../orchestration/index.ts';
import type { Run } from '../../orchestration/index.ts';

interface Ctx { dir: string; store: FileStore }
const test = suite<Ctx>('standing runs');
test.before.each(async (ctx) => {
  ctx.dir = await mkdtemp(join(tmpdir(), 'hippo-standing-'));
  ctx.store = new FileStore(ctx.dir);
});
test.after.each(async (ctx) => rm(ctx.dir, { recursive: true, force: true }));

const T0 = Date.parse('2026-01-01T00:00:00Z');
const PARAMS = { start: '2010-01-04', end: '2010-01-31' };

function platform(store: FileStore) {
  const clock = { now: T0 };
  const emitted: HippoEvent[] = [];
  let n = 0;
  const { app, standing } = createRuns({
    store, emit: async (e) => void emitted.push(e), stepTimeoutSeconds: 60, watchDebounceSeconds: 10, now: () => new Date(clock.now),
  });
  // Ids in order, so the tests can name the re-runs.
  (standing as unknown as { newId: () => string }).newId = () => `rerun-${++n}`;
  const post = (e: HippoEvent) => {
    const m = binaryMessage(e);
    return app.request('/', { method: 'POST', headers: m.headers, body: m.body });
  };
  const changed = (dataset: string, recordedAt: string) =>
    post(makeEvent(EventTypes.datasetChanged, '/hippo/ingest', { dataset, parts: [`lake/${dataset}/part-x.parquet`], recordedAt }));
  const run = async (id: string) => (await (await app.request(`/runs/${id}`)).json()) as Run;
  const submit = (body: Record<string, unknown>) =>
    app.request('/runs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pipeline: 'equity-panel', params: PARAMS, ...body }) });
  return { clock, emitted, standing, changed, run, submit, app };
}

test('a change to a dataset the run read → after the debounce, a new run as of then, linked both ways', async ({ store }) => {
  const p = platform(store);
  assert.is((await p.submit({ id: 'panel', watch: true, asOf: '2025-12-01T00:00:00Z' })).status, 202);
  const first = await p.run('panel');
  assert.ok(first.watch);
  assert.equal(first.datasets, ['memberships', 'prices', 'securities', 'symbols']);
  assert.equal(await new Ledger(store).standing(), ['panel']);

  assert.is((await p.changed('prices', '2025-12-15T00:00:00Z')).status, 202);
  assert.equal(await p.standing.rerunDue(), [], 'not before the debounce');
  p.clock.now += 5_000;
  await p.changed('symbols', '2025-12-16T00:00:00Z'); // joins the same re-run
  p.clock.now += 6_000;
  assert.equal(await p.standing.rerunDue(), ['rerun-1']);
  const head = await p.run('panel');
  assert.is(head.nextRunId, 'rerun-1');
  assert.equal(head.rerun!.datasets, ['prices', 'symbols']);
  const next = await p.run('rerun-1');
  assert.is(next.previousRunId, 'panel');
  assert.is(next.asOf, new Date(p.clock.now).toISOString(), 'as of the re-run: sees the change');
  assert.ok(next.watch);
  assert.equal(next.params, first.params);
  assert.equal(await new Ledger(store).standing(), ['rerun-1'], 'the new run is the head of the chain');
  assert.equal(await p.standing.rerunDue(), [], 'started once');
});

test('changes the run cannot see or did not read start nothing; an unwatched run stops its chain', async ({ store }) => {
  const p = platform(store);
  await p.submit({ id: 'panel', watch: true, asOf: '2025-12-01T00:00:00Z' });
  await p.submit({ id: 'plain', asOf: '2025-12-01T00:00:00Z' });
  await p.changed('prices', '2025-11-01T00:00:00Z'); // recorded before the run's asOf: it saw it
  await p.changed('fundamentals', '2025-12-15T00:00:00Z'); // not read (no fields)
  p.clock.now += 60_000;
  assert.equal(await p.standing.rerunDue(), []);
  await p.changed('prices', '2025-12-15T00:00:00Z');
  assert.is((await p.app.request('/runs/panel/watch', { method: 'DELETE' })).status, 200);
  p.clock.now += 60_000;
  assert.equal(await p.standing.rerunDue(), []);
  assert.is((await p.run('panel')).watch, false);
  assert.equal(await new Ledger(store).standing(), []);
});

test('a crash between fixing the next run and submitting it: the next rerunDue submits that very run', async ({ store }) => {
  const p = platform(store);
  await p.submit({ id: 'panel', watch: true, asOf: '2025-12-01T00:00:00Z' });
  const ledger = new Ledger(store);
  await ledger.update('panel', (r) => {
    r.nextRunId = 'fixed-id';
    r.rerun = { after: '2025-12-20T00:00:00Z', datasets: ['prices'], asOf: '2025-12-31T00:00:00Z' };
    return true;
  });
  assert.equal(await p.standing.rerunDue(), ['fixed-id']);
  assert.is((await p.run('fixed-id')).asOf, '2025-12-31T00:00:00.000Z');
  assert.not.ok(await store.head(keys.standingRun('panel')));
});

test.run();
