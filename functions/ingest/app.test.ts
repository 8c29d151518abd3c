import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudEvent } from 'cloudevents';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { EventTypes } from '../../eventing/catalog.ts';
import { binaryMessage, eventFromResponse } from '../../shared/cloudevents.ts';
import { FileStore } from '../../shared/file-store.ts';
import { silentLogger } from '../../shared/log.ts';
import { createApp } from './app.ts';

interface Ctx { dir: string; store: FileStore }
const test = suite<Ctx>('ingest app');
test.before.each(async (ctx) => {
  ctx.dir = await mkdtemp(join(tmpdir(), 'hippo-ingest-app-'));
  ctx.store = new FileStore(join(ctx.dir, 'store'));
});
test.after.each(async (ctx) => rm(ctx.dir, { recursive: true, force: true }));

const CSV = 'sid,date,close\nS1,2010-01-04,10\nS1,2010-01-05,11\nS2,2010-01-04,20\n';

function delivered(data: Record<string, unknown>, id = 'pubsub-vendor-1', time?: string): Request {
  const event = new CloudEvent({ id, type: EventTypes.vendorDelivered, source: '/hippo/sources/pubsub', datacontenttype: 'application/json', data, ...(time ? { time } : {}) });
  const m = binaryMessage(event);
  return new Request('http://ingest/', { method: 'POST', headers: m.headers, body: m.body });
}

test('a redelivered vendor.delivered is ingested once; both replies name the same part under the same event id', async (ctx) => {
  await ctx.store.put('incoming/prices/1.csv', CSV);
  const app = createApp({ store: ctx.store, log: silentLogger });
  const data = { dataset: 'prices', key: 'incoming/prices/1.csv', format: 'csv', recordedAt: '2024-06-03T09:30:00.123Z' };
  const replies = [];
  for (let i = 0; i < 2; i++) {
    const res = await app.request(delivered(data));
    assert.is(res.status, 200);
    replies.push((await eventFromResponse(res))!);
  }
  const [first, second] = replies;
  assert.is(first!.type, EventTypes.datasetChanged);
  assert.is(second!.id, first!.id);
  assert.equal(second!.data, first!.data);
  const parts = (await ctx.store.list('lake/prices/')).map((o) => o.key);
  assert.is(parts.length, 1);
  assert.equal(first!.data, { dataset: 'prices', parts, recordedAt: '2024-06-03T09:30:00.123Z' });
  assert.match(parts[0]!, /^lake\/prices\/part-20240603T093000123Z-[0-9A-Z]{26}\.parquet$/);
});

test('without recordedAt the event time is recorded_at, so a redelivery of inline records lands on the same part', async (ctx) => {
  const app = createApp({ store: ctx.store, log: silentLogger });
  const data = { dataset: 'prices', records: [{ sid: 'S1', date: '2010-01-04', close: 10 }] };
  for (let i = 0; i < 2; i++) assert.is((await app.request(delivered(data, 'curl-1', '2024-06-03T10:00:00Z'))).status, 200);
  const parts = (await ctx.store.list('lake/prices/')).map((o) => o.key);
  assert.is(parts.length, 1);
  assert.match(parts[0]!, /^lake\/prices\/part-20240603T100000000Z-/);
  // Another event id is another delivery.
  assert.is((await app.request(delivered(data, 'curl-2', '2024-06-03T10:00:00Z'))).status, 200);
  assert.is((await ctx.store.list('lake/prices/')).length, 2);
});

test.run();
