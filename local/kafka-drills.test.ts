import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import { FileStore } from '../shared/file-store.ts';
import { corruptPart, hangAlways, hangOnce, oomAlways, oomAndKillOnce, oomOnePartition, type DrillEnv } from './drills.test-support.ts';
import { demoStore } from './demo.ts';
import { kafkaBrokers } from './helpers.test-support.ts';

interface Ctx extends DrillEnv { dir: string }
/**
 * The fault drills of faults.test.ts with a real Kafka broker carrying every event (each
 * drill on its own topic): the dead-letter path, the tier escalation and the watchdog work
 * the same way over Kafka as over the memory bus.
 */
const test = suite<Ctx>('fault drills, Kafka (HIPPO_CHAOS, real processes, real broker)');

test.before(async (ctx) => {
  Object.assign(ctx, await demoStore({ scale: 0.1, recordedAt: '2025-06-01T00:00:00Z' }));
  ctx.kafka = await kafkaBrokers();
});
test.after(async (ctx) => {
  await rm(ctx.dir, { recursive: true, force: true });
  // kafkajs can leave a reconnect timer behind after a platform it served has stopped; the
  // file's work is done here, so let the process end even then (exit code as uvu set it).
  setTimeout(() => process.exit(), 5000).unref();
});

test('Kafka: oom and SIGKILL on attempt 1 → tier 1 → succeeded, byte-identical', (ctx) => oomAndKillOnce(ctx));

test('Kafka: fan-out, oom in one partition of four → only it goes to tier 1 → byte-identical', (ctx) => oomOnePartition(ctx));

test('Kafka: oom on every attempt → failed with out_of_memory', async (ctx) => {
  const ms = await oomAlways(ctx);
  process.stdout.write(`# Kafka: out of memory on both tiers → failed in ${(ms / 1000).toFixed(1)} s\n`);
});

test('Kafka: hang once → the watchdog re-dispatches → succeeded, byte-identical', (ctx) => hangOnce(ctx));

test('Kafka: hang always → failed with timeout within the bound', async (ctx) => {
  const ms = await hangAlways(ctx);
  process.stdout.write(`# Kafka: hung on every attempt → failed with timeout in ${(ms / 1000).toFixed(1)} s\n`);
});

test('Kafka: a corrupt Parquet part → 422 naming the part, no retries', async (ctx) => {
  const dir = await mkdtemp(join(tmpdir(), 'hippo-corrupt-'));
  try {
    await cp(join(ctx.dir, 'store'), dir, { recursive: true });
    const badKey = 'lake/prices/part-20250601T000000001Z-01JCORRUPT0000000000000000.parquet';
    await writeFile(join(dir, badKey), 'PAR1 this is not a Parquet file');
    await corruptPart({ store: new FileStore(dir), kafka: ctx.kafka }, badKey);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
