// The lake's as-of read (shared/lake.ts) on parts that ingest (functions/ingest/) wrote: a
// cross-folder test, so it lives in local/ (docs/ARCHITECTURE.md).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { withDuckDB } from '../shared/duckdb.ts';
import { FileStore } from '../shared/file-store.ts';
import { lakeParts, loadDatasets, loadDistinct, partitionBounds, partsByInstant } from '../shared/lake.ts';
import { ingestFiles } from '../functions/ingest/ingest.ts';
import { Random } from '../demo/random.ts';

interface Ctx { dir: string; store: FileStore }
/**
 * The lake "as of" an instant (DESIGN §4): per key, the row recorded last by then; equal
 * instants in two parts, the later part. Lakes built the way users build them — deliveries
 * through ingest, some with one `recorded_at`, some vendor histories with their own — and read
 * back through `loadDatasets`, against the rule computed here row by row.
 */
const test = suite<Ctx>('lake');
test.before.each(async (ctx) => {
  ctx.dir = await mkdtemp(join(tmpdir(), 'hippo-lake-'));
  ctx.store = new FileStore(join(ctx.dir, 'store'));
});
test.after.each(async (ctx) => rm(ctx.dir, { recursive: true, force: true }));

const INSTANTS = ['2020-01-01T00:00:00.000Z', '2020-02-01T00:00:00.000Z', '2020-02-01T00:00:00.000Z', '2020-03-01T12:30:00.000Z'];
/** A vendor history's instants for the versions of one key. */
const HISTORY = [INSTANTS[0]!, INSTANTS[1]!, INSTANTS[3]!];
const SIDS = ['S1', 'S2', 'S3'];
const DATES = ['2010-01-04', '2010-01-05', '2010-01-06', '2010-01-07'];

interface Row { sid: string; date: string; close: number; recordedAt: string }

test('loadDatasets keeps the latest row per key as of asOf, for random lakes of plain deliveries and vendor histories', async (ctx) => {
  let fastLakes = 0;
  for (let trial = 0; trial < 24; trial++) {
    const rng = new Random(trial + 1);
    const dir = join(ctx.dir, `t${trial}`);
    const store = new FileStore(join(dir, 'store'));
    const stored: { key: string; rows: Row[] }[] = [];
    const deliveries = rng.int(1, 4);
    for (let d = 0; d < deliveries; d++) {
      // A vendor history (its own recorded_at, a key at several instants) in about one lake in three.
      const history = trial % 3 === 2 && d === 0;
      const at = rng.pick(INSTANTS);
      const rows: Row[] = [];
      for (const sid of SIDS) {
        for (const date of DATES) {
          if (rng.chance(0.5)) continue;
          const versions = history ? rng.int(1, 3) : 1;
          for (let v = 0; v < versions; v++) rows.push({ sid, date, close: rng.int(0, 999) / 10, recordedAt: history ? HISTORY[v]! : at });
        }
      }
      if (rows.length === 0) rows.push({ sid: 'S1', date: DATES[0]!, close: 1, recordedAt: at });
      const csv = history
        ? `sid,date,close,recorded_at\n${rows.map((r) => `${r.sid},${r.date},${r.close},${r.recordedAt}`).join('\n')}\n`
        : `sid,date,close\n${rows.map((r) => `${r.sid},${r.date},${r.close}`).join('\n')}\n`;
      const path = join(ctx.dir, `t${trial}-d${d}.csv`);
      await writeFile(path, csv);
      const [part] = await withDuckDB({}, (c) => ingestFiles(c, 'prices', [{ path, name: `d${d}.csv` }], { store, tempDir: ctx.dir, recordedAt: at }));
      stored.push({ key: part!.key, rows });
    }
    const asOf = rng.pick([...INSTANTS, '2021-01-01T00:00:00.000Z']);
    const range = trial % 4 === 1 ? { column: 'date', from: DATES[1]!, to: DATES[2]! } : undefined;

    // The rule, row by row: recorded by asOf; the latest recorded_at; equal instants, the later part.
    const expected = new Map<string, Row & { part: string }>();
    for (const { key, rows } of stored) {
      for (const r of rows) {
        if (Date.parse(r.recordedAt) > Date.parse(asOf)) continue;
        if (range && (r.date < range.from || r.date > range.to)) continue;
        const id = `${r.sid} ${r.date}`;
        const best = expected.get(id);
        const later = !best || Date.parse(r.recordedAt) > Date.parse(best.recordedAt) || (r.recordedAt === best.recordedAt && key > best.part);
        if (later) expected.set(id, { ...r, part: key });
      }
    }

    const got = await withDuckDB({}, async (c) => {
      const parts = await lakeParts(store, 'prices', asOf);
      const paths = await Promise.all(parts.map((k) => store.localPath(k)));
      if (parts.length > 1 && (await partsByInstant(c, parts, paths))) fastLakes++;
      await loadDatasets(c, ['prices'], { store, tempDir: ctx.dir, asOf, ...(range ? { ranges: { prices: range } } : {}) });
      const r = await c.runAndReadAll(`SELECT sid, strftime(date, '%Y-%m-%d'), close, strftime(recorded_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%gZ') FROM prices ORDER BY 1, 2`);
      return r.getRowsJS().map(([sid, date, close, at]) => `${sid} ${date} ${close} ${at}`);
    });
    const want = [...expected.values()].sort((a, b) => `${a.sid} ${a.date}`.localeCompare(`${b.sid} ${b.date}`)).map((r) => `${r.sid} ${r.date} ${r.close} ${r.recordedAt}`);
    assert.equal(got, want, `trial ${trial}: ${stored.length} parts, asOf ${asOf}${range ? ', ranged' : ''}`);

    // Fan-out (DESIGN §14): the partitions of the read, sid ranges cut by partitionBounds, are disjoint and make up the whole;
    // the distinct dates in the window, read without the rows, are those of the whole.
    const count = 2 + (trial % 2);
    const window = range ?? { column: 'date', from: DATES[0]!, to: DATES.at(-1)! };
    const { pieces, dates } = await withDuckDB({}, async (c) => {
      const pieces: string[] = [];
      for (let index = 0; index < count; index++) {
        const sids = await partitionBounds(c, 'prices', 'sid', { index, count }, { store, tempDir: ctx.dir, asOf });
        await loadDatasets(c, ['prices'], { store, tempDir: ctx.dir, asOf, ...(range ? { ranges: { prices: range } } : {}), partitions: { prices: sids } });
        const r = await c.runAndReadAll(`SELECT sid, strftime(date, '%Y-%m-%d'), close, strftime(recorded_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%gZ') FROM prices`);
        pieces.push(...r.getRowsJS().map(([sid, date, close, at]) => `${sid} ${date} ${close} ${at}`));
      }
      await loadDistinct(c, 'dates', 'prices', window, { store, tempDir: ctx.dir, asOf });
      const d = await c.runAndReadAll(`SELECT strftime(date, '%Y-%m-%d') FROM dates ORDER BY 1`);
      return { pieces, dates: d.getRowsJS().map(([x]) => String(x)) };
    });
    assert.equal(pieces.sort(), got, `trial ${trial}: ${count} partitions make up the read, each row once`);
    assert.equal(dates, [...new Set(want.map((w) => w.split(' ')[1]!))].sort(), `trial ${trial}: the window's dates without the rows`);
  }
  assert.ok(fastLakes >= 5, `the one-instant-per-part reading ran on ${fastLakes} lakes of several parts`);
});

test('partitionBounds cuts the sorted sids recorded by asOf into equal runs; open at both ends; empty ranges when there are fewer sids than partitions', async (ctx) => {
  const path = join(ctx.dir, 'bounds.csv');
  const sids = Array.from({ length: 10 }, (_, i) => `S${String(i).padStart(2, '0')}`);
  await writeFile(path, `sid,date,close\n${sids.map((s) => `${s},2010-01-04,1`).join('\n')}\n`);
  const store = new FileStore(join(ctx.dir, 'bounds-store'));
  await withDuckDB({}, (c) => ingestFiles(c, 'prices', [{ path }], { store, tempDir: ctx.dir, recordedAt: '2020-01-01T00:00:00.000Z' }));
  const lake = { store, tempDir: ctx.dir, asOf: '2021-01-01T00:00:00.000Z' };
  await withDuckDB({}, async (c) => {
    const cut = (count: number) => Promise.all(Array.from({ length: count }, (_, index) => partitionBounds(c, 'prices', 'sid', { index, count }, lake)));
    assert.equal(await cut(3), [{ column: 'sid', to: 'S03' }, { column: 'sid', from: 'S03', to: 'S06' }, { column: 'sid', from: 'S06' }]);
    const many = await cut(16);
    assert.is(many.length, 16);
    // Each sid in exactly one range, whatever the count.
    for (const s of [...sids, 'A', 'Z']) assert.is(many.filter((r) => (r.from === undefined || s >= r.from) && (r.to === undefined || s < r.to)).length, 1, s);
    // Nothing recorded by asOf: partition 0 takes everything, the others nothing.
    const before = { ...lake, asOf: '2019-01-01T00:00:00.000Z' };
    assert.equal(await partitionBounds(c, 'prices', 'sid', { index: 0, count: 2 }, before), { column: 'sid' });
    assert.equal(await partitionBounds(c, 'prices', 'sid', { index: 1, count: 2 }, before), { column: 'sid', from: '', to: '' });
  });
});

test('partsByInstant ranks one-instant parts by instant, then key; a vendor history part sends the read back to sorting every row', async (ctx) => {
  const write = async (name: string, csv: string, at: string) => {
    const path = join(ctx.dir, name);
    await writeFile(path, csv);
    return (await withDuckDB({}, (c) => ingestFiles(c, 'prices', [{ path }], { store: ctx.store, tempDir: ctx.dir, recordedAt: at })))[0]!.key;
  };
  const late = await write('late.csv', 'sid,date,close\nS1,2010-01-04,1\n', '2020-03-01T00:00:00.000Z');
  const early = await write('early.csv', 'sid,date,close\nS1,2010-01-04,2\n', '2020-01-01T00:00:00.000Z');
  await withDuckDB({}, async (c) => {
    const parts = [late, early];
    const paths = await Promise.all(parts.map((k) => ctx.store.localPath(k)));
    assert.equal(await partsByInstant(c, parts, paths), [paths[1], paths[0]]);
  });
  const history = await write('history.csv', 'sid,date,close,recorded_at\nS1,2010-01-04,3,2019-01-01T00:00:00Z\nS1,2010-01-04,4,2019-06-01T00:00:00Z\n', '2020-01-01T00:00:00.000Z');
  await withDuckDB({}, async (c) => {
    const parts = [late, early, history];
    assert.is(await partsByInstant(c, parts, await Promise.all(parts.map((k) => ctx.store.localPath(k)))), undefined);
  });
});

test.run();
