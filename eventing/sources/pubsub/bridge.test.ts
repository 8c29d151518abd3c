import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PubSub } from '@google-cloud/pubsub';
import { serve, type ServerType } from '@hono/node-server';
import type { CloudEvent } from 'cloudevents';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { EventTypes, type DatasetChanged, type VendorDelivered } from '../../catalog.ts';
import { binaryMessage, eventFromResponse, readEvent, type HippoEvent } from '../../../shared/cloudevents.ts';
import { loadConfig } from '../../../shared/config.ts';
import { withDuckDB } from '../../../shared/duckdb.ts';
import { HippoError } from '../../../shared/errors.ts';
import { FileStore } from '../../../shared/file-store.ts';
import { loadDatasets } from '../../../shared/lake.ts';
import { parseCompactInstant } from '../../../shared/object-store.ts';
import { freePort, startLocalPlatform, type LocalPlatform } from '../../../local/dev.ts';
import { eventually, pubsubEmulator } from '../../../local/helpers.test-support.ts';
import { pubsubSetup } from '../../../scripts/pubsub.mjs';
import { PubSubBridge } from './bridge.ts';
import type { PubSubMessage } from './message.ts';

const ROOT = new URL('../../../', import.meta.url).pathname;

// ---- the bridge's decisions, with in-memory deps -------------------------------------------

interface FakeMessage extends PubSubMessage { acks: number; nacks: number }

function fake(attributes: Record<string, string>, data = 'sid,date,close\nS1,2024-06-03,10\n', deliveryAttempt = 0, id = '7'): FakeMessage {
  const m: FakeMessage = {
    id, data: Buffer.from(data), attributes, publishTime: new Date('2024-06-03T09:30:00.000Z'), deliveryAttempt, acks: 0, nacks: 0,
    ack: () => void m.acks++,
    nack: () => void m.nacks++,
  };
  return m;
}

interface LogicCtx { dir: string; store: FileStore; posted: HippoEvent[]; dead: [string, string][]; refuse?: Error; bridge: PubSubBridge }
const logic = suite<LogicCtx>('pubsub bridge: acks, nacks and dead letters');
logic.before.each(async (ctx) => {
  ctx.dir = await mkdtemp(join(tmpdir(), 'hippo-bridge-'));
  ctx.store = new FileStore(join(ctx.dir, 'store'));
  ctx.posted = [];
  ctx.dead = [];
  ctx.refuse = undefined;
  ctx.bridge = new PubSubBridge(
    {
      store: ctx.store,
      post: async (e) => {
        if (ctx.refuse) throw ctx.refuse;
        ctx.posted.push(e);
      },
      deadLetter: async (m, reason) => void ctx.dead.push([m.id, reason]),
    },
    { subscription: 'vendor', maxAttempts: 3, backoffMs: 1 },
  );
});
logic.after.each(async (ctx) => rm(ctx.dir, { recursive: true, force: true }));

logic('a good message: bytes in the store, the event posted, then acked; a redelivery is acked without a second post', async (ctx) => {
  const m = fake({ dataset: 'prices', format: 'csv' });
  assert.is(await ctx.bridge.handle(m), 'delivered');
  assert.equal([m.acks, m.nacks], [1, 0]);
  assert.equal(ctx.posted.map((e) => [e.id, e.type, (e.data as VendorDelivered).key]), [
    ['pubsub-vendor-7-20240603T093000000Z', EventTypes.vendorDelivered, 'incoming/prices/7-20240603T093000000Z.csv'],
  ]);
  assert.is(Buffer.from((await ctx.store.get('incoming/prices/7-20240603T093000000Z.csv'))!.body).toString(), 'sid,date,close\nS1,2024-06-03,10\n');
  const again = fake({ dataset: 'prices', format: 'csv' });
  assert.is(await ctx.bridge.handle(again), 'duplicate');
  assert.equal([again.acks, ctx.posted.length], [1, 1]);
  // The same id published later is another message (an emulator restarts its ids at 1).
  const reused = { ...fake({ dataset: 'prices', format: 'csv' }), publishTime: new Date('2024-06-04T00:00:00.000Z') };
  assert.is(await ctx.bridge.handle(reused), 'delivered');
  assert.is(ctx.posted[1]!.id, 'pubsub-vendor-7-20240604T000000000Z');
});

logic('a broker that keeps failing: nacked, then dead-lettered with the reason after maxAttempts (counted by the bridge)', async (ctx) => {
  ctx.refuse = new HippoError('broker at http://b/ refused event x: 503 busy', { code: 'unavailable', status: 503, retriable: true });
  const outcomes = [];
  const m = fake({ dataset: 'prices', format: 'csv' });
  for (let i = 0; i < 3; i++) outcomes.push(await ctx.bridge.handle(m));
  assert.equal(outcomes, ['retry', 'retry', 'dead-lettered']);
  assert.equal([m.nacks, m.acks], [2, 1]);
  assert.equal(ctx.dead, [['7', 'gave up after 3 attempts: broker at http://b/ refused event x: 503 busy']]);
});

logic("Pub/Sub's delivery count is used when it has one; a refusal (4xx) is dead-lettered at once; a key must exist", async (ctx) => {
  ctx.refuse = new Error('fetch failed');
  const last = fake({ dataset: 'prices', format: 'csv' }, 'x', 3, '8');
  assert.is(await ctx.bridge.handle(last), 'dead-lettered');
  ctx.refuse = new HippoError('broker at http://b/ refused event y: 400 bad', { code: 'refused', status: 400, retriable: false });
  const bad = fake({ dataset: 'prices', format: 'csv' }, 'x', 1, '9');
  assert.is(await ctx.bridge.handle(bad), 'dead-lettered');
  ctx.refuse = undefined;
  const missing = fake({ dataset: 'prices', key: 'vendor/none.csv' }, '', 3, '10');
  assert.is(await ctx.bridge.handle(missing), 'dead-lettered');
  const malformed = fake({ format: 'csv' }, 'x', 1, '11');
  assert.is(await ctx.bridge.handle(malformed), 'dead-lettered');
  assert.equal(ctx.dead, [
    ['8', 'gave up after 3 attempts: fetch failed'],
    ['9', 'broker at http://b/ refused event y: 400 bad'],
    ['10', `gave up after 3 attempts: no object vendor/none.csv in ${ctx.store.url} (attribute "key")`],
    ['11', 'attribute "dataset" is missing'],
  ]);
  assert.equal([last, bad, missing, malformed].map((m) => [m.acks, m.nacks]), [[1, 0], [1, 0], [1, 0], [1, 0]]);
  assert.is(ctx.posted.length, 0);
});

logic("a subscription's dead-letter policy with fewer deliveries lowers maxAttempts (never raises it)", async (ctx) => {
  ctx.refuse = new Error('fetch failed');
  ctx.bridge.capAttempts(10);
  const second = fake({ dataset: 'prices', format: 'csv' }, 'x', 2, '13');
  assert.is(await ctx.bridge.handle(second), 'retry');
  ctx.bridge.capAttempts(2);
  const again = fake({ dataset: 'prices', format: 'csv' }, 'x', 2, '13');
  assert.is(await ctx.bridge.handle(again), 'dead-lettered');
  assert.equal(ctx.dead, [['13', 'gave up after 2 attempts: fetch failed']]);
});

logic('a dead-letter topic that fails keeps the message (nack); drain cuts a backoff short', async (ctx) => {
  const failing = new PubSubBridge(
    { store: ctx.store, post: async () => { throw new Error('down'); }, deadLetter: async () => { throw new Error('NOT_FOUND: topic'); } },
    { subscription: 'vendor', maxAttempts: 5, backoffMs: 60_000 },
  );
  const malformed = fake({}, 'x');
  assert.is(await failing.handle(malformed), 'retry');
  assert.equal([malformed.acks, malformed.nacks], [0, 1]);
  const waiting = fake({ dataset: 'prices', format: 'csv' }, 'x', 1, '12');
  const outcome = failing.handle(waiting);
  await new Promise((r) => setTimeout(r, 50));
  assert.is(failing.busy, 1);
  const t0 = Date.now();
  await failing.drain();
  assert.ok(Date.now() - t0 < 1000, 'drain waited out a 60 s backoff');
  assert.equal([await outcome, waiting.nacks], ['retry', 1]);
});

logic.run();

// ---- against Google's Pub/Sub emulator and the local platform ------------------------------

interface Ctx {
  host: string;
  project: string;
  dir: string;
  store: FileStore;
  platform: LocalPlatform;
  client: PubSub;
  children: ChildProcess[];
  servers: ServerType[];
}
/**
 * The real thing: Google's emulator (scripts/pubsub.mjs), the local platform (broker, ingest
 * as a process, a file store), and the bridge as its own process — started by the platform
 * (HIPPO_PUBSUB_SUBSCRIPTION) or, where a test needs to kill it or put a broker of its own in
 * front, by the test.
 */
const emulator = suite<Ctx>('pubsub bridge: Google Pub/Sub emulator → broker → ingest → lake');

/** Each test's own topic and subscription (with a dead-letter policy of 5 and its dead-letter topic). */
async function setup(ctx: Ctx, name: string) {
  await pubsubSetup({ host: ctx.host, project: ctx.project, topic: name, subscription: name, maxDeliveryAttempts: 5 });
  return { topic: ctx.client.topic(name), subscription: name, deadLetter: `${name}-dead-letter` };
}

emulator.before(async (ctx) => {
  // The emulator takes no credentials: no probing for a GCE metadata server (a warning otherwise).
  process.env.METADATA_SERVER_DETECTION ??= 'none';
  ctx.host = await pubsubEmulator();
  ctx.project = `hippo-${randomBytes(4).toString('hex')}`;
  ctx.client = new PubSub({ projectId: ctx.project, apiEndpoint: ctx.host, emulatorMode: true });
  ctx.children = [];
  ctx.servers = [];
  ctx.dir = await mkdtemp(join(tmpdir(), 'hippo-bridge-e2e-'));
  ctx.store = new FileStore(join(ctx.dir, 'store'));
  await setup(ctx, 'vendor');
  ctx.platform = await startLocalPlatform({
    config: loadConfig({
      HIPPO_STORE: ctx.store.url, HIPPO_LOG_LEVEL: 'warn',
      PUBSUB_EMULATOR_HOST: ctx.host, PUBSUB_PROJECT_ID: ctx.project, HIPPO_PUBSUB_SUBSCRIPTION: 'vendor', HIPPO_PUBSUB_BACKOFF_SECONDS: '0.2',
    }),
    store: ctx.store,
    root: ROOT,
    port: await freePort(),
    brokerPort: 0,
    idleMs: 30_000,
  });
});

emulator.after(async (ctx) => {
  for (const child of ctx.children) child.kill('SIGKILL');
  for (const server of ctx.servers) server.close();
  await ctx.platform?.stop();
  await ctx.client?.close();
  await rm(ctx.dir, { recursive: true, force: true });
});

/** Publishes one message; resolves to its id. */
function publish(topic: ReturnType<PubSub['topic']>, attributes: Record<string, string>, data: string | Buffer = '') {
  return topic.publishMessage({ data: Buffer.from(data), attributes });
}

interface Pulled { id: string; data: string; attributes: Record<string, string> }

/** Takes what is on a subscription now (the emulator's REST pull), acking it. */
async function pullNow(ctx: Ctx, subscription: string): Promise<Pulled[]> {
  const url = `http://${ctx.host}/v1/projects/${ctx.project}/subscriptions/${subscription}`;
  const res = await fetch(`${url}:pull`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ maxMessages: 100, returnImmediately: true }) });
  const body = (await res.json()) as { receivedMessages?: { ackId: string; message: { messageId: string; data?: string; attributes?: Record<string, string> } }[] };
  const got = body.receivedMessages ?? [];
  if (got.length) await fetch(`${url}:acknowledge`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ackIds: got.map((g) => g.ackId) }) });
  return got.map((g) => ({ id: g.message.messageId, data: Buffer.from(g.message.data ?? '', 'base64').toString(), attributes: g.message.attributes ?? {} }));
}

/** Rows of a dataset in the lake, and its part keys. */
async function lake(ctx: Ctx, dataset: string, select = 'count(*)::INTEGER AS n') {
  const parts = (await ctx.store.list(`lake/${dataset}/`)).map((o) => o.key);
  const rows = await withDuckDB({}, async (c) => {
    await loadDatasets(c, [dataset], { store: ctx.store, tempDir: ctx.dir, asOf: '2100-01-01T00:00:00Z' });
    return (await c.runAndReadAll(`SELECT ${select} FROM ${dataset}`)).getRowObjectsJS();
  });
  return { parts, rows };
}

const partsOf = (ctx: Ctx, dataset: string, n = 1) =>
  eventually(async () => {
    const parts = await ctx.store.list(`lake/${dataset}/`);
    return parts.length >= n ? parts : undefined;
  }, 60_000, `${n} part(s) of ${dataset} in the lake`);

/** The instant a lake part or incoming key names: `…-20240603T093000123Z…` → ISO. */
const instantIn = (key: string) => parseCompactInstant(/(\d{8}T\d{9}Z)/.exec(key)![1]!);

emulator('csv, jsonl and parquet rows, and a key naming a stored object, reach the lake through the platform\'s own bridge', async (ctx) => {
  const topic = ctx.client.topic('vendor');
  const parquetPath = join(ctx.dir, 'securities.parquet');
  await withDuckDB({}, (c) =>
    c.run(`COPY (SELECT * FROM (VALUES ('S1', 'NYSE', DATE '2001-02-03'), ('S2', 'NASDAQ', DATE '2005-06-07')) t(sid, exchange, listed_on)) TO '${parquetPath}' (FORMAT parquet)`),
  );
  await ctx.store.put('vendor/drop/fundamentals-1.csv', 'sid,field,period_end,value,published_at\nS1,eps,2024-03-31,1.5,2024-04-20\nS2,eps,2024-03-31,2.5,2024-04-21\nS3,eps,2024-03-31,3.5,2024-04-22\n');
  const prices = 'sid,date,close\nS1,2024-06-03,10\nS2,2024-06-03,20\nS3,2024-06-03,30\n';
  const pricesId = await publish(topic, { dataset: 'prices', format: 'csv', recorded_at: '2024-06-03T21:00:00Z' }, prices);
  const macroId = await publish(topic, { dataset: 'macro', format: 'jsonl' }, '{"series":"GDP","period":"2024-03-31","value":1.4,"realtime_start":"2024-04-25"}\n{"series":"CPI","period":"2024-04-30","value":3.1,"realtime_start":"2024-05-15"}\n');
  await publish(topic, { dataset: 'securities', format: 'parquet' }, await readFile(parquetPath));
  await publish(topic, { dataset: 'fundamentals', key: 'vendor/drop/fundamentals-1.csv' });
  for (const dataset of ['prices', 'macro', 'securities', 'fundamentals']) await partsOf(ctx, dataset);

  const p = await lake(ctx, 'prices', `count(*)::INTEGER AS n, sum(close) AS s, min(recorded_at)::VARCHAR AS r`);
  assert.equal(p.rows, [{ n: 3, s: 60, r: '2024-06-03 21:00:00+00' }]);
  assert.is(p.parts.length, 1);
  // The claim check: the message's bytes, once, under the message's id.
  const incoming = (await ctx.store.list('incoming/prices/')).map((o) => o.key);
  assert.equal(incoming.length, 1);
  assert.match(incoming[0]!, new RegExp(`^incoming/prices/${pricesId}-\\d{8}T\\d{9}Z\\.csv$`));
  assert.is(Buffer.from((await ctx.store.get(incoming[0]!))!.body).toString(), prices);
  // No recorded_at attribute: the rows are recorded at the message's publish time.
  const m = await lake(ctx, 'macro', `count(*)::INTEGER AS n, list(series ORDER BY series) AS s`);
  assert.equal(m.rows, [{ n: 2, s: ['CPI', 'GDP'] }]);
  const macroIncoming = (await ctx.store.list('incoming/macro/')).map((o) => o.key);
  assert.match(macroIncoming[0]!, new RegExp(`^incoming/macro/${macroId}-`));
  assert.is(instantIn(m.parts[0]!), instantIn(macroIncoming[0]!));
  assert.equal((await lake(ctx, 'securities', `list(sid || ':' || exchange ORDER BY sid) AS s`)).rows, [{ s: ['S1:NYSE', 'S2:NASDAQ'] }]);
  assert.equal((await lake(ctx, 'fundamentals', `count(*)::INTEGER AS n, sum(value) AS v`)).rows, [{ n: 3, v: 7.5 }]);
  assert.equal(await ctx.store.list('incoming/fundamentals/'), [], 'a key message writes no copy');
  assert.equal(await pullNow(ctx, 'vendor-dead-letter'), []);
});

emulator('a malformed message ends on the dead-letter topic with a reason, and good messages after it keep flowing', async (ctx) => {
  const topic = ctx.client.topic('vendor');
  const noDataset = await publish(topic, { format: 'csv', vendor_batch: 'b-17' }, 'sid,ticker\nS1,AAA\n');
  const badFormat = await publish(topic, { dataset: 'symbols', format: 'xlsx' }, 'PK\u0003\u0004');
  await publish(topic, { dataset: 'symbols', format: 'csv' }, 'sid,ticker,valid_from\nS1,AAA,2020-01-01\nS2,BBB,2021-01-01\n');
  await partsOf(ctx, 'symbols');
  assert.equal((await lake(ctx, 'symbols', `count(*)::INTEGER AS n`)).rows, [{ n: 2 }]);

  const dead = await eventually(async () => {
    const got = await pullNow(ctx, 'vendor-dead-letter');
    return got.length ? got : undefined;
  }, 30_000, 'dead letters');
  const more = await new Promise<Pulled[]>((r) => setTimeout(() => void pullNow(ctx, 'vendor-dead-letter').then(r), 500));
  const letters = [...dead, ...more].sort((a, b) => Number(a.attributes.hippo_message_id) - Number(b.attributes.hippo_message_id));
  assert.equal(letters.map((l) => [l.attributes.hippo_message_id, l.attributes.reason, l.data]), [
    [noDataset, 'attribute "dataset" is missing', 'sid,ticker\nS1,AAA\n'],
    [badFormat, 'unknown format "xlsx" (attribute "format": csv, jsonl, parquet)', 'PK\u0003\u0004'],
  ]);
  // The original attributes travel with it.
  assert.is(letters[0]!.attributes.vendor_batch, 'b-17');
  assert.is(letters[0]!.attributes.format, 'csv');
  assert.is(letters[1]!.attributes.hippo_subscription, 'vendor');
  // Nothing of the malformed ones was written: only the good message's bytes.
  assert.equal((await ctx.store.list('incoming/symbols/')).length, 1);
});

/** A bridge process of the test's own, on `subscription`, posting to `sink`. */
function startBridge(ctx: Ctx, subscription: string, sink: string, env: Record<string, string> = {}): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'eventing/sources/pubsub/main.ts'], {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: {
      PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: process.env.TMPDIR,
      PORT: '0', HIPPO_STORE: ctx.store.url, K_SINK: sink, HIPPO_LOG_LEVEL: 'warn',
      PUBSUB_EMULATOR_HOST: ctx.host, PUBSUB_PROJECT_ID: ctx.project, HIPPO_PUBSUB_SUBSCRIPTION: subscription, ...env,
    },
  });
  ctx.children.push(child);
  return child;
}

const exited = (child: ChildProcess) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.exitCode !== null || child.signalCode !== null ? r({ code: child.exitCode, signal: child.signalCode }) : child.once('exit', (code, signal) => r({ code, signal })),
  );

/** A broker of the test's own: `answer` decides each event's fate. */
async function broker(ctx: Ctx, answer: (event: HippoEvent, req: Request) => Promise<Response>): Promise<string> {
  const port = await freePort();
  await new Promise<void>((resolve) => {
    ctx.servers.push(serve({ port, hostname: '127.0.0.1', fetch: async (req) => answer(await readEvent(req.clone()), req) }, () => resolve()));
  });
  return `http://127.0.0.1:${port}/`;
}

emulator('the bridge killed after the broker accepted, before its ack: Pub/Sub redelivers, ingest stores it once', async (ctx) => {
  const { topic } = await setup(ctx, 'vendor-kill');
  // The broker: hands each event to the platform's real ingest process (as the dispatcher
  // does), keeps the dataset.changed reply, and answers 202 — after killing the bridge the
  // first time, so it dies with the event accepted and its message not yet acked.
  const seen: { id: string; changed: CloudEvent<DatasetChanged> }[] = [];
  let first: ChildProcess | undefined;
  const sink = await broker(ctx, async (event) => {
    const m = binaryMessage(event);
    const res = await ctx.platform.runner.deliver('ingest', new Request('http://ingest/', { method: 'POST', headers: m.headers, body: m.body }), 120_000);
    assert.is(res.status, 200, await res.clone().text());
    seen.push({ id: event.id, changed: (await eventFromResponse(res)) as CloudEvent<DatasetChanged> });
    if (seen.length === 1) {
      first!.kill('SIGKILL');
      await exited(first!);
    }
    return new Response(null, { status: 202 });
  });
  first = startBridge(ctx, 'vendor-kill', sink);
  const rows = 'index_name,sid,added_on\nSP500,S1,2020-01-02\nSP500,S2,2020-01-02\nSP500,S3,2021-03-04\nR2000,S4,2019-07-01\nR2000,S5,2019-07-01\n';
  const id = await publish(topic, { dataset: 'memberships', format: 'csv', recorded_at: '2024-06-04T00:00:00Z' }, rows);
  assert.equal(await exited(first), { code: null, signal: 'SIGKILL' });
  assert.is(seen.length, 1);

  const second = startBridge(ctx, 'vendor-kill', sink);
  await eventually(async () => seen.length >= 2, 60_000, 'the redelivery');
  assert.match(seen[0]!.id, new RegExp(`^pubsub-vendor-kill-${id}-\\d{8}T\\d{9}Z$`));
  assert.is(seen[1]!.id, seen[0]!.id);
  // Both replies name the one part, under one dataset.changed id.
  assert.is(seen[1]!.changed.id, seen[0]!.changed.id);
  assert.equal(seen[1]!.changed.data, seen[0]!.changed.data);
  const { parts, rows: counted } = await lake(ctx, 'memberships', `count(*)::INTEGER AS n, count(DISTINCT sid)::INTEGER AS d`);
  assert.equal(parts, seen[0]!.changed.data!.parts);
  assert.is(parts.length, 1);
  assert.equal(counted, [{ n: 5, d: 5 }]);

  // The second bridge acked it: stopped cleanly (SIGTERM), it leaves nothing on the subscription.
  second.kill('SIGTERM');
  assert.equal(await exited(second), { code: 0, signal: null });
  assert.equal(await pullNow(ctx, 'vendor-kill'), []);
  assert.is(seen.length, 2);
  assert.equal(await pullNow(ctx, 'vendor-kill-dead-letter'), []);
});

emulator('a broker that keeps failing, or refuses an event: dead-lettered with the reason; the bridge goes on', async (ctx) => {
  const { topic } = await setup(ctx, 'vendor-fail');
  const tries: Record<string, number> = {};
  const sink = await broker(ctx, async (event) => {
    const dataset = (event.data as VendorDelivered).dataset;
    tries[dataset] = (tries[dataset] ?? 0) + 1;
    if (dataset === 'prices') return new Response('broker overloaded', { status: 503 });
    if (dataset === 'securities') return Response.json({ error: { code: 'invalid_event', message: 'no' } }, { status: 400 });
    return new Response(null, { status: 202 });
  });
  const bridge = startBridge(ctx, 'vendor-fail', sink, { HIPPO_PUBSUB_MAX_ATTEMPTS: '3', HIPPO_PUBSUB_BACKOFF_SECONDS: '0.05' });
  const busy = await publish(topic, { dataset: 'prices', format: 'csv' }, 'sid,date\nS1,2024-06-03\n');
  const refused = await publish(topic, { dataset: 'securities', format: 'csv' }, 'sid\nS1\n');
  await publish(topic, { dataset: 'macro', format: 'csv' }, 'series\nGDP\n');

  const letters: Pulled[] = [];
  await eventually(async () => {
    letters.push(...(await pullNow(ctx, 'vendor-fail-dead-letter')));
    return letters.length >= 2 && tries.macro === 1;
  }, 30_000, 'two dead letters and the good message');
  letters.sort((a, b) => Number(a.attributes.hippo_message_id) - Number(b.attributes.hippo_message_id));
  const [busyLetter, refusedLetter] = letters;
  assert.is(busyLetter!.attributes.hippo_message_id, busy);
  assert.match(busyLetter!.attributes.reason!, new RegExp(`^gave up after 3 attempts: broker at ${sink} refused event pubsub-vendor-fail-${busy}-\\d{8}T\\d{9}Z: 503 broker overloaded$`));
  assert.is(busyLetter!.attributes.hippo_delivery_attempt, '3');
  assert.is(refusedLetter!.attributes.hippo_message_id, refused);
  assert.match(refusedLetter!.attributes.reason!, / 400 \{"error":\{"code":"invalid_event","message":"no"\}\}$/);
  assert.is(refusedLetter!.data, 'sid\nS1\n');
  assert.equal(tries, { prices: 3, securities: 1, macro: 1 });
  assert.is(bridge.exitCode, null, 'the bridge is still running');
  assert.is(letters.length, 2);
});

emulator.run();
