import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig } from '../shared/config.ts';
import type { FileStore } from '../shared/file-store.ts';
import { ensureKcat } from '../scripts/kcat.mjs';
import { Hippo } from '../sdk/index.ts';
import { freePort, startLocalPlatform, type LocalPlatform } from './dev.ts';
import { demoStore } from './demo.ts';
import { eventually, kafkaBrokers } from './helpers.test-support.ts';

interface Ctx { dir: string; store: FileStore; platform: LocalPlatform; hippo: Hippo; brokers: string; topic: string; kcat: string }
/**
 * The local platform on a real Kafka broker (KAFKA_BROKERS): the same functions and trigger
 * table, every event through the topic in CloudEvents binary mode. Clients Hippo did not
 * write (kcat) start runs and read Hippo's events.
 */
const test = suite<Ctx>('local platform on Kafka (real broker, real processes)');
const ROOT = new URL('..', import.meta.url).pathname;
const exec = promisify(execFile);

test.before(async (ctx) => {
  ctx.brokers = await kafkaBrokers();
  ctx.kcat = await ensureKcat();
  ctx.topic = `hippo-${randomUUID()}`;
  Object.assign(ctx, await demoStore({ scale: 0.1 }));
  ctx.platform = await startLocalPlatform({
    config: loadConfig({ HIPPO_STORE: ctx.store.url, KAFKA_BROKERS: ctx.brokers, HIPPO_TOPIC: ctx.topic, HIPPO_LOG_LEVEL: 'error' }),
    store: ctx.store, root: ROOT, port: await freePort(), brokerPort: 0, idleMs: 30_000,
  });
  ctx.hippo = new Hippo({ url: ctx.platform.runsUrl, ingressUrl: ctx.platform.brokerUrl });
});

test.after(async (ctx) => {
  await ctx.platform?.stop();
  await rm(ctx.dir, { recursive: true, force: true });
});

type Record = { key: string; headers: string[]; payload: string };
const header = (r: Record, name: string) => { const i = r.headers.indexOf(name); return i >= 0 && i % 2 === 0 ? r.headers[i + 1] : undefined; };

async function records(ctx: Ctx): Promise<Record[]> {
  const { stdout } = await exec(ctx.kcat, ['-C', '-J', '-e', '-q', '-o', 'beginning', '-b', ctx.brokers, '-t', ctx.topic], { timeout: 30_000, maxBuffer: 1 << 26 });
  return stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record);
}

test('equity-panel and transcripts runs succeed end to end over Kafka', async ({ hippo }) => {
  const panel = await hippo.remote('equity-panel')({ start: '2015-01-02', end: '2015-06-30', fields: ['eps'] }, { timeoutMs: 120_000 });
  assert.ok(panel.numRows > 100);
  const turns = await hippo.remote('transcripts')({ start: '2020-01-01', end: '2020-12-31' }, { timeoutMs: 120_000 });
  assert.ok(turns.numRows > 100);
});

test('kcat: a binary-mode run.requested starts a run; Hippo\'s step.* and run.completed records carry ce_* headers and key = run id', async (ctx) => {
  const id = `kcat-${Date.now()}`;
  await new Promise<void>((resolve, reject) => {
    const child = execFile(ctx.kcat, ['-P', '-b', ctx.brokers, '-t', ctx.topic, '-k', id,
      '-H', 'ce_specversion=1.0', '-H', 'ce_type=dev.hippo.run.requested', '-H', 'ce_source=/kcat', '-H', `ce_id=${id}`,
      '-H', 'content-type=application/json'], (err) => (err ? reject(err) : resolve()));
    child.stdin!.end(JSON.stringify({ pipeline: 'equity-panel', params: { start: '2015-01-02', end: '2015-01-30' } }));
  });
  const run = await eventually(async () => ctx.hippo.status(id).catch(() => undefined), 30_000, `run ${id}`);
  assert.is((await ctx.hippo.wait(run.id, { timeoutMs: 120_000 })).status, 'succeeded');
  const mine = await eventually(async () => {
    const rs = (await records(ctx)).filter((r) => r.key === id);
    return rs.some((r) => header(r, 'ce_type') === 'dev.hippo.run.completed') ? rs : undefined;
  }, 30_000, 'run.completed on the topic');
  const types = mine.map((r) => header(r, 'ce_type'));
  for (const t of ['dev.hippo.run.requested', 'dev.hippo.step.requested', 'dev.hippo.step.completed', 'dev.hippo.run.completed']) {
    assert.ok(types.includes(t), `${t} in ${types.join(', ')}`);
  }
  for (const r of mine) {
    assert.is(header(r, 'ce_specversion'), '1.0');
    assert.ok(header(r, 'ce_id'));
    assert.ok(header(r, 'ce_source'));
  }
  const completed = mine.find((r) => header(r, 'ce_type') === 'dev.hippo.step.completed')!;
  assert.is(header(completed, 'ce_runid'), id);
  assert.is(header(completed, 'ce_partitionkey'), id);
  assert.is(header(completed, 'content-type'), 'application/json');
});

test('fan-out over Kafka: P = 7 and 64 give the bytes of P = 1 for equity-panel and transcripts; each partition\'s step.requested is keyed <run id>/<step id>', async (ctx) => {
  const asOf = new Date().toISOString();
  const sha = async (pipeline: string, params: { [k: string]: unknown }, partitions: number) => {
    const { id } = await ctx.hippo.submit(pipeline, params, { asOf, partitions, reuse: false });
    const run = await ctx.hippo.wait(id, { timeoutMs: 180_000 });
    assert.is(run.status, 'succeeded', `${pipeline} P=${partitions}: ${JSON.stringify(run.error)}`);
    return { id, sha256: run.result!.sha256, steps: Object.keys(run.steps) };
  };
  const panel = { start: '2015-01-02', end: '2015-12-31', fields: ['eps'], macro: ['GDP'] };
  const one = await sha('equity-panel', panel, 1);
  for (const p of [7, 64]) assert.is((await sha('equity-panel', panel, p)).sha256, one.sha256, `equity-panel P=${p}`);
  const turns = { start: '2019-01-01', end: '2021-12-31' };
  const whole = await sha('transcripts', turns, 1);
  const seven = await sha('transcripts', turns, 7);
  assert.is(seven.sha256, whole.sha256, 'transcripts P=7');
  assert.is(seven.steps.length, 7 + 1);
  const requested = (await records(ctx)).filter((r) => header(r, 'ce_type') === 'dev.hippo.step.requested' && header(r, 'ce_runid') === seven.id);
  const keys = new Set(requested.map((r) => r.key));
  for (const stepId of seven.steps.filter((s) => s !== 'export')) assert.ok(keys.has(`${seven.id}/${stepId}`), `a record keyed ${seven.id}/${stepId}`);
  assert.ok(keys.has(seven.id), 'export (the fan-in) is keyed by the run');
});

test('the broker ingress answers 202 only once Kafka has the record', async (ctx) => {
  const id = `ingress-${Date.now()}`;
  const res = await fetch(`${ctx.platform.brokerUrl}/`, {
    method: 'POST',
    headers: { 'ce-specversion': '1.0', 'ce-type': 'dev.hippo.run.requested', 'ce-source': '/test', 'ce-id': id, 'ce-partitionkey': id, 'content-type': 'application/json' },
    body: JSON.stringify({ pipeline: 'equity-panel', params: { start: '2015-01-02', end: '2015-01-09' } }),
  });
  assert.is(res.status, 202);
  // Read right after the 202, without waiting: the record is already on the topic.
  const rs = (await records(ctx)).filter((r) => r.key === id);
  assert.ok(rs.some((r) => header(r, 'ce_id') === id));
  assert.is((await ctx.hippo.wait(id, { timeoutMs: 120_000 })).status, 'succeeded');
});

test.run();
