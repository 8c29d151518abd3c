import { rm } from 'node:fs/promises';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig } from '../shared/config.ts';
import { readArrow } from '../shared/arrow-codec.ts';
import type { FileStore } from '../shared/file-store.ts';
import { pyarrow } from '../scripts/python.ts';
import { freePort, startLocalPlatform, type LocalPlatform } from './dev.ts';
import { pidsMatching } from './procs.test-support.ts';
import { demoStore } from './demo.ts';
import { eventually } from './helpers.test-support.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const IDLE_MS = 1500;
const COLUMNS = ['date', 'sid', 'ticker', 'exchange', 'close', 'ret', 'delist_ret', 'ret_adj', 'delist_imputed'];

let storeEnv = '';
interface Ctx { dir: string; store: FileStore; platform: LocalPlatform }
/**
 * The local platform for real: the broker in this process, every function a child process
 * on its own port, talking HTTP — what `npm start` runs.
 */
const test = suite<Ctx>('local platform (real processes)');

test.before(async (ctx) => {
  const { dir, store } = await demoStore({ scale: 0.3 });
  ctx.dir = dir;
  ctx.store = store;
  storeEnv = `HIPPO_STORE=${store.url}`;
  ctx.platform = await startLocalPlatform({
    config: loadConfig({ HIPPO_STORE: store.url, HIPPO_LOG_LEVEL: 'warn' }),
    store,
    root: ROOT,
    port: await freePort(),
    brokerPort: 0,
    idleMs: IDLE_MS,
  });
});

test.after(async (ctx) => {
  await ctx.platform?.stop();
  await rm(ctx.dir, { recursive: true, force: true });
});

const entry = (fn: string) => `${ROOT}functions/${fn}/main.ts`.replace(ROOT, '');
const json = async (res: Response) => (await res.json()) as Record<string, any>;

async function waitForRun(base: string, id: string) {
  return eventually(async () => {
    const run = await json(await fetch(`${base}/runs/${id}`));
    return ['succeeded', 'failed', 'cancelled'].includes(run.status) ? run : undefined;
  }, 60_000, `run ${id}`);
}

test('scale from zero, a run over HTTP, the Arrow result, scale to zero', async ({ platform, dir }) => {
  const base = platform.runsUrl;
  // Before the first event: no delisting-adjust process exists.
  assert.is(platform.runner.pid('delisting-adjust-t0'), undefined);
  assert.equal(await pidsMatching(entry('delisting-adjust'), storeEnv), []);

  const res = await fetch(`${base}/runs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ pipeline: 'equity-panel', params: { start: '2010-01-04', end: '2010-12-31' } }),
  });
  assert.is(res.status, 202);
  const { id } = await json(res);
  // While the run goes on, the step runs as its own process (seen before it idles out again:
  // on a loaded machine the rest of the run can outlast the idle period).
  const pid = await eventually(async () => platform.runner.pid('delisting-adjust-t0'), 60_000, 'delisting-adjust-t0 started by its first event');
  assert.equal(await pidsMatching(entry('delisting-adjust'), storeEnv), [pid]);
  const run = await waitForRun(base, id);
  assert.is(run.status, 'succeeded', JSON.stringify(run.error));
  assert.ok(run.steps['delisting-adjust'].attempts[0].status === 'succeeded');

  const result = await fetch(`${base}/runs/${id}/result`);
  assert.is(result.status, 200);
  assert.is(result.headers.get('content-type'), 'application/vnd.apache.arrow.stream');
  assert.is(result.headers.get('etag'), `"${run.result.sha256}"`);
  const bytes = new Uint8Array(await result.arrayBuffer());
  const table = readArrow(bytes);
  assert.equal(table.schema.fields.map((f) => f.name), COLUMNS);
  assert.is(table.numRows, run.result.rows);
  assert.ok(table.numRows > 10_000, `${table.numRows} rows`);

  // A reader Hippo did not write: pyarrow.
  const path = join(dir, 'panel.arrow');
  await writeFile(path, bytes);
  const out = await pyarrow(
    'import sys, pyarrow.ipc as ipc; t = ipc.open_stream(open(sys.argv[1], "rb")).read_all(); print(t.num_rows); print(",".join(t.schema.names)); print(t.schema.field("date").type, t.schema.field("delist_imputed").type, t.schema.field("ret_adj").type)',
    [path],
  );
  assert.equal(out.trim().split('\n'), [String(table.numRows), COLUMNS.join(','), 'date32[day] bool double']);

  // After the idle period the process is gone (scale to zero).
  await eventually(async () => platform.runner.pid('delisting-adjust-t0') === undefined, IDLE_MS * 10, 'scale to zero');
  await eventually(async () => (await pidsMatching(entry('delisting-adjust'), storeEnv)).length === 0, 5000, 'process exit');
});

test('a run requested as a binary CloudEvent at POST / succeeds, and so at the broker', async ({ platform }) => {
  for (const target of [platform.runsUrl, platform.brokerUrl]) {
    const ceId = randomUUID();
    const res = await fetch(`${target}/`, {
      method: 'POST',
      headers: {
        'ce-specversion': '1.0', 'ce-type': 'dev.hippo.run.requested', 'ce-source': 'test', 'ce-id': ceId,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ pipeline: 'equity-panel', params: { start: '2015-01-02', end: '2015-03-31' } }),
    });
    assert.is(res.status, 202);
    const run = await eventually(async () => {
      const r = await fetch(`${platform.runsUrl}/runs/${ceId}`);
      return r.status === 200 ? waitForRun(platform.runsUrl, ceId) : undefined;
    }, 60_000);
    assert.is(run.status, 'succeeded');
  }
});

test('a failing step fails its run with the step and reason (through the dead-letter sink)', async ({ platform }) => {
  // A universe no security belongs to is fine; an asOf before any data was recorded is not.
  const res = await fetch(`${platform.runsUrl}/runs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ pipeline: 'equity-panel', params: { start: '2010-01-04', end: '2010-01-31' }, asOf: '2001-01-01T00:00:00Z' }),
  });
  const { id } = await json(res);
  const run = await waitForRun(platform.runsUrl, id);
  assert.is(run.status, 'failed');
  assert.is(run.error.step, 'delisting-adjust');
  assert.is(run.error.code, 'invalid_input');
  assert.match(run.error.message, /dataset securities has no rows recorded by 2001-01-01T00:00:00.000Z/);
  assert.is((await fetch(`${platform.runsUrl}/runs/${id}/result`)).status, 409);
});

test('a function that dies is restarted: by its next event, or at once for runs', async ({ platform }) => {
  const submit = async (start: string, end: string) => {
    const res = await fetch(`${platform.runsUrl}/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ pipeline: 'equity-panel', params: { start, end } }),
    });
    return waitForRun(platform.runsUrl, (await json(res)).id);
  };
  assert.is((await submit('2011-01-03', '2011-01-31')).status, 'succeeded');
  const pid = platform.runner.pid('export-t0')!;
  assert.ok(pid);
  process.kill(pid, 'SIGKILL');
  await eventually(async () => platform.runner.pid('export-t0') === undefined, 5000, 'death noticed');
  assert.is((await submit('2011-02-01', '2011-02-28')).status, 'succeeded');
  const after = platform.runner.pid('export-t0');
  assert.ok(after && after !== pid, 'a new export process');

  const runsPid = platform.runner.pid('runs')!;
  process.kill(runsPid, 'SIGKILL');
  await eventually(async () => {
    const p = platform.runner.pid('runs');
    return p !== undefined && p !== runsPid && (await fetch(`${platform.runsUrl}/health/readiness`).then((r) => r.ok, () => false));
  }, 15_000, 'runs restarted');
  const workers = (await json(await fetch(`${platform.brokerUrl}/workers`))).workers as { service: string; restarts: number }[];
  assert.is(workers.find((w) => w.service === 'runs')!.restarts, 1);
  assert.is(workers.find((w) => w.service === 'export-t0')!.restarts, 1);
});

test('20 runs at once all succeed (ledger compare-and-swap under load)', async ({ platform }) => {
  const months = Array.from({ length: 20 }, (_, i) => {
    const y = 2006 + Math.floor(i / 12);
    const m = String((i % 12) + 1).padStart(2, '0');
    return { start: `${y}-${m}-01`, end: `${y}-${m}-28` };
  });
  const ids = await Promise.all(
    months.map(async (params) => {
      const res = await fetch(`${platform.runsUrl}/runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ pipeline: 'equity-panel', params }),
      });
      assert.is(res.status, 202);
      return (await json(res)).id as string;
    }),
  );
  const runs = await Promise.all(ids.map((id) => waitForRun(platform.runsUrl, id)));
  assert.equal(runs.map((r) => r.status), ids.map(() => 'succeeded'));
  assert.ok(runs.every((r) => r.result.rows > 100));
});

test('the CLI against the server: run --url with progress, status, fetch', async ({ platform, dir }) => {
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const { readFile } = await import('node:fs/promises');
  const exec = promisify(execFile);
  const cli = (args: string[]) => exec(process.execPath, [join(ROOT, 'bin/hippo.js'), ...args], { cwd: ROOT });
  const out = join(dir, 'cli.arrow');
  const run = await cli(['run', 'equity-panel', '--param', 'start=2013-01-02', '--param', 'end=2013-06-28', '--url', platform.runsUrl, '--id', 'cli-run-1', '--out', out]);
  assert.match(run.stderr, /submitted run cli-run-1/);
  assert.match(run.stderr, /running · \d\/2 steps/);
  assert.match(run.stderr, /run cli-run-1 succeeded: \d+ rows/);
  const table = readArrow(new Uint8Array(await readFile(out)));
  assert.equal(table.schema.fields.map((f) => f.name), COLUMNS);
  const status = JSON.parse((await cli(['status', 'cli-run-1', '--url', platform.runsUrl])).stdout);
  assert.is(status.status, 'succeeded');
  assert.is(status.result.rows, table.numRows);
  const csv = join(dir, 'cli.csv');
  await cli(['fetch', 'cli-run-1', '--url', platform.runsUrl, '--out', csv, '--format', 'csv']);
  assert.is((await readFile(csv, 'utf8')).trim().split('\n').length, table.numRows + 1);
  // A failing run through the CLI: exit 1 and the reason.
  try {
    await cli(['run', 'equity-panel', '--param', 'start=2013-01-02', '--param', 'end=2013-01-31', '--as-of', '2001-01-01T00:00:00Z', '--url', platform.runsUrl]);
    assert.unreachable('must exit 1');
  } catch (err) {
    const e = err as { code: number; stderr: string };
    assert.is(e.code, 1);
    assert.match(e.stderr, /failed at step delisting-adjust: .*no rows recorded by 2001-01-01/);
  }
});

test('GET /workers reports each service; stop leaves nothing running', async (ctx) => {
  const workers = (await json(await fetch(`${ctx.platform.runsUrl}/workers`))).workers as { service: string; ready: number }[];
  const names = workers.map((w) => w.service);
  for (const s of ['runs', 'ingest', 'retry', 'delisting-adjust-t0', 'delisting-adjust-t2', 'export-t0']) assert.ok(names.includes(s), s);
  assert.is(workers.find((w) => w.service === 'runs')!.ready, 1);
  await ctx.platform.stop();
  for (const fn of ['runs', 'delisting-adjust', 'export', 'retry', 'ingest']) assert.equal(await pidsMatching(entry(fn), storeEnv), [], fn);
});

test.run();
