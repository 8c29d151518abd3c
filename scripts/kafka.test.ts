// Integration test of scripts/kafka.mjs and scripts/kcat.mjs against a real broker: a KRaft Kafka
// on free ports in a temp directory (a developer's broker on 9092 is left alone), a record
// produced and consumed with kcat, and the record still there after the broker stops and starts.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, type KafkaMessage } from 'cloudevents';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { freePort } from './processes.mjs';
import { createTopic, kafkaDown, kafkaStatus, kafkaUp, probeKafka, type KafkaOptions } from './kafka.mjs';
import { ensureKcat } from './kcat.mjs';

interface Ctx {
  broker: Required<Pick<KafkaOptions, 'port' | 'controllerPort' | 'dir'>> & { quiet: boolean };
  brokers: string;
  kcat: string;
  pids: number[];
}
const test = suite<Ctx>('kafka and kcat scripts', { broker: undefined as never, brokers: '', kcat: '', pids: [] });

/** Runs kcat with `input` on stdin; rejects with its stderr on a non-zero exit or after 30 s. */
function kcat(path: string, args: string[], input = ''): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(path, args, { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`kcat ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
    child.stdin!.end(input);
  });
}

/** kcat -J prints one JSON object a record; its headers are a flat [name, value, …] list. */
interface KcatRecord { topic: string; partition: number; offset: number; key: string | null; payload: string | null; headers?: string[] }

async function readAll(ctx: Ctx, topic: string): Promise<KcatRecord[]> {
  const out = await kcat(ctx.kcat, ['-C', '-J', '-e', '-q', '-o', 'beginning', '-b', ctx.brokers, '-t', topic]);
  return out.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as KcatRecord);
}

const headers = [
  'ce_specversion', '1.0', 'ce_type', 'dev.hippo.test', 'ce_source', '/t', 'ce_id', 'e1', 'content-type', 'application/json',
];

function assertTheRecord(records: KcatRecord[]) {
  assert.is(records.length, 1);
  const [r] = records;
  assert.is(r.key, 'run-1');
  assert.is(r.payload, '{"a":1}');
  assert.equal(r.headers, headers);
  // The headers are a binary-mode CloudEvent as the SDK's Kafka binding reads it.
  const h = r.headers!;
  const message: KafkaMessage<string> = {
    key: r.key!, value: r.payload!, body: r.payload!,
    headers: Object.fromEntries(h.flatMap((name, i) => (i % 2 === 0 ? [[name, h[i + 1]]] : []))),
  };
  const event = Kafka.toEvent(message);
  assert.ok(!Array.isArray(event));
  if (Array.isArray(event)) return;
  assert.is(event.id, 'e1');
  assert.is(event.type, 'dev.hippo.test');
  assert.is(event.source, '/t');
  assert.is(event.partitionkey, 'run-1');
  assert.equal(event.data, { a: 1 });
}

/** Whether pid runs: a zombie (exited, not yet reaped by its parent) does not. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false; // gone between the two looks
  }
}

test.before(async (ctx) => {
  const port = await freePort();
  let controllerPort = await freePort();
  while (controllerPort === port) controllerPort = await freePort();
  ctx.broker = { port, controllerPort, dir: await mkdtemp(join(tmpdir(), 'hippo-kafka-')), quiet: true };
  ctx.brokers = `127.0.0.1:${port}`;
  ctx.kcat = await ensureKcat({ quiet: true });
  // Should this process die mid-test, leave no broker behind.
  process.on('exit', () => { for (const pid of ctx.pids) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } });
});

test.after(async (ctx) => {
  await kafkaDown(ctx.broker);
  await rm(ctx.broker.dir, { recursive: true, force: true });
});

test('up starts a broker that serves clients; up again is a no-op', async (ctx) => {
  const up = await kafkaUp(ctx.broker);
  ctx.pids.push(up.pid);
  console.log(`  # jars fetched in ${up.fetchMs} ms, storage formatted in ${up.formatMs} ms, java start → ready in ${up.startMs} ms`);
  assert.is(up.brokers, ctx.brokers);
  assert.is(up.alreadyRunning, false);
  assert.equal(await probeKafka(ctx.broker.port), [{ nodeId: 1, host: '127.0.0.1', port: ctx.broker.port }]);

  const again = await kafkaUp(ctx.broker);
  assert.is(again.pid, up.pid);
  assert.is(again.alreadyRunning, true);
  const status = await kafkaStatus(ctx.broker);
  assert.equal([status.running, status.serving, status.pid], [true, true, up.pid]);
});

test('kcat produces a binary-mode CloudEvent and reads it back', async (ctx) => {
  await createTopic({ brokers: ctx.brokers, topic: 't1', partitions: 1 });
  await kcat(ctx.kcat, [
    '-P', '-b', ctx.brokers, '-t', 't1', '-k', 'run-1',
    ...headers.flatMap((v, i) => (i % 2 === 0 ? ['-H', `${v}=${headers[i + 1]}`] : [])),
  ], '{"a":1}');
  assertTheRecord(await readAll(ctx, 't1'));
});

test('the record survives stopping the broker and starting it on the same dir', async (ctx) => {
  const [pid] = ctx.pids;
  const down = await kafkaDown(ctx.broker);
  assert.equal([down.stopped, down.killed], [true, false]);
  assert.is(alive(pid), false);
  assert.is((await kafkaStatus(ctx.broker)).running, false);
  assert.equal(await kafkaDown(ctx.broker), { stopped: false, killed: false, stopMs: 0 });

  const up = await kafkaUp(ctx.broker);
  ctx.pids.push(up.pid);
  console.log(`  # stopped in ${down.stopMs} ms; restarted (java start → ready) in ${up.startMs} ms`);
  assert.is.not(up.pid, pid);
  assert.equal([up.alreadyRunning, up.formatMs], [false, 0]);
  assertTheRecord(await readAll(ctx, 't1'));

  await kafkaDown(ctx.broker);
  assert.is(alive(up.pid), false);
});

test.run();
