// Result reuse's key (orchestration/reuse.ts) over lakes that ingest (functions/ingest/) wrote,
// read by the lake catalog: a cross-folder test, so it lives in local/ (docs/ARCHITECTURE.md).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { withDuckDB } from '../shared/duckdb.ts';
import { FileStore } from '../shared/file-store.ts';
import { loadDatasets } from '../shared/lake.ts';
import { ingestFiles } from '../functions/ingest/ingest.ts';
import { ReuseIndex, reuseKey, StoreLakeCatalog, type LakeState } from '../orchestration/index.ts';
import { Random } from '../demo/random.ts';

interface Ctx { dir: string }
/**
 * Reuse (DESIGN §14) must never serve stale or future data: two runs share a result only when
 * their steps would read the same rows. The key is built from the visible lake state (the parts
 * recorded by `asOf`, a vendor history cut at its latest visible instant), not from `asOf`.
 */
const test = suite<Ctx>('reuse: the visible lake state decides, not the asOf instant');
test.before.each(async (ctx) => {
  ctx.dir = await mkdtemp(join(tmpdir(), 'hippo-reuse-'));
});
test.after.each(async (ctx) => rm(ctx.dir, { recursive: true, force: true }));

const T = (day: number, ms = 0) => new Date(Date.UTC(2020, 0, day) + ms).toISOString();

async function deliver(store: FileStore, dir: string, dataset: 'prices' | 'fundamentals', csv: string, recordedAt: string): Promise<void> {
  const path = join(dir, `${dataset}-${Math.random().toString(36).slice(2)}.csv`);
  await writeFile(path, csv);
  await withDuckDB({}, (c) => ingestFiles(c, dataset, [{ path }], { store, tempDir: dir, recordedAt }));
}

const state = async (catalog: StoreLakeCatalog, datasets: string[], asOf: string): Promise<LakeState> =>
  Object.fromEntries(await Promise.all(datasets.map(async (d) => [d, await catalog.visible(d, asOf)] as const)));

test('parts recorded before, between and after two asOfs; a correction; a dataset the pipeline does not read', async (ctx) => {
  const store = new FileStore(join(ctx.dir, 'store'));
  const catalog = new StoreLakeCatalog(store, ctx.dir);
  const params = { start: '2010-01-04', end: '2010-01-08', fields: ['eps'] };
  const key = async (asOf: string, datasets = ['prices']) => reuseKey('equity-panel', params, await state(catalog, datasets, asOf));

  await deliver(store, ctx.dir, 'prices', 'sid,date,close\nS1,2010-01-04,10\nS2,2010-01-04,20\n', T(1));
  // Two asOfs that see the same part share a key; one before it sees nothing, and differs.
  assert.is(await key(T(2)), await key(T(9)));
  assert.is.not(await key(T(1, -1)), await key(T(2)));
  assert.equal(await catalog.visible('prices', T(1, -1)), []);
  // A correction recorded between them: the later asOf sees it, the earlier does not.
  await deliver(store, ctx.dir, 'prices', 'sid,date,close\nS1,2010-01-04,11\n', T(5));
  assert.is.not(await key(T(2)), await key(T(9)));
  assert.is(await key(T(2)), await key(T(4)), 'a part recorded after both asOfs changes neither');
  assert.is(await key(T(5)), await key(T(9)), 'recorded exactly at asOf: visible');
  // A dataset the pipeline does not read: no effect on the key.
  const before = await key(T(9));
  await deliver(store, ctx.dir, 'fundamentals', 'sid,field,period_end,value,published_at\nS1,eps,2009-12-31,1.5,2010-01-20\n', T(7));
  assert.is(await key(T(9)), before, 'fundamentals are not read by this key');
  assert.is.not(await key(T(9), ['prices', 'fundamentals']), await key(T(6), ['prices', 'fundamentals']), 'but are when read');
  // The key does not depend on the order of params' keys, and does on their values.
  assert.is(reuseKey('p', { a: 1, b: [2, 3] }, {}), reuseKey('p', { b: [2, 3], a: 1 }, {}));
  assert.is.not(reuseKey('p', { b: [2, 3] }, {}), reuseKey('p', { b: [3, 2] }, {}), 'list order is the params\' own (columns follow it)');
  assert.is.not(reuseKey('p', {}, {}), reuseKey('q', {}, {}));
});

test('random lakes with vendor histories: equal keys always mean the same as-of tables; a row recorded between two asOfs always separates them', async (ctx) => {
  const instants = [T(1), T(2), T(2, 1), T(3), T(4)];
  let shared = 0;
  for (let trial = 0; trial < 12; trial++) {
    const rng = new Random(100 + trial);
    const dir = join(ctx.dir, `t${trial}`);
    await mkdir(dir);
    const store = new FileStore(join(dir, 'store'));
    const recorded: string[] = [];
    for (let d = 0, n = rng.int(1, 3); d < n; d++) {
      if (rng.chance(0.4)) {
        // A vendor history: its own recorded_at per row.
        const rows = ['S1', 'S2'].flatMap((sid) => instants.filter(() => rng.chance(0.5)).map((at) => `${sid},2010-01-04,${rng.int(1, 99)},${at}`));
        if (rows.length === 0) continue;
        await deliver(store, dir, 'prices', `sid,date,close,recorded_at\n${rows.join('\n')}\n`, T(9));
        recorded.push(...rows.map((r) => r.split(',')[3]!));
      } else {
        const at = rng.pick(instants);
        await deliver(store, dir, 'prices', `sid,date,close\nS1,2010-01-04,${rng.int(1, 99)}\n`, at);
        recorded.push(at);
      }
    }
    const catalog = new StoreLakeCatalog(store, dir);
    const asOfs = [T(1, -1), T(1), T(1, 5), T(2), T(2, 1), T(2, 2), T(3, 7), T(4), T(8)];
    const seen = new Map<string, { key: string; table: string }>();
    for (const asOf of asOfs) {
      const key = reuseKey('equity-panel', {}, await state(catalog, ['prices'], asOf));
      const table = await withDuckDB({}, async (c) => {
        await loadDatasets(c, ['prices'], { store, tempDir: dir, asOf });
        return JSON.stringify((await c.runAndReadAll('SELECT sid, date::VARCHAR, close, recorded_at::VARCHAR FROM prices ORDER BY ALL')).getRowsJS());
      });
      seen.set(asOf, { key, table });
    }
    for (const a of asOfs) {
      for (const b of asOfs) {
        if (a >= b) continue;
        const between = recorded.some((r) => Date.parse(r) > Date.parse(a) && Date.parse(r) <= Date.parse(b));
        const [x, y] = [seen.get(a)!, seen.get(b)!];
        if (x.key === y.key) {
          shared++;
          assert.is(x.table, y.table, `trial ${trial}: ${a} and ${b} share a key, so they must read the same rows`);
        }
        assert.is(x.key !== y.key, between, `trial ${trial}: ${a} … ${b}: ${between ? 'a row recorded between them' : 'nothing recorded between them'}`);
      }
    }
  }
  assert.ok(shared > 20, `asOf pairs sharing a key: ${shared}`);
});

test('the reuse index: of many claims of one key, on two instances at once, exactly one wins; a failed computation\'s claim is taken over by its etag only', async (ctx) => {
  const store = new FileStore(join(ctx.dir, 'store'));
  const [a, b] = [new ReuseIndex(store), new ReuseIndex(new FileStore(join(ctx.dir, 'store')))];
  const claims = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).claim('k1', `run-${i}`)));
  assert.is(claims.filter(Boolean).length, 1);
  const holder = await a.get('k1');
  assert.is(holder!.runId, `run-${claims.indexOf(true)}`);
  // Taking over (the holder's computation failed): only with the etag read, once.
  const takeovers = await Promise.all([a.claim('k1', 'x', holder!.etag), b.claim('k1', 'y', holder!.etag)]);
  assert.is(takeovers.filter(Boolean).length, 1);
  assert.is(await a.claim('k1', 'z', holder!.etag), false, 'a stale etag loses');
});

test.run();
