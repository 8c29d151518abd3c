import { rm } from 'node:fs/promises';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig } from '../shared/config.ts';
import type { FileStore } from '../shared/file-store.ts';
import { Hippo, RunFailedError } from '../sdk/index.ts';
import { freePort, startLocalPlatform, type LocalPlatform } from './dev.ts';
import { runToEnd, startEmbedded } from './embedded.ts';
import { demoStore } from './test-helpers.ts';

/**
 * Fault drills on the local platform (HIPPO_CHAOS, real processes, memory bus): a step that
 * runs out of memory or is killed mid-request goes to the dead-letter sink, which sends it one
 * memory tier up; the run completes with the same bytes as an undisturbed one. Out of memory
 * on every tier fails the run with `out_of_memory`, in bounded time.
 */
interface Ctx { dir: string; store: FileStore }
const test = suite<Ctx>('fault drills (HIPPO_CHAOS, real processes)');
const ROOT = new URL('..', import.meta.url).pathname;
const AS_OF = '2026-01-01T00:00:00Z';
const PARAMS = { start: '2015-01-02', end: '2015-06-30', fields: ['eps'] };

test.before(async (ctx) => {
  Object.assign(ctx, await demoStore({ scale: 0.1, recordedAt: '2025-06-01T00:00:00Z' }));
});
test.after(async (ctx) => rm(ctx.dir, { recursive: true, force: true }));

async function platformWith(ctx: Ctx, chaos: string): Promise<{ platform: LocalPlatform; hippo: Hippo }> {
  const platform = await startLocalPlatform({
    config: loadConfig({ HIPPO_STORE: ctx.store.url, HIPPO_TIERS: '512MiB,2GiB', HIPPO_CHAOS: chaos, HIPPO_LOG_LEVEL: 'error' }),
    store: ctx.store, root: ROOT, port: await freePort(), brokerPort: 0, idleMs: 60_000, backoffScale: 0.2,
  });
  return { platform, hippo: new Hippo({ url: platform.runsUrl }) };
}

test('oom in pit-join and a SIGKILL in export on attempt 1 → tier 1 → the run succeeds, byte-identical', async (ctx) => {
  const { platform, hippo } = await platformWith(ctx, 'oom:pit-join:1,kill:export:1');
  try {
    const { id } = await hippo.submit('equity-panel', PARAMS, { asOf: AS_OF });
    const run = await hippo.wait(id, { timeoutMs: 180_000 });
    const tiers = (stepId: string) => run.steps[stepId]!.attempts.map((a) => [a.tier, a.status]);
    assert.equal(tiers('pit-join-fundamentals'), [[0, 'failed'], [1, 'succeeded']]);
    assert.equal(tiers('export'), [[0, 'failed'], [1, 'succeeded']]);
    assert.equal(tiers('delisting-adjust'), [[0, 'succeeded']]);
    const workers = platform.runner.status();
    assert.ok(workers.find((w) => w.service === 'pit-join-t0')!.oomKills >= 1, 'the runner saw the tier-0 process die of its memory limit');
    // The same request and asOf without faults, in process: the same bytes.
    const calm = await startEmbedded({ store: ctx.store, config: { HIPPO_TIERS: [1 << 30], HIPPO_STEP_TIMEOUT: 600 } });
    try {
      const twin = await runToEnd(calm, { pipeline: 'equity-panel', params: PARAMS, asOf: AS_OF });
      const view = (await (await calm.runs.request(`/runs/${twin.id}`)).json()) as { result: { sha256: string } };
      assert.is(run.result!.sha256, view.result.sha256);
    } finally {
      await calm.close();
    }
  } finally {
    await platform.stop();
  }
});

test('oom on every attempt → the run fails with out_of_memory once the top tier failed; wait raises it', async (ctx) => {
  const { platform, hippo } = await platformWith(ctx, 'oom:pit-join:*');
  try {
    const started = Date.now();
    const { id } = await hippo.submit('equity-panel', PARAMS, { asOf: AS_OF });
    try {
      await hippo.wait(id, { timeoutMs: 180_000 });
      assert.unreachable('the run must fail');
    } catch (err) {
      assert.instance(err, RunFailedError);
      assert.is((err as RunFailedError).step, 'pit-join');
      assert.match((err as RunFailedError).reason, /no response|out of memory|died/i);
    }
    const run = await hippo.status(id);
    assert.equal(run.steps['pit-join-fundamentals']!.attempts.map((a) => [a.tier, a.status]), [[0, 'failed'], [1, 'failed']]);
    process.stdout.write(`# out of memory on both tiers → failed in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  } finally {
    await platform.stop();
  }
});

test.run();
