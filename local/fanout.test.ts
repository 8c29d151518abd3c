import { rm } from 'node:fs/promises';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { FileStore } from '../shared/file-store.ts';
import { Ledger, type Run } from '../orchestration/index.ts';
import { runToEnd, startEmbedded, type Embedded } from './embedded.ts';
import { demoStore } from './demo.ts';

interface Ctx { dir: string; store: FileStore; hippo: Embedded; asOf: string }
/**
 * Fan-out (DESIGN §14) end to end on the demo data: the same request and asOf give the same
 * bytes (sha256) whatever the number of partitions, and every partition is its own entry in the
 * run, with its own attempt.
 */
const test = suite<Ctx>('fan-out: the result does not depend on the partitions');
// Every run here computes (reuse: false): the same request at another P would otherwise take the first result.
const config = { HIPPO_TIERS: [1 << 30, 4 << 30, 16 << 30], HIPPO_STEP_TIMEOUT: 600 };

test.before(async (ctx) => {
  Object.assign(ctx, await demoStore({ scale: 0.3 }));
  ctx.asOf = new Date().toISOString(); // one asOf for every run: only the partitions differ
  ctx.hippo = await startEmbedded({ store: ctx.store, config });
});
test.after(async (ctx) => {
  await ctx.hippo.close();
  await rm(ctx.dir, { recursive: true, force: true });
});

async function shaAt(ctx: Ctx, pipeline: string, params: Record<string, unknown>, partitions: number): Promise<{ sha256: string; run: Run }> {
  const done = await runToEnd(ctx.hippo, { pipeline, params, asOf: ctx.asOf, partitions, reuse: false });
  assert.is(done.status, 'succeeded', `${pipeline} P=${partitions}: ${JSON.stringify(done.error)}`);
  const run = await new Ledger(ctx.store).mustGet(done.id);
  return { sha256: run.result!.sha256, run };
}

test('equity-panel with fields and macro: the same sha256 for P = 1, 2, 7 and 64; each partition its own step', async (ctx) => {
  const params = { start: '2010-01-04', end: '2012-12-31', fields: ['eps', 'revenue'], macro: ['GDP', 'CPI'] };
  const one = await shaAt(ctx, 'equity-panel', params, 1);
  assert.equal(Object.keys(one.run.steps), ['delisting-adjust', 'pit-join-fundamentals', 'pit-join-macro', 'export']);
  for (const p of [2, 7, 64]) {
    const { sha256, run } = await shaAt(ctx, 'equity-panel', params, p);
    assert.is(sha256, one.sha256, `P=${p}: the same bytes as P=1`);
    assert.is(run.partitions, p);
    const partitions = Object.entries(run.steps).filter(([, s]) => s.step === 'pit-join' && s.params.kind === 'macro');
    assert.equal(partitions.map(([id, s]) => [id, s.partition]), Array.from({ length: p }, (_, i) => [`pit-join-macro-p${i}`, { index: i, count: p }]));
    assert.ok(Object.values(run.steps).every((s) => s.status === 'succeeded' && s.attempts.length === 1), `P=${p}: each step once`);
    assert.is(Object.keys(run.steps).length, 3 * p + 1);
  }
});

test('transcripts: the same sha256 for P = 1, 2, 7 and 64', async (ctx) => {
  const params = { start: '2019-01-01', end: '2021-12-31' };
  const one = await shaAt(ctx, 'transcripts', params, 1);
  for (const p of [2, 7, 64]) {
    const { sha256, run } = await shaAt(ctx, 'transcripts', params, p);
    assert.is(sha256, one.sha256, `P=${p}: the same bytes as P=1`);
    assert.is(Object.keys(run.steps).length, p + 1);
    if (p === 7) assert.ok(Object.values(run.steps).filter((s) => s.step === 'transcript-split').every((s) => s.outputs!.turns!.rows > 0), 'every partition has calls to split');
  }
});

test('automatic: the planner picks P from the lake\'s statistics (HIPPO_PARTITION_ROWS / _BYTES); the bytes of P = 1', async (ctx) => {
  const small = await startEmbedded({ store: ctx.store, config: { ...config, HIPPO_PARTITION_ROWS: 20_000, HIPPO_PARTITION_BYTES: 1024 ** 2 } });
  try {
    const auto = async (pipeline: string, params: Record<string, unknown>) => {
      const done = await runToEnd(small, { pipeline, params, asOf: ctx.asOf, reuse: false });
      assert.is(done.status, 'succeeded', JSON.stringify(done.error));
      return new Ledger(ctx.store).mustGet(done.id);
    };
    const panelParams = { start: '2010-01-04', end: '2012-12-31', fields: ['eps'] };
    const panel = await auto('equity-panel', panelParams);
    // The window's price rows over 20,000 a partition.
    assert.ok((panel.partitions ?? 1) >= 3, `equity-panel split in ${panel.partitions}`);
    assert.is(panel.result!.sha256, (await shaAt(ctx, 'equity-panel', panelParams, 1)).sha256);
    const turnsParams = { start: '2019-01-01', end: '2021-12-31' };
    const turns = await auto('transcripts', turnsParams);
    assert.ok((turns.partitions ?? 1) >= 2, `transcripts split in ${turns.partitions}`);
    assert.is(turns.result!.sha256, (await shaAt(ctx, 'transcripts', turnsParams, 1)).sha256);
    // The defaults (a million rows, 64 MiB of text a partition) leave the demo lake whole.
    const whole = await runToEnd(ctx.hippo, { pipeline: 'equity-panel', params: panelParams, asOf: ctx.asOf, reuse: false });
    assert.is((await new Ledger(ctx.store).mustGet(whole.id)).partitions, undefined);
  } finally {
    await small.close();
  }
});

test('bigger than one invocation: with tiers of 32 and 64 MiB the whole run fails out of memory; the automatic fan-out succeeds with the bytes of an unconstrained run', async (ctx) => {
  const params = { start: '2005-01-03', end: '2014-12-31', fields: ['eps', 'revenue'], macro: ['GDP'] };
  const unconstrained = await shaAt(ctx, 'equity-panel', params, 1);
  const small = await startEmbedded({ store: ctx.store, config: { ...config, HIPPO_TIERS: [32 << 20, 64 << 20], HIPPO_PARTITION_ROWS: 50_000 } });
  try {
    const whole = await runToEnd(small, { pipeline: 'equity-panel', params, asOf: ctx.asOf, partitions: 1, reuse: false });
    assert.is(whole.status, 'failed');
    assert.is(whole.error?.code, 'out_of_memory', JSON.stringify(whole.error));
    // The step started at the top tier (its input is bigger than tier 0 holds) and had no tier left.
    assert.equal((await new Ledger(ctx.store).mustGet(whole.id)).steps['delisting-adjust']!.attempts.map((a) => [a.tier, a.status]), [[1, 'failed']]);
    const split = await runToEnd(small, { pipeline: 'equity-panel', params, asOf: ctx.asOf, reuse: false });
    assert.is(split.status, 'succeeded', JSON.stringify(split.error));
    const run = await new Ledger(ctx.store).mustGet(split.id);
    assert.ok((run.partitions ?? 1) >= 3, `split in ${run.partitions}`);
    assert.is(run.result!.sha256, unconstrained.sha256);
  } finally {
    await small.close();
  }
});

test('P = 256: every partition recorded once; the bytes of P = 1', async (ctx) => {
  const params = { start: '2012-01-03', end: '2012-03-30', fields: ['eps'] };
  const one = await shaAt(ctx, 'equity-panel', params, 1);
  const { sha256, run } = await shaAt(ctx, 'equity-panel', params, 256);
  assert.is(sha256, one.sha256);
  const steps = Object.entries(run.steps);
  assert.is(steps.length, 2 * 256 + 1);
  for (const [id, s] of steps) {
    assert.is(s.status, 'succeeded', id);
    assert.equal(s.attempts.map((a) => a.status), ['succeeded'], `${id}: one attempt, recorded once`);
  }
  // Each partition's output went into the fan-in exactly once.
  assert.is(Object.keys(run.steps.export!.inputRefs).length, 256);
  assert.is(run.steps.export!.request!.inputs['panel-p255'], run.steps['pit-join-fundamentals-p255']!.outputs!.panel!.key);
});

test('partitions out of range are a 400 naming the field', async (ctx) => {
  for (const partitions of [0, 1025, 2.5]) {
    const res = await ctx.hippo.runs.request('/runs', {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ pipeline: 'transcripts', params: { start: '2020-01-01', end: '2020-12-31' }, partitions }),
    });
    assert.is(res.status, 400, `partitions ${partitions}`);
    assert.match(JSON.stringify(await res.json()), /partitions/);
  }
});

test.run();
