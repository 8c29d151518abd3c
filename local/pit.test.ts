import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { quotedString } from '@duckdb/node-api';
import { withDuckDB } from '../shared/duckdb.ts';
import type { FileStore } from '../shared/file-store.ts';
import { DEMO_FACTS } from '../demo/demo-facts.ts';
import { runToEnd, startEmbedded, type Embedded } from './embedded.ts';
import { demoStore } from './demo.ts';

interface Ctx { dir: string; store: FileStore; hippo: Embedded }
/**
 * equity-panel with point-in-time fundamentals and macro, end to end on the demo data:
 * the hand-placed publications, restatements, the vendor correction and the GDP vintage,
 * with the exact values DESIGN §7.2 gives them.
 */
const test = suite<Ctx>('equity-panel point in time (embedded)');
const config = { HIPPO_TIERS: [1 << 30, 4 << 30, 16 << 30], HIPPO_STEP_TIMEOUT: 600 };
const FIELDS = ['book_value', 'eps', 'net_income', 'revenue'];

test.before(async (ctx) => {
  // Recorded as of 2021 so that asOf runs in 2024 see the prices and securities.
  Object.assign(ctx, await demoStore({ scale: 0.1, recordedAt: '2021-01-31T00:00:00Z' }));
  ctx.hippo = await startEmbedded({ store: ctx.store, config });
});
test.after(async (ctx) => {
  await ctx.hippo.close();
  await rm(ctx.dir, { recursive: true, force: true });
});

type Row = Record<string, unknown>;

/** Runs the pipeline; returns the run and a lookup of (sid, date) → row of the Parquet result. */
async function panel(ctx: Ctx, params: Record<string, unknown>, asOf?: string) {
  const run = await runToEnd(ctx.hippo, { pipeline: 'equity-panel', params, asOf });
  assert.is(run.status, 'succeeded', JSON.stringify(run.error));
  const res = await ctx.hippo.runs.request(`/runs/${run.id}/result?format=parquet`);
  const path = join(ctx.dir, `${run.id}.parquet`);
  await writeFile(path, new Uint8Array(await res.arrayBuffer()));
  const rows = await withDuckDB({}, async (c) =>
    (await c.runAndReadAll(`SELECT strftime(date, '%Y-%m-%d') AS d, * EXCLUDE (date) FROM read_parquet(${quotedString(path)})`)).getRowObjectsJS() as Row[],
  );
  const at = (sid: string, date: string) => rows.find((r) => r.sid === sid && r.d === date);
  const meta = (await (await ctx.hippo.runs.request(`/runs/${run.id}`)).json()) as { result: { sha256: string }; id: string };
  return { run, rows, at, sha256: meta.result.sha256 };
}

test('publications: after the close, at and around the cutoff, before the open, date-only, a Saturday', async (ctx) => {
  for (const f of DEMO_FACTS.publications) {
    const { at } = await panel(ctx, { start: f.absentOn, end: f.presentOn, fields: FIELDS });
    assert.is(at(f.sid, f.absentOn)?.[f.field], f.previous.value, `${f.case}: on ${f.absentOn}`);
    assert.is(at(f.sid, f.presentOn)?.[f.field], f.value, `${f.case}: on ${f.presentOn}`);
  }
});

test('restatements replace a value only from their own publication, never a newer period', async (ctx) => {
  for (const r of [DEMO_FACTS.restatement, DEMO_FACTS.restatementLatest]) {
    const dates = r.expect.map((e) => e.date).sort();
    const { at } = await panel(ctx, { start: dates[0], end: dates.at(-1), fields: [r.original.field] });
    for (const e of r.expect) assert.is(at(r.original.sid, e.date)?.[r.original.field], e.value, `${r.case}: ${e.date}`);
  }
});

test('asOf: the vendor correction changes runs from its recorded_at on; same request + asOf → same bytes', async (ctx) => {
  const v = DEMO_FACTS.vendorCorrection;
  const params = { start: v.checkOn[0], end: v.checkOn.at(-1), fields: [v.field] };
  const before = '2024-05-31T23:59:59Z';
  const a = await panel(ctx, params, before);
  const b = await panel(ctx, params, before);
  const after = await panel(ctx, params, v.recordedAt);
  for (const d of v.checkOn) {
    assert.is(a.at(v.sid, d)?.[v.field], v.originalValue, d);
    assert.is(after.at(v.sid, d)?.[v.field], v.correctedValue, d);
  }
  assert.is(a.sha256, b.sha256);
  assert.is.not(a.sha256, after.sha256);
});

test('macro vintages: GDP 2018 shows its first release, then its revision', async (ctx) => {
  const m = DEMO_FACTS.macroVintage;
  const dates = m.expect.map((e) => e.date).sort();
  const { at, rows } = await panel(ctx, { start: dates[0], end: dates.at(-1), macro: [m.series] });
  const anySid = String(rows[0]!.sid);
  for (const e of m.expect) {
    const row = rows.find((r) => r.d === e.date) ?? at(anySid, e.date);
    assert.is(row?.[m.series], e.value, e.date);
    // Every security shows the same macro value on a date.
    assert.ok(rows.filter((r) => r.d === e.date).every((r) => r[m.series] === e.value));
  }
});

test('audit columns say why a value is there; maxAge empties stale values; lineage lists the parts', async (ctx) => {
  const f = DEMO_FACTS.afterClose;
  const { at, run } = await panel(ctx, { start: f.presentOn, end: f.presentOn, fields: [f.field], audit: true, maxAge: '540d' });
  const row = at(f.sid, f.presentOn)!;
  assert.is(String((row[`${f.field}__period_end`] as Date).toISOString()).slice(0, 10), f.periodEnd);
  assert.is((row[`${f.field}__published_at`] as Date).toISOString(), new Date(f.publishedAt).toISOString());
  const stale = await panel(ctx, { start: f.presentOn, end: f.presentOn, fields: [f.field], maxAge: '1d' });
  assert.is(stale.at(f.sid, f.presentOn)?.[f.field], null);
  const meta = JSON.parse(new TextDecoder().decode((await ctx.store.get(`results/${run.id}.json`))!.body));
  assert.equal(Object.keys(meta.lineage).sort(), ['fundamentals', 'memberships', 'prices', 'securities', 'symbols']);
  assert.is(meta.lineage.fundamentals.length, 2);
});

test('an unknown field is a 400 listing the fields the lake has; a hostile name never reaches SQL', async (ctx) => {
  for (const fields of [['epss'], ['eps"; DROP TABLE panel; --']]) {
    const res = await ctx.hippo.runs.request('/runs', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ pipeline: 'equity-panel', params: { start: '2019-01-02', end: '2019-01-31', fields } }),
    });
    assert.is(res.status, 400);
    const err = ((await res.json()) as { error: { code: string; message: string } }).error;
    assert.is(err.code, 'unknown_field');
    assert.match(err.message, /the lake has book_value, eps, net_income, revenue$/);
  }
});

test.run();
