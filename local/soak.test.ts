import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import pLimit from 'p-limit';
import type { FileStore } from '../shared/file-store.ts';
import { RunFailedError } from '../sdk/index.ts';
import { AS_OF, calmSha, platformWith } from './drills.test-support.ts';
import { demoStore } from './demo.ts';

interface Ctx { dir: string; store: FileStore }
/**
 * Load on the local platform (real processes, memory bus): a burst of 200 runs submitted at
 * once, then a soak of 1000 runs with random faults — kills, out of memory, hangs — and bad
 * input (a corrupt lake part some runs read). Every run must end; every failure must carry a
 * reason; every success must carry exactly the bytes an undisturbed run produces.
 */
const test = suite<Ctx>('burst and soak (real processes, random faults)');

const BURST = Number(process.env.HIPPO_BURST_RUNS ?? 200);
const SOAK = Number(process.env.HIPPO_SOAK_RUNS ?? 1000);
/** A corrupt transcripts part recorded 2025-09-01: runs as of later read it and fail (422). */
const CORRUPT_PART = 'lake/transcripts/part-20250901T000000000Z-01JCORRUPT0000000000000000.parquet';
const BEFORE_CORRUPT = '2025-08-01T00:00:00Z';

test.before(async (ctx) => {
  Object.assign(ctx, await demoStore({ scale: 0.05, recordedAt: '2025-06-01T00:00:00Z' }));
  await writeFile(join(ctx.dir, 'store', CORRUPT_PART), 'PAR1 not Parquet');
});
test.after(async (ctx) => rm(ctx.dir, { recursive: true, force: true }));

interface Job { pipeline: string; params: Record<string, unknown>; asOf: string }

/** Small requests, a dozen distinct ones (so each has an undisturbed twin to compare bytes with). */
function smallRun(i: number): Job {
  const month = (i % 12) + 1;
  const start = `2012-${String(month).padStart(2, '0')}-01`;
  const end = `2012-${String(month).padStart(2, '0')}-28`;
  return { pipeline: 'equity-panel', params: { start, end, fields: i % 2 ? ['eps'] : [] }, asOf: AS_OF };
}

/** The soak's mix: mostly panels, some transcripts before the corrupt part, some after it (bad input). */
function soakRun(i: number): Job & { bad: boolean } {
  const r = i % 10;
  if (r < 7) return { ...smallRun(i), bad: false };
  const params = { start: '2020-01-01', end: '2020-12-31' };
  return r < 9 ? { pipeline: 'transcripts', params, asOf: BEFORE_CORRUPT, bad: false } : { pipeline: 'transcripts', params, asOf: AS_OF, bad: true };
}

async function twinSha(store: FileStore, job: Job): Promise<string> {
  return calmSha(store, job.params, job.pipeline, job.asOf);
}

test(`a burst of ${BURST} small runs at once: every one succeeds with the right bytes`, async (ctx) => {
  const { platform, hippo } = await platformWith({ store: ctx.store }, { HIPPO_TIERS: '1GiB,2GiB' });
  try {
    const jobs = Array.from({ length: BURST }, (_, i) => smallRun(i));
    const started = Date.now();
    const runs = await Promise.all(jobs.map(async (job) => {
      const { id } = await hippo.submit(job.pipeline, job.params, { asOf: job.asOf, reuse: false });
      return hippo.wait(id, { timeoutMs: 600_000, pollMs: 500 });
    }));
    const { peak } = platform.runner.processes();
    const seconds = (Date.now() - started) / 1000;
    for (const [i, run] of runs.entries()) assert.is(run.result!.sha256, await twinSha(ctx.store, jobs[i]!), `run ${run.id}`);
    process.stdout.write(`# burst: ${BURST} runs in ${seconds.toFixed(1)} s = ${(BURST / seconds).toFixed(1)} runs/s; peak ${peak} worker processes\n`);
  } finally {
    await platform.stop();
  }
});

test(`soak: ${SOAK} runs with random kills, OOMs, hangs and bad input — every run ends, with a reason or the right bytes`, async (ctx) => {
  const chaos = 'kill:*:1:3%,oom:pit-join:1:5%,hang:*:1:1%';
  const { platform, hippo } = await platformWith({ store: ctx.store }, {
    HIPPO_TIERS: '512MiB,2GiB', HIPPO_CHAOS: chaos, HIPPO_STEP_TIMEOUT: '30',
  });
  const tally: Record<string, number> = {};
  const count = (k: string) => (tally[k] = (tally[k] ?? 0) + 1);
  const problems: string[] = [];
  try {
    const started = Date.now();
    const limit = pLimit(24);
    const ends = await Promise.all(Array.from({ length: SOAK }, (_, i) => limit(async () => {
      const job = soakRun(i);
      const { id } = await hippo.submit(job.pipeline, job.params, { asOf: job.asOf, reuse: false });
      try {
        return { job, run: await hippo.wait(id, { timeoutMs: 900_000, pollMs: 250 }) };
      } catch (err) {
        if (!(err instanceof RunFailedError)) throw err;
        return { job, run: await hippo.status(id), err };
      }
    })));
    const seconds = (Date.now() - started) / 1000;
    for (const { job, run, err } of ends) {
      count(run.status);
      const retried = Object.values(run.steps).reduce((n, s) => n + s.attempts.length - 1, 0);
      if (retried) count('runs that needed a retry');
      for (const s of Object.values(run.steps)) for (const a of s.attempts) if (a.error) count(`attempt failed: ${a.error.code}`);
      if (run.status === 'succeeded') {
        if (job.bad) problems.push(`${run.id} read the corrupt part and still succeeded`);
        if (run.result!.sha256 !== (await twinSha(ctx.store, job))) problems.push(`${run.id}: result differs from the undisturbed run`);
        for (const [stepId, s] of Object.entries(run.steps)) {
          if (s.attempts.filter((a) => a.status === 'succeeded').length !== 1) problems.push(`${run.id}/${stepId}: not exactly one succeeded attempt`);
        }
      } else {
        count(`run failed: ${run.error?.code}`);
        if (!run.error?.code || !run.error.message || !err?.reason) problems.push(`${run.id} ${run.status} without a reason`);
        if (job.bad && run.error?.code !== 'invalid_input') problems.push(`${run.id}: bad input failed as ${run.error?.code}`);
        if (!job.bad) problems.push(`${run.id}: a good request failed: ${run.error?.code} ${run.error?.message}`);
      }
    }
    // One result object per succeeded run: nothing written twice under another name.
    const results = (await ctx.store.list('results/')).filter((o) => o.key.endsWith('.arrow'));
    const succeeded = new Set(ends.filter((e) => e.run.status === 'succeeded').map((e) => e.run.id));
    const written = new Set(results.map((o) => o.key.slice('results/'.length, -'.arrow'.length)));
    for (const id of succeeded) if (!written.has(id)) problems.push(`${id}: no result object`);
    const { peak } = platform.runner.processes();
    const workers = platform.runner.status().filter((w) => w.restarts > 0).map((w) => `${w.service} ${w.restarts} restarts (${w.oomKills} OOM)`);
    process.stdout.write(
      `# soak: ${SOAK} runs in ${seconds.toFixed(0)} s (${(SOAK / seconds).toFixed(1)} runs/s), chaos ${chaos}, peak ${peak} worker processes\n` +
      Object.entries(tally).sort().map(([k, v]) => `#   ${k}: ${v}\n`).join('') +
      `#   workers: ${workers.join('; ') || 'no deaths'}\n`,
    );
    assert.equal(problems, []);
    assert.is(ends.length, SOAK, 'every run ended');
    assert.is((tally.succeeded ?? 0) + (tally.failed ?? 0), SOAK, 'every run succeeded or failed with a reason (none cancelled)');
    assert.ok((tally['attempt failed: killed'] ?? 0) + (tally['attempt failed: out_of_memory'] ?? 0) > 0, 'faults were injected');
  } finally {
    await platform.stop();
  }
});

test.run();
