import { execFile } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { FileStore } from '../shared/file-store.ts';
import { demoStore } from '../local/demo.ts';

const exec = promisify(execFile);
const ROOT = new URL('..', import.meta.url).pathname;

async function hippo(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [join(ROOT, 'bin/hippo.js'), ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      maxBuffer: 1 << 26,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

interface Ctx { dir: string; store: FileStore; env: Record<string, string> }
/** The `hippo` command as a user runs it: a separate process, no server running. */
const test = suite<Ctx>('hippo CLI');

test.before(async (ctx) => {
  const { dir, store } = await demoStore({ scale: 0.3 });
  Object.assign(ctx, { dir, store, env: { HIPPO_STORE: store.url } });
});
test.after(async (ctx) => rm(ctx.dir, { recursive: true, force: true }));

test('hippo run … --format csv --out panel.csv works with no server', async ({ dir, env }) => {
  const out = join(dir, 'panel.csv');
  const r = await hippo(['run', 'equity-panel', '--params', '{"start":"2010-01-04","end":"2010-03-31"}', '--format', 'csv', '--out', out], env);
  assert.is(r.code, 0, r.stderr);
  const lines = (await readFile(out, 'utf8')).trim().split('\n');
  assert.is(lines[0], 'date,sid,ticker,exchange,close,ret,delist_ret,ret_adj,delist_imputed');
  assert.ok(lines.length > 1000, `${lines.length} lines`);
  assert.match(lines[1]!, /^2010-01-04,S\d+,/);
  const rows = Number(/succeeded: (\d+) rows/.exec(r.stderr)?.[1]);
  assert.is(rows, lines.length - 1);
});

test('--param pairs and --as-of: the same request with the same asOf gives the same bytes', async ({ dir, env }) => {
  const asOf = new Date().toISOString();
  const run = (out: string) =>
    hippo(['run', 'equity-panel', '--param', 'start=2012-01-03', '--param', 'end=2012-02-28', '--as-of', asOf, '--out', out], env);
  const a = await run(join(dir, 'a.arrow'));
  const b = await run(join(dir, 'b.arrow'));
  assert.is(a.code, 0, a.stderr);
  assert.is(b.code, 0, b.stderr);
  const [x, y] = [await readFile(join(dir, 'a.arrow')), await readFile(join(dir, 'b.arrow'))];
  assert.ok(x.length > 1000);
  assert.ok(x.equals(y), 'identical Arrow bytes');
});

test('exit 2 with the field named for a bad request; exit 1 with the reason for a failed run', async ({ env }) => {
  const bad = await hippo(['run', 'equity-panel', '--param', 'start=2010-01-04'], env);
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /params\.end/);
  const unknown = await hippo(['run', 'no-such-pipeline'], env);
  assert.is(unknown.code, 2);
  assert.match(unknown.stderr, /unknown pipeline "no-such-pipeline"/);
  const early = await hippo(['run', 'equity-panel', '--param', 'start=2010-01-04', '--param', 'end=2010-02-01', '--as-of', '2001-01-01T00:00:00Z'], env);
  assert.is(early.code, 1);
  assert.match(early.stderr, /failed at step delisting-adjust: .*dataset securities has no rows recorded by 2001-01-01/);
});

test('hippo ingest: a bad row is exit 2 naming file, row and column; the lake is unchanged', async ({ dir, env, store }) => {
  const before = await store.list('lake/');
  const file = join(dir, 'bad-prices.csv');
  const rows = ['sid,date,close'];
  for (let i = 1; i <= 20; i++) rows.push(`S00001,2021-01-${String(i).padStart(2, '0')},1`);
  rows[17] = 'S00001,2021-01-32,1';
  await writeFile(file, rows.join('\n') + '\n');
  const r = await hippo(['ingest', 'prices', file], env);
  assert.is(r.code, 2);
  assert.match(r.stderr, /bad-prices\.csv: row 17, column "date": "2021-01-32" is not a date/);
  assert.equal(await store.list('lake/'), before);
  const good = join(dir, 'more-prices.csv');
  await writeFile(good, 'sid,date,close\nS00001,2021-01-04,1\n');
  const ok = await hippo(['ingest', 'prices', good], env);
  assert.is(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /more-prices\.csv: 1 rows → lake\/prices\/part-/);
});

test('usage errors exit 2', async ({ env }) => {
  assert.is((await hippo(['run'], env)).code, 2);
  assert.is((await hippo(['nonsense'], env)).code, 2);
  assert.is((await hippo(['run', 'equity-panel', '--params', '{oops'], env)).code, 2);
  assert.is((await hippo(['--help'], env)).code, 0);
});

test.run();
