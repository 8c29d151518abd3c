import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Random } from '../demo/random.ts';
import { EventTypes, type StepRequested } from '../eventing/catalog.ts';
import type { HippoEvent } from '../shared/cloudevents.ts';
import { FileStore } from '../shared/file-store.ts';
import { keys } from '../shared/object-store.ts';
import { createRunDomain } from './domain.ts';
import { Coordinator, QUEUED_GRACE_MS } from './coordinator.ts';
import { Ledger } from './ledger.ts';
import { TERMINAL, type Run } from './run.ts';

interface Ctx {
  dir: string;
  store: FileStore;
}
const test = suite<Ctx>('coordinator: attempt states and the clock');
test.before.each(async (ctx) => {
  ctx.dir = await mkdtemp(join(tmpdir(), 'hippo-coordinator-'));
  ctx.store = new FileStore(ctx.dir);
});
test.after.each(async (ctx) => rm(ctx.dir, { recursive: true, force: true }));

/** The output each step names (the plans' `<stepId>.<output>` refs). */
const OUTPUT: Record<string, string> = { 'delisting-adjust': 'panel', 'pit-join': 'panel', 'transcript-split': 'turns', export: 'result' };

const REQUESTS = [
  { pipeline: 'transcripts', params: { start: '2020-01-01', end: '2020-03-31' } },
  { pipeline: 'equity-panel', params: { start: '2010-01-04', end: '2010-12-31' } },
  { pipeline: 'equity-panel', params: { start: '2010-01-04', end: '2010-12-31', fields: ['eps'], macro: ['GDP'] } },
  { pipeline: 'equity-panel', params: { start: '2010-01-04', end: '2010-12-31', fields: ['eps'] }, partitions: 3 },
  { pipeline: 'transcripts', params: { start: '2020-01-01', end: '2020-03-31' }, partitions: 2 },
];

/** What must hold of a run after every event. */
function checkInvariants(run: Run, label: string): void {
  if (!TERMINAL.has(run.status)) return;
  for (const [stepId, s] of Object.entries(run.steps)) {
    assert.ok(s.status !== 'pending' && s.status !== 'dispatched', `${label}: ${run.status} run with step ${stepId} ${s.status}`);
    for (const a of s.attempts) assert.is.not(a.status, 'dispatched', `${label}: ${run.status} run with ${stepId} attempt ${a.attempt} still dispatched`);
  }
  if (run.status === 'failed') assert.ok(run.error?.message, `${label}: a failed run has a reason`);
}

test('property: in every terminal run no step or attempt is left open, whatever the order of events; every run ends', async ({ store }) => {
  const SEQUENCES = 60;
  for (let seed = 1; seed <= SEQUENCES; seed++) {
    const rnd = new Random(seed);
    let clock = Date.parse('2026-01-05T12:00:00Z');
    const sent: HippoEvent[] = [];
    const now = () => new Date(clock);
    const ledger = new Ledger(store, { now });
    // A lake that knows the names asked for: the plans with pit-join steps pass the check.
    const lake = { distinct: async () => ['eps', 'GDP'], bytes: async () => 0, estimate: async () => ({ rows: 0, bytes: 0 }) };
    const coordinator = new Coordinator({ ledger, emit: async (e) => void sent.push(e), stepTimeoutSeconds: 60, now, lake });
    const id = `seq-${seed}`;
    const log: string[] = [];
    await coordinator.submit({ ...rnd.pick(REQUESTS), id });
    const requests = () => sent.filter((e) => e.type === EventTypes.stepRequested).map((e) => e.data as StepRequested);
    for (let i = 0; i < 25; i++) {
      const reqs = requests();
      const req = reqs.length ? (rnd.chance(0.7) ? reqs.at(-1)! : rnd.pick(reqs)) : undefined; // mostly the latest, sometimes a stale one
      const action = rnd.pick(['complete', 'complete', 'complete', 'oom', 'fail', 'sweep', 'sweep', 'cancel', 'duplicate'] as const);
      log.push(`${action} ${req ? `${req.stepId}#${req.attempt}` : ''}`);
      const tryIt = async (f: () => Promise<unknown>) => {
        try {
          await f();
        } catch (err) {
          // Cancelling a finished run is a 409; nothing else may throw.
          if (!(action === 'cancel' && (err as { code?: string }).code === 'already_finished')) throw err;
        }
      };
      if ((action === 'complete' || action === 'duplicate') && req) {
        const data = {
          runId: id, stepId: req.stepId, attempt: req.attempt, tier: req.tier,
          outputs: { [OUTPUT[req.step]!]: { key: `${req.output}/${OUTPUT[req.step]}`, rows: 1, bytes: 10, sha256: 'ab' } },
          lineage: {}, metrics: { ms: 1, peakRssBytes: 1, rowsIn: 1, rowsOut: 1 },
        };
        await coordinator.onStepCompleted(data);
        if (action === 'duplicate') await coordinator.onStepCompleted(data);
      } else if ((action === 'oom' || action === 'fail') && req) {
        await coordinator.onStepFailed({
          runId: id, stepId: req.stepId, attempt: req.attempt, tier: req.tier,
          error: action === 'oom'
            ? { code: 'out_of_memory', message: 'killed', retriable: true, nextTier: req.tier + 1 }
            : { code: 'invalid_input', message: 'bad row', retriable: false },
        });
      } else if (action === 'sweep') {
        clock += rnd.int(1, 90) * 1000;
        await coordinator.sweep();
      } else if (action === 'cancel') {
        await tryIt(() => coordinator.cancel(id));
      }
      checkInvariants(await ledger.mustGet(id), `seed ${seed} after ${log.join(', ')}`);
    }
    // Nothing waits forever: with no more answers, the sweep ends the run.
    for (let sweeps = 0; sweeps < 20 && !TERMINAL.has((await ledger.mustGet(id)).status); sweeps++) {
      clock += 61_000;
      await coordinator.sweep();
    }
    const run = await ledger.mustGet(id);
    assert.ok(TERMINAL.has(run.status), `seed ${seed}: run still ${run.status} after ${log.join(', ')}`);
    checkInvariants(run, `seed ${seed} at the end`);
  }
});

test('cancel closes the dispatched attempt and the steps not yet run', async ({ store }) => {
  const sent: HippoEvent[] = [];
  const { coordinator } = createRunDomain({ store, emit: async (e) => void sent.push(e), stepTimeoutSeconds: 60 });
  const run = await coordinator.cancel((await coordinator.submit({ ...REQUESTS[0]!, id: 'c' })).run.id);
  assert.equal(run.steps['transcript-split']!.attempts.map((a) => a.status), ['cancelled']);
  assert.is(run.steps['transcript-split']!.status, 'cancelled');
  assert.is(run.steps.export!.status, 'cancelled');
});

test('one clock: the ledger stamps with the coordinator\'s clock, and the sweep reads those stamps', async ({ store }) => {
  // The injected clock runs an hour behind the wall clock: a ledger stamping wall-clock times
  // would make a just-queued run look an hour old to the sweep (and a deadline an hour early).
  let clock = Date.now() - 3_600_000;
  const sent: HippoEvent[] = [];
  const { coordinator, ledger } = createRunDomain({ store, emit: async (e) => void sent.push(e), stepTimeoutSeconds: 60, now: () => new Date(clock) });
  await ledger.create({
    id: 'q', pipeline: 'transcripts', params: REQUESTS[0]!.params, asOf: new Date(clock).toISOString(), status: 'queued',
    steps: {
      'transcript-split': { step: 'transcript-split', status: 'pending', needs: [], inputRefs: {}, params: REQUESTS[0]!.params, output: keys.work('q', 'transcript-split'), attempt: 0, tier: 0, attempts: [] },
    },
    createdAt: new Date(clock).toISOString(), updatedAt: new Date(clock).toISOString(),
  });
  const { run } = await ledger.update('q', (r) => ((r.params = { ...REQUESTS[0]!.params }), true));
  assert.is(run.updatedAt, new Date(clock).toISOString(), 'updatedAt from the injected clock');
  const marker = JSON.parse(new TextDecoder().decode((await store.get(keys.activeRun('q')))!.body)) as { createdAt: string };
  assert.is(marker.createdAt, new Date(clock).toISOString(), 'the active marker from the injected clock');
  // Written a moment ago by this clock: the sweep leaves it to its creator…
  await coordinator.sweep();
  assert.is((await ledger.mustGet('q')).status, 'queued');
  // …and takes it once the same clock says the grace has passed.
  clock += QUEUED_GRACE_MS + 1;
  await coordinator.sweep();
  assert.is((await ledger.mustGet('q')).status, 'running');
  // A submitted run's deadline and the sweep's "now" are one clock too: 59 s later nothing is late, 61 s later it is.
  await coordinator.submit({ ...REQUESTS[0]!, id: 'd' });
  clock += 59_000;
  assert.equal(await coordinator.sweep(), { redispatched: 0, failed: 0 });
  clock += 2_000;
  assert.equal(await coordinator.sweep(), { redispatched: 2, failed: 0 }, 'd, and q dispatched as long ago');
});

test.run();
