import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { HippoEvent } from '../shared/cloudevents.ts';
import { ensureKcat } from '../scripts/kcat.mjs';
import { kafkaBrokers } from '../local/helpers.test-support.ts';
import { eventually } from '../local/helpers.test-support.ts';
import { EventTypes, makeEvent, malformedReason } from './catalog.ts';
import { KafkaBus, OffsetTracker } from './kafka-bus.ts';

interface Ctx { brokers: string; kcat: string }
/** The Kafka bus against a real broker: the wire format, groups, commits after handling, dead letters. */
const test = suite<Ctx>('kafka bus (real broker)');
const run = promisify(execFile);

test.before(async (ctx) => {
  ctx.brokers = await kafkaBrokers();
  ctx.kcat = await ensureKcat();
});

const newBus = (ctx: Ctx, topic: string, extra: Partial<ConstructorParameters<typeof KafkaBus>[0]> = {}) =>
  new KafkaBus({ brokers: ctx.brokers.split(','), topic, groupPrefix: `${topic}.`, partitions: 3, ...extra });

const requested = (runId: string) =>
  makeEvent(EventTypes.runRequested, '/test', { pipeline: 'equity-panel', params: { start: '2015-01-02', end: '2015-01-30' } }, { runid: runId });

async function kcatRecords(ctx: Ctx, topic: string): Promise<{ key: string; headers: string[]; payload: string }[]> {
  const { stdout } = await run(ctx.kcat, ['-C', '-J', '-e', '-q', '-o', 'beginning', '-b', ctx.brokers, '-t', topic], { timeout: 30_000 });
  return stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

test('binary mode on the wire: ce_* headers, content-type, key = partitionkey = run id; every group gets every event', async (ctx) => {
  const topic = `t-${randomUUID()}`;
  const bus = newBus(ctx, topic);
  const got: Record<string, HippoEvent[]> = { a: [], b: [] };
  try {
    await bus.subscribe('a', async (e) => void got.a!.push(e));
    await bus.subscribe('b', async (e) => void got.b!.push(e));
    const e = requested('run-42');
    await bus.publish(e);
    await eventually(async () => got.a!.length === 1 && got.b!.length === 1, 30_000, 'both groups');
    assert.is(got.a![0]!.id, e.id);
    assert.equal(got.a![0]!.data, e.data);
    const [rec] = await kcatRecords(ctx, topic);
    assert.is(rec!.key, 'run-42');
    const h = Object.fromEntries(rec!.headers.reduce<[string, string][]>((acc, v, i, all) => (i % 2 ? acc : [...acc, [v, all[i + 1]!]]), []));
    assert.is(h.ce_type, EventTypes.runRequested);
    assert.is(h.ce_id, e.id);
    assert.is(h.ce_specversion, '1.0');
    assert.is(h.ce_partitionkey, 'run-42');
    assert.is(h['content-type'], 'application/json');
    assert.equal(JSON.parse(rec!.payload), e.data);
  } finally {
    await bus.close();
  }
});

test('a record produced by kcat in binary mode, and one in structured mode, arrive as CloudEvents', async (ctx) => {
  const topic = `t-${randomUUID()}`;
  const bus = newBus(ctx, topic);
  const got: HippoEvent[] = [];
  try {
    await bus.subscribe('a', async (e) => void got.push(e));
    const data = JSON.stringify({ pipeline: 'equity-panel', params: {} });
    const produce = (args: string[], body: string) =>
      new Promise<void>((resolve, reject) => {
        const child = execFile(ctx.kcat, ['-P', '-b', ctx.brokers, '-t', topic, ...args], (err) => (err ? reject(err) : resolve()));
        child.stdin!.end(body);
      });
    await produce(['-k', 'k1', '-H', 'ce_specversion=1.0', '-H', `ce_type=${EventTypes.runRequested}`, '-H', 'ce_source=/kcat', '-H', 'ce_id=kcat-1', '-H', 'content-type=application/json'], data);
    const structured = JSON.stringify({ specversion: '1.0', type: EventTypes.runRequested, source: '/kcat', id: 'kcat-2', datacontenttype: 'application/json', data: JSON.parse(data) });
    await produce(['-k', 'k2', '-H', 'content-type=application/cloudevents+json'], structured);
    await eventually(async () => got.length === 2, 30_000, 'two events');
    assert.equal(got.map((e) => e.id).sort(), ['kcat-1', 'kcat-2']);
    assert.ok(got.every((e) => e.type === EventTypes.runRequested && (e.data as { pipeline: string }).pipeline === 'equity-panel'));
  } finally {
    await bus.close();
  }
});

test('malformed records never stall a partition; the validator dead-letters each once with its reason', async (ctx) => {
  const topic = `t-${randomUUID()}`;
  const bus = newBus(ctx, topic, { partitions: 1, validate: malformedReason });
  const got: string[] = [];
  try {
    await bus.subscribe('a', async (e) => void got.push(e.id));
    await bus.startValidator();
    const produce = (args: string[], body: string) =>
      new Promise<void>((resolve, reject) => {
        const child = execFile(ctx.kcat, ['-P', '-b', ctx.brokers, '-t', topic, ...args], (err) => (err ? reject(err) : resolve()));
        child.stdin!.end(body);
      });
    await produce(['-k', 'x'], 'not a cloudevent at all');
    await produce(['-k', 'y', '-H', 'ce_specversion=1.0', '-H', 'ce_type=com.example.unknown', '-H', 'ce_source=/x', '-H', 'ce_id=u1'], '{}');
    await produce(['-k', 'z', '-H', 'ce_specversion=1.0', '-H', `ce_type=${EventTypes.runRequested}`, '-H', 'ce_source=/x', '-H', 'ce_id=u2', '-H', 'content-type=application/json'], '{"params":{}}');
    const good = requested('run-1');
    await bus.publish(good);
    await eventually(async () => got.includes(good.id), 30_000, 'the good event behind the bad ones');
    const dead = await eventually(async () => {
      const recs = await kcatRecords(ctx, bus.deadLetterTopic).catch(() => []);
      return recs.length >= 3 ? recs : undefined;
    }, 30_000, 'dead letters');
    const reasons = dead.map((r) => r.headers[r.headers.indexOf('hippo-dead-letter-reason') + 1]);
    assert.is(dead.length, 3);
    assert.match(reasons.join('\n'), /not a CloudEvent/);
    assert.match(reasons.join('\n'), /unknown event type com\.example\.unknown/);
    assert.match(reasons.join('\n'), /event dev\.hippo\.run\.requested u2 has invalid data/);
  } finally {
    await bus.close();
  }
});

test('offsets are committed only after handling: a record still in flight holds its partition\'s commit back', async (ctx) => {
  const topic = `t-${randomUUID()}`;
  const bus = newBus(ctx, topic, { partitions: 1 });
  let release!: () => void;
  const blocked = new Promise<void>((r) => (release = r));
  const done: string[] = [];
  const e1 = requested('r');
  const e2 = requested('r');
  const admin = new Kafka({ brokers: ctx.brokers.split(','), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  const committed = async () => (await admin.fetchOffsets({ groupId: `${topic}.g`, topics: [topic] }))[0]!.partitions[0]!.offset;
  try {
    await bus.subscribe('g', async (e) => {
      if (e.id === e1.id) await blocked;
      done.push(e.id);
    });
    await bus.publish(e1);
    await bus.publish(e2);
    await eventually(async () => done.includes(e2.id), 30_000, 'e2 handled while e1 is still in flight');
    await new Promise((r) => setTimeout(r, 500));
    assert.is(await committed(), '0', 'the commit stays at the unfinished e1 (offset 0): a restart reads it again');
    release();
    await eventually(async () => (await committed()) === '2', 30_000, 'both committed once e1 finished');
  } finally {
    release();
    await admin.disconnect();
    await bus.close();
  }
});

test('OffsetTracker commits the lowest offset still in flight, past gaps', () => {
  const t = new OffsetTracker();
  t.start(0, 5n);
  t.start(0, 6n);
  t.start(0, 9n);
  assert.is(t.finish(0, 6n), 5n);
  assert.is(t.finish(0, 9n), undefined);
  assert.is(t.finish(0, 5n), 10n);
  assert.is(t.finish(0, 5n), undefined, 'twice is nothing');
});

test.run();
