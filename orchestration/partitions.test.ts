import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStore } from '../shared/file-store.ts';
import { Coordinator } from './coordinator.ts';
import { Ledger } from './ledger.ts';
import { partitionPlan, partitionsFor } from './partitions.ts';
import { getPipeline } from './pipelines.ts';

const panelRequest = { start: '2010-01-04', end: '2010-12-31', fields: ['eps'], macro: ['GDP'] };

test('P = 3: each fanned-out step three times, partition i reading partition i, export reading all', async () => {
  const { steps } = await getPipeline('equity-panel').prepare(panelRequest);
  const plan = partitionPlan(steps, 3);
  assert.equal(plan.map((s) => s.stepId), [
    'delisting-adjust-p0', 'delisting-adjust-p1', 'delisting-adjust-p2',
    'pit-join-fundamentals-p0', 'pit-join-fundamentals-p1', 'pit-join-fundamentals-p2',
    'pit-join-macro-p0', 'pit-join-macro-p1', 'pit-join-macro-p2',
    'export',
  ]);
  const byId = Object.fromEntries(plan.map((s) => [s.stepId, s]));
  assert.equal(byId['pit-join-macro-p1']!.inputs, { panel: 'pit-join-fundamentals-p1.panel' });
  assert.equal(byId['pit-join-fundamentals-p2']!.inputs, { panel: 'delisting-adjust-p2.panel' });
  assert.equal(byId['delisting-adjust-p1']!.params, { start: '2010-01-04', end: '2010-12-31', universe: 'all', delisting: 'shumway', partition: { index: 1, count: 3 } });
  assert.equal(byId.export!.inputs, { 'panel-p0': 'pit-join-macro-p0.panel', 'panel-p1': 'pit-join-macro-p1.panel', 'panel-p2': 'pit-join-macro-p2.panel' });
  assert.not.ok('partition' in byId.export!.params);
  assert.ok(byId.export!.final);
});

test('P = 1 leaves the plan as it is; transcripts fan out by transcript', async () => {
  const { steps } = await getPipeline('equity-panel').prepare(panelRequest);
  assert.equal(partitionPlan(steps, 1), steps);
  const t = partitionPlan((await getPipeline('transcripts').prepare({ start: '2020-01-01', end: '2020-12-31' })).steps, 2);
  assert.equal(t.map((s) => [s.stepId, s.inputs]), [
    ['transcript-split-p0', {}],
    ['transcript-split-p1', {}],
    ['export', { 'turns-p0': 'transcript-split-p0.turns', 'turns-p1': 'transcript-split-p1.turns' }],
  ]);
});

test('a partition param is the planner\'s: a user cannot set it through the pipeline', async () => {
  const refused = await getPipeline('transcripts').prepare({ start: '2020-01-01', end: '2020-12-31', partition: { index: 0, count: 2 } }).then(() => undefined, (err: Error) => err);
  assert.match(refused?.message ?? 'accepted', /invalid transcripts params/);
  assert.match(JSON.stringify(refused), /partition/);
});

test('automatic P: enough partitions for the rows and the bytes, 1 to 1024', () => {
  const limit = { rows: 1_000_000, bytes: 64 << 20 };
  assert.is(partitionsFor(undefined, limit), 1);
  assert.is(partitionsFor({ rows: 0 }, limit), 1);
  assert.is(partitionsFor({ rows: 1_000_000 }, limit), 1);
  assert.is(partitionsFor({ rows: 4_750_000 }, limit), 5);
  assert.is(partitionsFor({ rows: 10, bytes: 200 << 20 }, limit), 4);
  assert.is(partitionsFor({ rows: 5e12 }, limit), 1024);
});

test('the size is estimated once, for a new run that leaves P to the planner: not for its id again, nor for a run that names P', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hippo-partitions-'));
  try {
    let estimates = 0;
    const lake = { distinct: async () => [], bytes: async () => 0, estimate: async () => (estimates++, { rows: 2_500_000, bytes: 0 }) };
    const coordinator = new Coordinator({ ledger: new Ledger(new FileStore(dir)), emit: async () => {}, stepTimeoutSeconds: 60, lake });
    const request = { pipeline: 'equity-panel', params: { start: '2010-01-04', end: '2010-12-31' } };
    const { run } = await coordinator.submit({ ...request, id: 'auto' });
    assert.is(run.partitions, 3, '2.5 M rows over the default 1 M a partition');
    assert.is(estimates, 1);
    assert.not.ok((await coordinator.submit({ ...request, id: 'auto' })).created);
    await coordinator.submit({ ...request, id: 'named', partitions: 2 });
    assert.is(estimates, 1, 'an existing id and a named P estimate nothing');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
