import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { FileStore } from '../shared/file-store.ts';
import { withDuckDB } from '../shared/duckdb.ts';
import { keys } from '../shared/object-store.ts';
import { ingestFiles } from '../functions/ingest/ingest.ts';
import { loadDatasets } from '../shared/lake.ts';
import type { Deliver } from '../eventing/dispatcher.ts';
import { Ledger, type Run } from '../orchestration/index.ts';
import { startEmbedded, type Embedded } from './embedded.ts';
import { demoStore } from './demo.ts';

interface Ctx { dir: string; store: FileStore; one: Embedded; two: Embedded; ledger: Ledger }
/**
 * Result reuse and coalescing end to end (DESIGN §14): a request whose pipeline, params and
 * visible lake state equal a succeeded run's takes its result without running a step; one that
 * arrives while the first runs joins it — across two runs functions sharing one store.
 */
const test = suite<Ctx>('reuse and coalescing');
const config = { HIPPO_TIERS: [1 << 30, 4 << 30], HIPPO_STEP_TIMEOUT: 600 };
/** Steps take a little longer, so that requests arrive while a computation runs. */
const slow = (deliver: Deliver): Deliver => async (service, request, timeoutMs) => {
  if (service !== 'runs' && service !== 'retry') await new Promise((r) => setTimeout(r, 150));
  return deliver(service, request, timeoutMs);
};

test.before(async (ctx) => {
  Object.assign(ctx, await demoStore({ scale: 0.1 }));
  ctx.one = await startEmbedded({ store: ctx.store, config, wrapDeliver: slow });
  ctx.two = await startEmbedded({ store: ctx.store, config, wrapDeliver: slow });
  ctx.ledger = new Ledger(ctx.store);
});
test.after(async (ctx) => {
  await Promise.all([ctx.one.close(), ctx.two.close()]);
  await rm(ctx.dir, { recursive: true, force: true });
});

const submit = async (h: Embedded, body: Record<string, unknown>) => {
  const res = await h.runs.request('/runs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.is(res.status, 202, await res.clone().text());
  return (await res.json()) as { id: string; status: string; reusedFrom?: string };
};
const ended = async (ctx: Ctx, id: string): Promise<Run> => {
  for (let i = 0; i < 600; i++) {
    const run = await ctx.ledger.mustGet(id);
    if (['succeeded', 'failed', 'cancelled'].includes(run.status)) return run;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`run ${id} did not end`);
};
const computed = (run: Run) => Object.keys(run.steps).length > 0;
/** `/metrics`' hippo_runs_computation_total of both runs functions, summed by label. */
const counts = async (ctx: Ctx): Promise<Record<string, number>> => {
  const out: Record<string, number> = { computed: 0, reused: 0, coalesced: 0 };
  for (const h of [ctx.one, ctx.two]) {
    const text = await (await h.runs.request('/metrics')).text();
    for (const [, label, n] of text.matchAll(/^hippo_runs_computation_total\{computation="(\w+)"\} (\d+)$/gm)) out[label!] += Number(n);
  }
  return out;
};

test('a finished computation is reused at once: its own id, status succeeded, reusedFrom, the same result; asOf does not matter, the lake does', async (ctx) => {
  const params = { start: '2016-01-04', end: '2016-06-30', fields: ['eps'] };
  const first = await ended(ctx, (await submit(ctx.one, { pipeline: 'equity-panel', params })).id);
  assert.is(first.status, 'succeeded');
  assert.ok(computed(first));
  // Later, another asOf, the other runs function: nothing was recorded in between.
  const again = await submit(ctx.two, { pipeline: 'equity-panel', params, asOf: new Date().toISOString() });
  assert.is(again.status, 'succeeded', 'answered at submit');
  assert.is(again.reusedFrom, first.id);
  const reused = await ctx.ledger.mustGet(again.id);
  assert.equal(reused.steps, {}, 'no step executed');
  assert.equal(reused.result, first.result);
  const download = await ctx.two.runs.request(`/runs/${again.id}/result`);
  assert.is(download.status, 200);
  assert.is(download.headers.get('etag'), `"${first.result!.sha256}"`);
  assert.is((await download.arrayBuffer()).byteLength, first.result!.bytes);
  // reuse: false always computes.
  const fresh = await ended(ctx, (await submit(ctx.one, { pipeline: 'equity-panel', params, reuse: false })).id);
  assert.ok(computed(fresh) && !fresh.reusedFrom);
  assert.is(fresh.result!.sha256, first.result!.sha256);
  // A correction recorded after the first run: the same request computes again, with the new data.
  const path = join(ctx.dir, 'correction.csv');
  await withDuckDB({}, async (c) => {
    await loadDatasets(c, ['prices'], { store: ctx.store, tempDir: ctx.dir, asOf: first.asOf });
    const [sid, date] = (await c.runAndReadAll("SELECT sid, date::VARCHAR FROM prices WHERE date = DATE '2016-03-01' ORDER BY sid LIMIT 1")).getRowsJS()[0]!;
    await writeFile(path, `sid,date,close\n${sid},${date},1234.5\n`);
    await ingestFiles(c, 'prices', [{ path }], { store: ctx.store, tempDir: ctx.dir, recordedAt: new Date().toISOString() });
  });
  const after = await ended(ctx, (await submit(ctx.two, { pipeline: 'equity-panel', params })).id);
  assert.ok(computed(after), 'a part recorded since: no reuse');
  assert.is.not(after.result!.sha256, first.result!.sha256);
  // …and the first run's asOf still sees the old lake: that reuses the first result.
  const asBefore = await submit(ctx.one, { pipeline: 'equity-panel', params, asOf: first.asOf });
  assert.is(asBefore.reusedFrom, first.id);
});

test('the same request ten times at once on two runs functions: one computation, ten runs with its result', async (ctx) => {
  const params = { start: '2017-01-03', end: '2017-12-29', fields: ['eps', 'revenue'] };
  const before = await counts(ctx);
  const ids = await Promise.all(Array.from({ length: 10 }, (_, i) => submit(i % 2 ? ctx.one : ctx.two, { pipeline: 'equity-panel', params }).then((r) => r.id)));
  const runs = await Promise.all(ids.map((id) => ended(ctx, id)));
  const computing = runs.filter(computed);
  assert.is(computing.length, 1, `computations: ${computing.map((r) => r.id).join(', ')}`);
  const leader = computing[0]!;
  for (const r of runs) {
    assert.is(r.status, 'succeeded', r.id);
    assert.is(r.result!.sha256, leader.result!.sha256);
    if (r !== leader) assert.is(r.reusedFrom, leader.id);
  }
  assert.ok(runs.some((r) => r.coalesced), 'at least one joined while it ran');
  assert.equal([...(leader.followers ?? [])].sort(), runs.filter((r) => r.coalesced).map((r) => r.id).sort());
  // /metrics counts them: one computed, the other nine reused or coalesced.
  const after = await counts(ctx);
  const delta = Object.fromEntries(Object.keys(after).map((k) => [k, after[k]! - before[k]!]));
  assert.equal(delta, { computed: 1, reused: runs.filter((r) => r.reusedFrom && !r.coalesced).length, coalesced: runs.filter((r) => r.coalesced).length });
});

test('a computation that fails fails every run attached to it, with its reason; the next request computes again', async (ctx) => {
  // A part that is not Parquet: the step that reads it refuses the run (422, naming the part).
  const bad = keys.lakePart('securities', '20100101T000000000Z', 'BROKEN');
  await ctx.store.put(bad, 'not parquet');
  try {
    const params = { start: '2018-01-02', end: '2018-03-30', fields: ['eps'] };
    const ids = await Promise.all([0, 1, 2].map((i) => submit(i % 2 ? ctx.one : ctx.two, { pipeline: 'equity-panel', params }).then((r) => r.id)));
    const runs = await Promise.all(ids.map((id) => ended(ctx, id)));
    assert.is(runs.filter(computed).length, 1);
    for (const r of runs) {
      assert.is(r.status, 'failed', r.id);
      assert.is(r.error!.code, 'invalid_input');
      assert.match(r.error!.message, bad);
    }
    const next = await ended(ctx, (await submit(ctx.one, { pipeline: 'equity-panel', params })).id);
    assert.ok(computed(next), 'a failed computation is not reused');
    assert.is(next.status, 'failed');
  } finally {
    await ctx.store.delete(bad);
  }
});

test.run();
