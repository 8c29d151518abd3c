import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { quotedString } from '@duckdb/node-api';
import { readArrow } from '../shared/arrow-codec.ts';
import { withDuckDB } from '../shared/duckdb.ts';
import type { FileStore } from '../shared/file-store.ts';
import { DEMO_FACTS } from '../demo/demo-facts.ts';
import { runToEnd, startEmbedded, type Embedded } from './embedded.ts';
import { demoStore } from './demo.ts';

interface Ctx { dir: string; store: FileStore; hippo: Embedded }
/**
 * The equity-panel end to end on the demo data, in one process (the same apps, trigger
 * table and dispatcher as the local platform): the §7.1 rules checked on the hand-placed
 * cases of the demo dataset, through the result a user downloads.
 */
const test = suite<Ctx>('equity-panel end to end (embedded)');
const config = { HIPPO_TIERS: [1 << 30, 4 << 30, 16 << 30], HIPPO_STEP_TIMEOUT: 600 };

test.before(async (ctx) => {
  Object.assign(ctx, await demoStore({ scale: 0.3 }));
  ctx.hippo = await startEmbedded({ store: ctx.store, config });
});
test.after(async (ctx) => {
  await ctx.hippo.close();
  await rm(ctx.dir, { recursive: true, force: true });
});

/** Runs the pipeline, downloads the Parquet result and opens it as the DuckDB view `panel`. */
async function panel(ctx: Ctx, params: Record<string, unknown>, query: (sql: (q: string) => Promise<Record<string, unknown>[]>) => Promise<void>) {
  const run = await runToEnd(ctx.hippo, { pipeline: 'equity-panel', params });
  assert.is(run.status, 'succeeded', JSON.stringify(run.error));
  const res = await ctx.hippo.runs.request(`/runs/${run.id}/result?format=parquet`);
  const path = join(ctx.dir, `${run.id}.parquet`);
  await writeFile(path, new Uint8Array(await res.arrayBuffer()));
  await withDuckDB({}, async (c) => {
    await c.run(`CREATE VIEW panel AS SELECT * FROM read_parquet(${quotedString(path)})`);
    await query(async (q) => (await c.runAndReadAll(q)).getRowObjectsJS() as Record<string, unknown>[]);
  });
  return run;
}

const day = (d: unknown) => (d as Date).toISOString().slice(0, 10);

test('the full span: every hand-placed delisting gets exactly the §7.1 treatment', async (ctx) => {
  await panel(ctx, { start: DEMO_FACTS.firstDate, end: DEMO_FACTS.lastDate }, async (sql) => {
    for (const f of DEMO_FACTS.delistings) {
      const rows = await sql(`SELECT date, ret, delist_ret, ret_adj, delist_imputed FROM panel WHERE sid = '${f.sid}' ORDER BY date DESC LIMIT 2`);
      const [last, before] = rows as { date: Date; ret: number | null; delist_ret: number | null; ret_adj: number | null; delist_imputed: boolean }[];
      assert.is(day(last!.date), f.lastPriceDate, `${f.case}: last row`);
      assert.is(last!.delist_ret, f.shumwayDlret, f.case);
      assert.is(last!.delist_imputed, f.imputed, f.case);
      const expected = f.shumwayDlret === null ? last!.ret : last!.ret === null ? f.shumwayDlret : (1 + last!.ret) * (1 + f.shumwayDlret) - 1;
      assert.ok(Math.abs((last!.ret_adj ?? NaN) - (expected ?? NaN)) < 1e-12 || (last!.ret_adj === null && expected === null), f.case);
      // The row before is an ordinary day.
      assert.is(before!.delist_ret, null);
      assert.is(before!.ret_adj, before!.ret);
      assert.is(before!.delist_imputed, false);
    }
    // The 2007 delisting is on every panel date it traded, and on none after.
    const f = DEMO_FACTS.delisted2007;
    const [{ n, expected }] = (await sql(
      `SELECT (SELECT count(*) FROM panel WHERE sid = '${f.sid}') AS n,
              (SELECT count(DISTINCT date) FROM panel WHERE date <= DATE '${f.delistedOn}') AS expected`,
    )) as { n: bigint; expected: bigint }[];
    assert.is(n, expected);
    // Imputation happens only on a sid's last row, at exactly a Shumway value, and every
    // hand-placed imputed delisting is among them.
    const imputed = await sql(`
      SELECT p.sid, p.delist_ret, p.date = (SELECT max(date) FROM panel q WHERE q.sid = p.sid) AS last_row, p.exchange
      FROM panel p WHERE delist_imputed ORDER BY sid`);
    for (const r of imputed) {
      assert.ok(r.last_row, `${r.sid}: imputed on its last row`);
      assert.is(r.delist_ret, r.exchange === 'NASDAQ' ? -0.55 : -0.3, String(r.sid));
    }
    const handImputed = DEMO_FACTS.delistings.filter((d) => d.imputed).map((d) => d.sid);
    for (const s of handImputed) assert.ok(imputed.some((r) => r.sid === s), s);
    assert.ok(imputed.length > handImputed.length, 'random performance delistings are imputed too');
    const rows = await sql(`SELECT count(*) AS n FROM panel WHERE delist_imputed AND NOT delist_ret IS NOT NULL`);
    assert.is(rows[0]!.n, 0n);
  });
});

test('a reused ticker shows the right company on every date; a ticker change switches on its day', async (ctx) => {
  await panel(ctx, { start: '2008-01-02', end: '2013-12-31' }, async (sql) => {
    const { first, second, ticker } = DEMO_FACTS.tickerReuse;
    const acme = await sql(`SELECT sid, min(date) AS lo, max(date) AS hi FROM panel WHERE ticker = '${ticker}' GROUP BY sid ORDER BY sid`);
    assert.equal(acme.map((r) => [r.sid, day(r.lo), day(r.hi)]), [
      [first.sid, '2008-01-02', first.validTo],
      [second.sid, second.validFrom, '2013-12-31'],
    ]);
    const c = DEMO_FACTS.tickerChange;
    const t = await sql(`SELECT date, ticker FROM panel WHERE sid = '${c.sid}' AND date BETWEEN DATE '${c.old.validTo}' AND DATE '${c.new.validFrom}' ORDER BY date`);
    assert.equal(t.map((r) => [day(r.date), r.ticker]), [[c.old.validTo, c.old.ticker], [c.new.validFrom, c.new.ticker]]);
  });
});

test('halted days keep their row with empty close, ret, ret_adj', async (ctx) => {
  await panel(ctx, { start: '2009-01-02', end: '2016-12-30' }, async (sql) => {
    for (const h of DEMO_FACTS.halts) {
      const rows = await sql(`SELECT close, ret, ret_adj, ticker FROM panel WHERE sid = '${h.sid}' AND date = DATE '${h.date}'`);
      assert.is(rows.length, 1, `${h.sid} ${h.date}`);
      assert.equal({ ...rows[0], ticker: undefined }, { close: null, ret: null, ret_adj: null, ticker: undefined });
    }
  });
});

test('an index universe: a removed member is out from its removal date', async (ctx) => {
  const m = DEMO_FACTS.largecapRemoval;
  await panel(ctx, { start: '2015-06-01', end: '2015-06-30', universe: m.indexName }, async (sql) => {
    const rows = await sql(`SELECT max(date) AS last FROM panel WHERE sid = '${m.sid}'`);
    assert.is(day(rows[0]!.last), m.lastMemberDay);
    // The universe is the index, not the market: a fraction of the listed securities.
    const [{ inIndex }] = (await sql(`SELECT count(DISTINCT sid) AS inIndex FROM panel WHERE date = DATE '${m.removedOn}'`)) as { inIndex: bigint }[];
    assert.ok(inIndex > 0n && inIndex <= 30n, `${inIndex} members at scale 0.3 (100 × 0.3 = 30 at most)`);
  });
});

test('the Arrow result: §6.1 columns and types, sorted by date, sid; ETag is its sha256', async (ctx) => {
  const run = await runToEnd(ctx.hippo, { pipeline: 'equity-panel', params: { start: '2010-01-04', end: '2010-02-26' } });
  const res = await ctx.hippo.runs.request(`/runs/${run.id}/result`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  const { createHash } = await import('node:crypto');
  assert.is(res.headers.get('etag'), `"${createHash('sha256').update(bytes).digest('hex')}"`);
  const t = readArrow(bytes);
  assert.equal(
    t.schema.fields.map((f) => `${f.name}:${f.type}`),
    ['date:Date32<DAY>', 'sid:Utf8', 'ticker:Utf8', 'exchange:Utf8', 'close:Float64', 'ret:Float64', 'delist_ret:Float64', 'ret_adj:Float64', 'delist_imputed:Bool'],
  );
  const dates = t.getChild('date')!.toArray() as number[];
  const sids = t.getChild('sid')!.toArray() as string[];
  for (let i = 1; i < t.numRows; i++) {
    assert.ok(dates[i - 1]! < dates[i]! || (dates[i - 1] === dates[i] && sids[i - 1]! < sids[i]!), `row ${i} out of order`);
  }
  const meta = JSON.parse(new TextDecoder().decode((await ctx.store.get(`results/${run.id}.json`))!.body));
  assert.is(meta.rows, t.numRows);
  assert.equal(Object.keys(meta.lineage).sort(), ['memberships', 'prices', 'securities', 'symbols']);
  assert.is(meta.lineage.prices.length, 1);
  const csv = await (await ctx.hippo.runs.request(`/runs/${run.id}/result?format=csv`)).text();
  assert.is(csv.trim().split('\n').length, t.numRows + 1);
});

test('a run whose data does not exist as of asOf fails with the step and reason', async (ctx) => {
  const run = await runToEnd(ctx.hippo, { pipeline: 'equity-panel', params: { start: '2010-01-04', end: '2010-02-26' }, asOf: '2001-01-01T00:00:00Z' });
  assert.is(run.status, 'failed');
  assert.is(run.error!.step, 'delisting-adjust');
  assert.is(run.error!.code, 'invalid_input');
});

test.run();
