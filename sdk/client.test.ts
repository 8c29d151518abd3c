import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DataType, type Table } from 'apache-arrow';
import { pyarrow } from '../scripts/python.ts';
import { CloudEvent } from 'cloudevents';
import { loadConfig } from '../shared/config.ts';
import { freePort, startLocalPlatform, type LocalPlatform } from '../local/dev.ts';
import { demoStore } from '../local/demo.ts';
import { eventually } from '../local/helpers.test-support.ts';
import { Hippo, HippoHttpError, ResultIntegrityError, RunFailedError, WaitTimeoutError, remoteRun, runParams } from './index.ts';

const ROOT = new URL('..', import.meta.url).pathname;
interface Ctx { dir: string; platform: LocalPlatform; hippo: Hippo }
/** The SDK against a running local platform (real function processes over HTTP), as a researcher uses it. */
const test = suite<Ctx>('sdk');

test.before(async (ctx) => {
  const { dir, store } = await demoStore({ scale: 0.1 });
  ctx.dir = dir;
  ctx.platform = await startLocalPlatform({
    config: loadConfig({ HIPPO_STORE: store.url, HIPPO_LOG_LEVEL: 'warn' }),
    store, root: ROOT, port: await freePort(), brokerPort: 0, idleMs: 30_000,
  });
  ctx.hippo = new Hippo({ url: ctx.platform.runsUrl, ingressUrl: ctx.platform.brokerUrl });
});

test.after(async (ctx) => {
  await ctx.platform?.stop();
  await rm(ctx.dir, { recursive: true, force: true });
});

const PARAMS = { start: '2015-01-02', end: '2015-03-31', fields: ['eps'] };
const columns = (t: Table) => t.schema.fields.map((f) => f.name);

test('submit → wait (with progress) → result: an Arrow Table whose sha256 the SDK checked', async ({ hippo }) => {
  const { id } = await hippo.submit('equity-panel', PARAMS);
  const seen: string[] = [];
  const run = await hippo.wait(id, { onProgress: (r) => seen.push(r.status) });
  assert.is(run.status, 'succeeded');
  assert.is(seen.at(-1), 'succeeded');
  const table = await hippo.result(id);
  assert.is(table.numRows, run.result!.rows);
  assert.ok(table.numRows > 0);
  assert.equal(columns(table), ['date', 'sid', 'ticker', 'exchange', 'close', 'ret', 'delist_ret', 'ret_adj', 'delist_imputed', 'eps']);
});

test("remote('equity-panel')(params) returns a Table; the same id twice is the same run", async ({ hippo }) => {
  const panel = hippo.remote('equity-panel');
  const a = await panel(PARAMS, { id: 'sdk-remote-1' });
  const b = await panel(PARAMS, { id: 'sdk-remote-1' });
  assert.ok(a.numRows > 0);
  assert.is(b.numRows, a.numRows);
  assert.equal(columns(a), columns(b));
});

test('the decorator form: a method that returns runParams(...) returns the run’s Table', async ({ hippo }) => {
  class Research {
    @remoteRun(() => hippo, 'equity-panel')
    panel(start: string, end: string): Promise<Table> {
      return runParams({ start, end });
    }

    @remoteRun(() => hippo, 'equity-panel')
    broken(): Promise<Table> {
      return Promise.resolve({ start: '2015-01-02' }) as unknown as Promise<Table>;
    }
  }
  const t = await new Research().panel('2015-01-02', '2015-01-30');
  assert.ok(t.numRows > 0);
  assert.equal(columns(t).slice(0, 2), ['date', 'sid']);
  try {
    await new Research().broken();
    assert.unreachable('a method not returning runParams is an error');
  } catch (err) {
    assert.instance(err, TypeError);
    assert.match((err as Error).message, /must return runParams/);
  }
});

test('a failing run raises RunFailedError naming the step and the reason', async ({ hippo }) => {
  // Nothing was recorded by 2000: the first step has no data and fails permanently.
  const { id } = await hippo.submit('equity-panel', PARAMS, { asOf: '2000-01-01T00:00:00Z' });
  try {
    await hippo.wait(id, { timeoutMs: 60_000 });
    assert.unreachable('the run must fail');
  } catch (err) {
    assert.instance(err, RunFailedError);
    const e = err as RunFailedError;
    assert.is(e.step, 'delisting-adjust');
    assert.is(e.status, 'failed');
    assert.match(e.reason, /no rows recorded by 2000-01-01/);
    assert.match(e.message, new RegExp(`run ${id} failed at step delisting-adjust: `));
  }
});

test('wait never waits forever: a timeout raises WaitTimeoutError and the run goes on', async ({ hippo }) => {
  const { id } = await hippo.submit('equity-panel', { start: '2010-01-04', end: '2015-12-31' });
  try {
    await hippo.wait(id, { timeoutMs: 1 });
    assert.unreachable('must time out');
  } catch (err) {
    assert.instance(err, WaitTimeoutError);
    assert.match((err as Error).message, /still (queued|running) after/);
  }
  assert.is((await hippo.wait(id, { timeoutMs: 120_000 })).status, 'succeeded');
});

test('API errors are HippoHttpError with the API’s code and problems', async ({ hippo }) => {
  try {
    await hippo.submit('equity-panel', { start: '2015-13-01', end: '2015-01-01' });
    assert.unreachable();
  } catch (err) {
    assert.instance(err, HippoHttpError);
    const e = err as HippoHttpError;
    assert.is(e.status, 400);
    assert.is(e.code, 'invalid_params');
    assert.ok((e.problems ?? []).length > 0);
  }
  try {
    await hippo.status('no-such-run');
    assert.unreachable();
  } catch (err) {
    assert.is((err as HippoHttpError).status, 404);
  }
  const offline = new Hippo({ url: 'http://127.0.0.1:9' });
  try {
    await offline.status('x');
    assert.unreachable();
  } catch (err) {
    assert.is((err as HippoHttpError).code, 'unreachable');
    assert.match((err as Error).message, /cannot reach Hippo at http:\/\/127\.0\.0\.1:9/);
  }
});

test('a corrupted download is caught by the sha256 check', async ({ hippo, platform }) => {
  const { id } = await hippo.submit('equity-panel', PARAMS, { id: 'sdk-integrity' });
  await hippo.wait(id);
  const flipping: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    if (!String(input).includes('/result')) return res;
    const bytes = new Uint8Array(await res.arrayBuffer());
    bytes[bytes.length - 100] ^= 0xff;
    return new Response(bytes, { status: res.status, headers: res.headers });
  };
  try {
    await new Hippo({ url: platform.runsUrl, fetch: flipping }).result(id);
    assert.unreachable();
  } catch (err) {
    assert.instance(err, ResultIntegrityError);
  }
});

test('emit: a run.requested CloudEvent to the broker ingress starts a run with the event id', async ({ hippo }) => {
  const id = `sdk-emit-${Date.now()}`;
  await hippo.emit(new CloudEvent({ id, type: 'dev.hippo.run.requested', source: '/research/notebook', datacontenttype: 'application/json', data: { pipeline: 'equity-panel', params: PARAMS } }));
  const run = await eventually(async () => hippo.status(id).catch(() => undefined), 20_000, `run ${id}`);
  assert.is(run.id, id);
  assert.ok((await hippo.result((await hippo.wait(id)).id)).numRows > 0);
});

/** Every cell as JSON-comparable values: dates as YYYY-MM-DD, instants as epoch milliseconds. */
function canonical(t: Table): unknown[][] {
  const kinds = t.schema.fields.map((f) => (DataType.isDate(f.type) ? 'date' : DataType.isTimestamp(f.type) ? 'instant' : 'value'));
  return t.toArray().map((row) =>
    t.schema.fields.map((f, i) => {
      const v = row[f.name];
      if (v === null || v === undefined) return null;
      if (kinds[i] === 'date') return new Date(v instanceof Date ? v.getTime() : Number(v)).toISOString().slice(0, 10);
      if (kinds[i] === 'instant') return Math.round(v instanceof Date ? v.getTime() : Number(v));
      return typeof v === 'bigint' ? Number(v) : v;
    }),
  );
}

const PY_CANONICAL = `
import datetime, json, sys
def cell(v):
    if isinstance(v, datetime.datetime): return round(v.timestamp() * 1000)
    if isinstance(v, datetime.date): return v.isoformat()
    return v
def dump(rows): print(json.dumps([[cell(v) for v in r] for r in rows]))
`;

test('interoperability: pyarrow and polars read the result and agree with the SDK value for value', async ({ hippo, dir }) => {
  const params = { start: '2015-01-02', end: '2015-06-30', fields: ['eps', 'revenue'], macro: ['GDP'], audit: true };
  const { id } = await hippo.submit('equity-panel', params);
  await hippo.wait(id);
  const table = await hippo.result(id);
  const expected = canonical(table);
  assert.ok(expected.length > 100);
  const path = join(dir, 'result.arrow');
  await writeFile(path, await hippo.resultBytes(id));
  const byPyarrow = JSON.parse(await pyarrow(`${PY_CANONICAL}
import pyarrow.ipc as ipc
t = ipc.open_stream(open(sys.argv[1], 'rb')).read_all()
dump([[r[c] for c in t.column_names] for r in t.to_pylist()])`, [path]));
  const byPolars = JSON.parse(await pyarrow(`${PY_CANONICAL}
import polars as pl
dump(pl.read_ipc_stream(sys.argv[1]).rows())`, [path]));
  assert.is(byPyarrow.length, expected.length);
  assert.equal(byPyarrow, expected, 'pyarrow');
  assert.equal(byPolars, expected, 'polars');
});

test.run();
