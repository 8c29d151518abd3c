import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import { FileStore } from '../shared/file-store.ts';
import { corruptPart, hangAlways, hangOnce, oomAlways, oomAndKillOnce, oomOnePartition, type DrillEnv } from './drills.test-support.ts';
import { demoStore } from './demo.ts';

interface Ctx extends DrillEnv { dir: string }
/**
 * Fault drills on the local platform (HIPPO_CHAOS, real processes, memory bus): out of memory
 * and kills go one memory tier up and complete with the same bytes; out of memory everywhere
 * fails with `out_of_memory`; a hang is re-dispatched by the watchdog, or fails with
 * `timeout`; a corrupt lake part fails at once, naming the part. The same drills run on
 * Kafka in kafka-drills.test.ts.
 */
const test = suite<Ctx>('fault drills, memory bus (HIPPO_CHAOS, real processes)');

test.before(async (ctx) => {
  Object.assign(ctx, await demoStore({ scale: 0.1, recordedAt: '2025-06-01T00:00:00Z' }));
});
test.after(async (ctx) => rm(ctx.dir, { recursive: true, force: true }));

test('oom in pit-join and a SIGKILL in export on attempt 1 → tier 1 → the run succeeds, byte-identical', (ctx) => oomAndKillOnce(ctx));

test('fan-out: oom in one partition of four → only it goes to tier 1 → the bytes of an undisturbed run', (ctx) => oomOnePartition(ctx));

test('oom on every attempt → failed with out_of_memory once the top tier failed; wait raises it', async (ctx) => {
  const ms = await oomAlways(ctx);
  process.stdout.write(`# out of memory on both tiers → failed in ${(ms / 1000).toFixed(1)} s\n`);
});

test('hang once → the watchdog re-dispatches after the deadline → the run succeeds, byte-identical', (ctx) => hangOnce(ctx));

test('hang always → the run fails with timeout within the bound', async (ctx) => {
  const ms = await hangAlways(ctx);
  process.stdout.write(`# hung on every attempt → failed with timeout in ${(ms / 1000).toFixed(1)} s\n`);
});

test('a corrupt Parquet part → 422 naming the part → the run fails at once, no retries', async (ctx) => {
  const dir = await mkdtemp(join(tmpdir(), 'hippo-corrupt-'));
  try {
    await cp(join(ctx.dir, 'store'), dir, { recursive: true });
    const badKey = 'lake/prices/part-20250601T000000001Z-01JCORRUPT0000000000000000.parquet';
    await writeFile(join(dir, badKey), 'PAR1 this is not a Parquet file');
    await corruptPart({ store: new FileStore(dir) }, badKey);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
