import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig } from '../shared/config.ts';
import type { FileStore } from '../shared/file-store.ts';
import { kafkaDown, kafkaUp } from '../scripts/kafka.mjs';
import { ensureKcat } from '../scripts/kcat.mjs';
import { Hippo } from '../sdk/index.ts';
import { freePort, startLocalPlatform } from './dev.ts';
import { pidsMatching } from './procs.test-support.ts';
import { demoStore } from './demo.ts';
import { eventually, kafkaBrokers } from './helpers.test-support.ts';

interface Ctx { dir: string; store: FileStore; kcat: string }
/**
 * At-least-once over Kafka, by force: the whole platform killed with SIGKILL in the middle of
 * a run, and the Kafka broker stopped and started during one. Nothing is lost, nothing is
 * completed twice, and the result is the same bytes as an undisturbed run.
 */
const test = suite<Ctx>('Kafka faults (real broker, real processes)');
const ROOT = new URL('..', import.meta.url).pathname;
const exec = promisify(execFile);
const AS_OF = '2026-01-01T00:00:00Z';
const PARAMS = { start: '2012-01-03', end: '2015-12-31', fields: ['eps', 'revenue'], macro: ['GDP'] };

test.before(async (ctx) => {
  ctx.kcat = await ensureKcat();
  Object.assign(ctx, await demoStore({ scale: 0.3, recordedAt: '2025-06-01T00:00:00Z' }));
});
test.after(async (ctx) => {
  await rm(ctx.dir, { recursive: true, force: true });
  // kafkajs can keep a reconnect timer alive after the broker it knew was restarted; the
  // file's work is done here, so let the process end even then (exit code as uvu set it).
  setTimeout(() => process.exit(), 5000).unref();
});

/** `hippo dev` as its own process: what a user runs, and what a crash takes down whole. */
function startDev(ctx: Ctx, brokers: string, topic: string, port: number): ChildProcess {
  return spawn(process.execPath, ['bin/hippo.js', 'dev', '--port', String(port), '--broker-port', '0', '--idle', '60'], {
    cwd: ROOT,
    env: { ...process.env, HIPPO_STORE: ctx.store.url, KAFKA_BROKERS: brokers, HIPPO_TOPIC: topic, HIPPO_LOG_LEVEL: 'error' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/** Resolves once the child has exited (also when it already had, by a code or a signal). */
function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => child.once('exit', () => r()));
}

async function typesFor(ctx: Ctx, brokers: string, topic: string, key: string): Promise<string[]> {
  const { stdout } = await exec(ctx.kcat, ['-C', '-J', '-e', '-q', '-o', 'beginning', '-b', brokers, '-t', topic], { timeout: 30_000, maxBuffer: 1 << 26 });
  return stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { key: string; headers: string[] })
    .filter((r) => r.key === key).map((r) => r.headers[r.headers.indexOf('ce_type') + 1]!);
}

test('the platform killed with SIGKILL mid-run and started again: the run completes once, byte-identical', async (ctx) => {
  const brokers = await kafkaBrokers();
  const topic = `hippo-${randomUUID()}`;
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const hippo = new Hippo({ url });
  let dev = startDev(ctx, brokers, topic, port);
  try {
    await eventually(async () => (await fetch(`${url}/health/readiness`).catch(() => undefined))?.ok, 60_000, 'platform up');
    const { id } = await hippo.submit('equity-panel', PARAMS, { asOf: AS_OF, id: `crash-${Date.now()}`, reuse: false });
    // Kill it while a step is in the middle of its work.
    await eventually(async () => {
      const run = await hippo.status(id);
      return Object.values(run.steps).some((s) => s.step === 'pit-join' && s.status === 'dispatched');
    }, 60_000, 'a pit-join step in flight');
    dev.kill('SIGKILL');
    await exited(dev);
    await eventually(async () => (await pidsMatching('functions/', `HIPPO_STORE=${ctx.store.url}`)).length === 0, 10_000, 'the functions went with it');
    assert.is((await hippo.status(id).catch((e: Error) => e)) instanceof Error, true, 'nothing answers');

    dev = startDev(ctx, brokers, topic, port);
    const second = dev;
    const done = await eventually(async () => {
      if (second.exitCode !== null || second.signalCode !== null) throw new Error(`the restarted platform exited (${second.exitCode ?? second.signalCode})`);
      const r = await hippo.status(id).catch(() => undefined);
      return r && ['succeeded', 'failed'].includes(r.status) ? r : undefined;
    }, 180_000, 'the run to end');
    assert.is(done.status, 'succeeded', JSON.stringify(done.error));
    const types = await eventually(async () => {
      const t = await typesFor(ctx, brokers, topic, id);
      return t.includes('dev.hippo.run.completed') ? t : undefined;
    }, 20_000, 'run.completed');
    assert.is(types.filter((t) => t === 'dev.hippo.run.completed').length, 1, 'completed once');
    for (const s of Object.values(done.steps)) assert.is(s.status, 'succeeded');

    // The same request and asOf, undisturbed: the same bytes.
    const calm = await hippo.submit('equity-panel', PARAMS, { asOf: AS_OF, id: `calm-${Date.now()}`, reuse: false });
    const twin = await hippo.wait(calm.id, { timeoutMs: 180_000 });
    assert.is(done.result!.sha256, twin.result!.sha256, 'byte-identical to the undisturbed run');
  } finally {
    dev.kill('SIGINT');
    await exited(dev);
  }
});

test('Kafka stopped and started again during a run: the run completes, nothing lost', async (ctx) => {
  const kafka = { port: await freePort(), controllerPort: await freePort(), dir: await mkdtemp(join(tmpdir(), 'hippo-kafka-restart-')), quiet: true };
  const { brokers } = await kafkaUp(kafka);
  const topic = `hippo-${randomUUID()}`;
  const platform = await startLocalPlatform({
    config: loadConfig({ HIPPO_STORE: ctx.store.url, KAFKA_BROKERS: brokers, HIPPO_TOPIC: topic, HIPPO_LOG_LEVEL: 'error' }),
    store: ctx.store, root: ROOT, port: await freePort(), brokerPort: 0, idleMs: 60_000,
  });
  const hippo = new Hippo({ url: platform.runsUrl });
  try {
    const { id } = await hippo.submit('equity-panel', PARAMS, { asOf: AS_OF, reuse: false });
    await eventually(async () => Object.values((await hippo.status(id)).steps).some((s) => s.status === 'succeeded'), 60_000, 'a first step done');
    await kafkaDown(kafka);
    await new Promise((r) => setTimeout(r, 3000));
    await kafkaUp(kafka);
    const run = await hippo.wait(id, { timeoutMs: 240_000 });
    assert.is(run.status, 'succeeded');
    assert.ok(Object.values(run.steps).every((s) => s.status === 'succeeded'));
  } finally {
    await platform.stop();
    await kafkaDown(kafka);
    await rm(kafka.dir, { recursive: true, force: true });
  }
});

test.run();
