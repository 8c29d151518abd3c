import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { withDuckDB } from '../../shared/duckdb.ts';
import { InputError, ValidationError } from '../../shared/errors.ts';
import { FileStore } from '../../shared/file-store.ts';
import { loadDatasets } from '../../shared/lake.ts';
import { deliveryPartId, ingestFiles } from './ingest.ts';

interface Ctx { dir: string; store: FileStore }
const test = suite<Ctx>('ingest');
test.before.each(async (ctx) => {
  ctx.dir = await mkdtemp(join(tmpdir(), 'hippo-ingest-'));
  ctx.store = new FileStore(join(ctx.dir, 'store'));
});
test.after.each(async (ctx) => rm(ctx.dir, { recursive: true, force: true }));

const T0 = '2020-01-01T00:00:00.000Z';

function pricesCsv(rows = 30): string {
  let csv = 'sid,date,close,ret,volume\n';
  for (let i = 1; i <= rows; i++) csv += `S1,2010-01-${String(i).padStart(2, '0')},${10 + i},0.01,100\n`;
  return csv;
}

async function ingest(ctx: Ctx, dataset: string, files: Record<string, string>, recordedAt = T0, deliveryId?: string) {
  const paths: { path: string; name: string }[] = [];
  for (const [name, text] of Object.entries(files)) {
    const p = join(ctx.dir, name);
    await writeFile(p, text);
    paths.push({ path: p, name });
  }
  return withDuckDB({}, (c) => ingestFiles(c, dataset, paths, { store: ctx.store, tempDir: ctx.dir, recordedAt, deliveryId }));
}

async function expectError(p: Promise<unknown>): Promise<InputError> {
  try {
    await p;
  } catch (err) {
    return err as InputError;
  }
  throw new Error('expected an error');
}

test('a good CSV becomes one immutable Parquet part with recorded_at', async (ctx) => {
  const parts = await ingest(ctx, 'prices', { 'prices.csv': pricesCsv() });
  assert.is(parts.length, 1);
  assert.is(parts[0]!.rows, 30);
  assert.match(parts[0]!.key, /^lake\/prices\/part-20200101T000000000Z-[0-9A-Z]{26}\.parquet$/);
  const rows = await withDuckDB({}, async (c) => {
    await loadDatasets(c, ['prices'], { store: ctx.store, tempDir: ctx.dir, asOf: '2021-01-01T00:00:00Z' });
    return (await c.runAndReadAll(`SELECT count(*) n, sum(close) s, min(recorded_at)::VARCHAR r, typeof(any_value(date)) t FROM prices`)).getRowObjectsJS()[0]!;
  });
  assert.equal(rows, { n: 30n, s: 30 * 10 + 465, r: '2020-01-01 00:00:00+00', t: 'DATE' });
});

test('a bad date in row 17 names the file, row 17 and the column; the lake is unchanged', async (ctx) => {
  await ingest(ctx, 'prices', { 'first.csv': pricesCsv() });
  const before = await ctx.store.list('lake/');
  const lines = pricesCsv().split('\n');
  lines[17] = 'S1,2010-13-45,11,0.01,100'; // line 18 of the file = data row 17
  const err = await expectError(ingest(ctx, 'prices', { 'good.csv': pricesCsv(), 'prices-bad.csv': lines.join('\n') }));
  assert.instance(err, InputError);
  assert.is(err.status, 422);
  assert.is(err.message, 'prices-bad.csv: row 17, column "date": "2010-13-45" is not a date (YYYY-MM-DD)');
  assert.equal(err.problems![0], { file: 'prices-bad.csv', row: 17, column: 'date', value: '2010-13-45', message: '"2010-13-45" is not a date (YYYY-MM-DD)' });
  // Neither file was written, although good.csv came first.
  assert.equal(await ctx.store.list('lake/'), before);
});

test('every kind of problem is named', async (ctx) => {
  const cases: [string, string, string][] = [
    ['prices', 'sid,date,close\nS1,2010-01-04,abc\n', 'p.csv: row 1, column "close": "abc" is not a finite number'],
    ['prices', 'sid,close\nS1,1\n', 'p.csv: column "date": required column "date" is missing'],
    ['prices', 'sid,date,clsoe\nS1,2010-01-04,1\n', 'p.csv: column "clsoe": unknown column "clsoe" (prices has sid, date, close, ret, volume, recorded_at)'],
    ['prices', 'sid,date,close\n,2010-01-04,1\n', 'p.csv: row 1, column "sid": required value is empty'],
    ['prices', 'sid,date,close\nS1,2010-01-04,1\nS1,2010-01-04,2\n', 'p.csv: row 2, column "sid,date": row 2 repeats the key (sid, date) of row 1'],
    ['prices', 'sid,date,close\n', 'p.csv: has no data rows'],
    ['prices', 'sid,date,close\nS1,04/01/2010,1\n', 'p.csv: row 1, column "date": "04/01/2010" is not a date (YYYY-MM-DD)'],
    ['securities', 'sid,exchange,listed_on,delisted_on,delist_code\nS1,NYSE,2010-01-04,2009-01-01,552\n', 'p.csv: row 1, column "delisted_on": delisted_on 2009-01-01 is before listed_on 2010-01-04'],
    ['securities', 'sid,exchange,listed_on,delist_code\nS1,NYSE,2010-01-04,5.5\n', 'p.csv: row 1, column "delist_code": "5.5" is not an integer'],
    ['fundamentals', 'sid,field,period_end,value,published_at\nS1,eps,2010-03-31,1.2,2010-04-20 16:05\n', 'p.csv: row 1, column "published_at": "2010-04-20 16:05" is not a date (YYYY-MM-DD) or a timestamp with an offset'],
  ];
  for (const [dataset, csv, message] of cases) {
    const err = await expectError(ingest(ctx, dataset, { 'p.csv': csv }));
    assert.is(err.message, message);
  }
  assert.equal(await ctx.store.list('lake/'), []);
});

test('the same key and recorded_at twice — across files, or differing only by spaces — is refused', async (ctx) => {
  const across = await expectError(ingest(ctx, 'prices', { 'a.csv': 'sid,date,close\nS1,2010-01-04,1\n', 'b.csv': 'sid,date,close\nS2,2010-01-04,1\nS1,2010-01-04,2\n' }));
  assert.is(across.message, 'b.csv: row 2, column "sid,date": row 2 repeats the key (sid, date) and recorded_at of a.csv row 1');
  const spaces = await expectError(ingest(ctx, 'prices', { 'ws.csv': 'sid,date,close\nS1,2010-01-04,1\n S1 ,2010-01-04,2\n' }));
  assert.is(spaces.message, 'ws.csv: row 2, column "sid,date": row 2 repeats the key (sid, date) of row 1');
  assert.equal(await ctx.store.list('lake/'), []);
});

test('a missing file and compressed CSV are named, not crashed on', async (ctx) => {
  const missing = await expectError(withDuckDB({}, (c) => ingestFiles(c, 'prices', [{ path: join(ctx.dir, 'nope.csv'), name: 'nope.csv' }], { store: ctx.store, tempDir: ctx.dir, recordedAt: T0 })));
  assert.instance(missing, InputError);
  assert.is(missing.message, 'nope.csv: no such file');
  const gz = await expectError(ingest(ctx, 'prices', { 'p.csv.gz': 'x' }));
  assert.match(gz.message, /^p\.csv\.gz: unknown file format/);
});

test('unknown dataset and unreadable files are clear errors', async (ctx) => {
  const err = await expectError(ingest(ctx, 'pricez', { 'p.csv': pricesCsv() }));
  assert.instance(err, ValidationError);
  assert.is(err.message, 'unknown dataset "pricez"');
  const ragged = await expectError(ingest(ctx, 'prices', { 'r.csv': 'sid,date,close\nS1,2010-01-04,1,2,3,4\n' }));
  assert.is(ragged.message, 'r.csv: row 1: expected 3 columns, found more');
});

test('a file with its own recorded_at keeps it; a correction is a new part and wins as of its time', async (ctx) => {
  await ingest(ctx, 'prices', { 'v1.csv': 'sid,date,close\nS1,2010-01-04,10\nS1,2010-01-05,11\n' }, '2020-01-01T00:00:00Z');
  await ingest(ctx, 'prices', { 'fix.csv': 'sid,date,close,recorded_at\nS1,2010-01-05,11.5,2020-06-01T12:00:00Z\n' });
  const closeAsOf = (asOf: string) =>
    withDuckDB({}, async (c) => {
      await loadDatasets(c, ['prices'], { store: ctx.store, tempDir: ctx.dir, asOf });
      return (await c.runAndReadAll(`SELECT close FROM prices WHERE date = '2010-01-05'`)).getRowsJS()[0]![0];
    });
  assert.is(await closeAsOf('2020-03-01T00:00:00Z'), 11);
  assert.is(await closeAsOf('2020-07-01T00:00:00Z'), 11.5);
  assert.is((await ctx.store.list('lake/prices/')).length, 2);
});

test('Parquet input is validated the same way', async (ctx) => {
  const path = join(ctx.dir, 'in.parquet');
  await withDuckDB({}, (c) =>
    c.run(`COPY (SELECT 'S1' AS sid, DATE '2010-01-04' AS date, 1.5 AS close UNION ALL SELECT 'S2', NULL, 2.0) TO '${path}' (FORMAT parquet)`),
  );
  const err = await expectError(withDuckDB({}, (c) => ingestFiles(c, 'prices', [{ path, name: 'in.parquet' }], { store: ctx.store, tempDir: ctx.dir, recordedAt: T0 })));
  assert.is(err.message, 'in.parquet: row 2, column "date": required value is empty');
});

async function lakeRows(ctx: Ctx, dataset: string): Promise<number> {
  return withDuckDB({}, async (c) => {
    await loadDatasets(c, [dataset], { store: ctx.store, tempDir: ctx.dir, asOf: '2030-01-01T00:00:00Z' });
    return Number((await c.runAndReadAll(`SELECT count(*) FROM ${dataset}`)).getRowsJS()[0]![0]);
  });
}

test('a redelivery (same delivery id, same bytes) is ingested once: same keys, marked existing, no new rows', async (ctx) => {
  const first = await ingest(ctx, 'prices', { 'p.csv': pricesCsv() }, T0, '/hippo/sources/pubsub pubsub-vendor-7');
  assert.is(first.length, 1);
  assert.is(first[0]!.existing, undefined);
  assert.match(first[0]!.key, /^lake\/prices\/part-20200101T000000000Z-[0-9A-HJKMNP-TV-Z]{26}\.parquet$/);
  const again = await ingest(ctx, 'prices', { 'p.csv': pricesCsv() }, T0, '/hippo/sources/pubsub pubsub-vendor-7');
  assert.equal(again.map((p) => [p.key, p.rows, p.existing]), [[first[0]!.key, 30, true]]);
  assert.equal((await ctx.store.list('lake/prices/')).map((o) => o.key), [first[0]!.key]);
  assert.is(await lakeRows(ctx, 'prices'), 30);
});

test('other bytes under a reused delivery id, or another delivery id, are new parts; without one every call appends', async (ctx) => {
  await ingest(ctx, 'prices', { 'p.csv': pricesCsv() }, T0, 'd1');
  const changed = await ingest(ctx, 'prices', { 'p.csv': pricesCsv().replace('S1,2010-01-01,11', 'S1,2010-01-01,12') }, T0, 'd1');
  assert.is(changed[0]!.existing, undefined);
  const other = await ingest(ctx, 'prices', { 'p.csv': pricesCsv() }, T0, 'd2');
  assert.is(other[0]!.existing, undefined);
  // `hippo ingest` (no delivery id): random ids, the same file twice is two parts.
  const cli1 = await ingest(ctx, 'prices', { 'p.csv': pricesCsv() }, '2020-01-03T00:00:00Z');
  const cli2 = await ingest(ctx, 'prices', { 'p.csv': pricesCsv() }, '2020-01-03T00:00:00Z');
  assert.is.not(cli1[0]!.key, cli2[0]!.key);
  assert.is((await ctx.store.list('lake/prices/')).length, 5);
});

test('delivery part ids: ULID-shaped, stable, and different per delivery, file position and bytes', () => {
  const id = deliveryPartId('src id', 0, 'a'.repeat(64));
  assert.match(id, /^[0-9A-HJKMNP-TV-Z]{26}$/);
  assert.is(deliveryPartId('src id', 0, 'a'.repeat(64)), id);
  const others = [deliveryPartId('src id2', 0, 'a'.repeat(64)), deliveryPartId('src id', 1, 'a'.repeat(64)), deliveryPartId('src id', 0, 'b'.repeat(64))];
  assert.is(new Set([id, ...others]).size, 4);
});

test.run();
