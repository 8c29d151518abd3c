import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { EventTypes } from '../../catalog.ts';
import { deliveredEvent, planDelivery, type PubSubMessage } from './message.ts';

const test = suite('pubsub bridge: a vendor message as a vendor.delivered plan');

const PUBLISHED = new Date('2024-06-03T09:30:00.123Z');

function message(attributes: Record<string, string>, data = 'sid,date,close\nS1,2024-06-03,10\n', id = '42'): PubSubMessage {
  return { id, data: Buffer.from(data), attributes, publishTime: PUBLISHED, deliveryAttempt: 1, ack() {}, nack() {} };
}

test('rows as data: written under incoming/<dataset>/, recorded at the publish time; ids derive from the message', () => {
  const plan = planDelivery(message({ dataset: 'prices', format: 'csv' }), 'projects/p1/subscriptions/vendor');
  assert.ok(plan.ok);
  if (!plan.ok) return;
  assert.is(plan.eventId, 'pubsub-vendor-42-20240603T093000123Z');
  assert.equal(plan.data, { dataset: 'prices', key: 'incoming/prices/42-20240603T093000123Z.csv', format: 'csv', recordedAt: '2024-06-03T09:30:00.123Z' });
  assert.is(Buffer.from(plan.body!).toString(), 'sid,date,close\nS1,2024-06-03,10\n');
  // A redelivery plans exactly the same.
  assert.equal(planDelivery(message({ dataset: 'prices', format: 'csv' }), 'projects/p1/subscriptions/vendor'), plan);
  const event = deliveredEvent(plan);
  assert.equal(
    { id: event.id, type: event.type, source: event.source, time: event.time, data: event.data },
    { id: plan.eventId, type: EventTypes.vendorDelivered, source: '/hippo/sources/pubsub', time: '2024-06-03T09:30:00.123Z', data: plan.data },
  );
});

test('recorded_at attribute wins over the publish time; a key attribute is used as it is', () => {
  const a = planDelivery(message({ dataset: 'macro', format: 'jsonl', recorded_at: '2024-06-01T12:00:00+02:00' }, '{"series":"GDP"}\n'), 'vendor');
  assert.ok(a.ok && a.data.recordedAt === '2024-06-01T10:00:00.000Z' && a.data.key === 'incoming/macro/42-20240603T093000123Z.jsonl');
  const b = planDelivery(message({ dataset: 'fundamentals', key: 'vendor/drop/f.csv' }, ''), 'vendor');
  assert.equal(b, {
    ok: true, eventId: 'pubsub-vendor-42-20240603T093000123Z', time: '2024-06-03T09:30:00.123Z',
    data: { dataset: 'fundamentals', key: 'vendor/drop/f.csv', recordedAt: '2024-06-03T09:30:00.123Z' },
  });
  const c = planDelivery(message({ dataset: 'securities', key: 'vendor/drop/s.bin', format: 'parquet' }, ''), 'vendor');
  assert.ok(c.ok && c.data.format === 'parquet' && c.body === undefined);
});

test('a malformed message is named, never guessed', () => {
  const cases: [Record<string, string>, string, string][] = [
    [{ format: 'csv' }, 'x', 'attribute "dataset" is missing'],
    [{ dataset: 'pricez', format: 'csv' }, 'x', 'unknown dataset "pricez" (attribute "dataset")'],
    [{ dataset: 'prices', format: 'xlsx' }, 'x', 'unknown format "xlsx" (attribute "format": csv, jsonl, parquet)'],
    [{ dataset: 'prices' }, 'x', 'attribute "format" is missing (csv, jsonl or parquet)'],
    [{ dataset: 'prices', format: 'csv' }, '', 'the message has no data and no attribute "key"'],
    [{ dataset: 'prices', format: 'csv', key: 'a.csv' }, 'x', 'the message has both data and attribute "key": send the rows, or name an object, not both'],
    [{ dataset: 'prices', key: 'vendor/a' }, '', 'attribute "format" is missing and key "vendor/a" does not end in .csv, .jsonl or .parquet'],
    [{ dataset: 'prices', key: '../runs/r1.json', format: 'csv' }, '', 'attribute "key" "../runs/r1.json" is not an object key'],
    [{ dataset: 'prices', format: 'csv', recorded_at: '2024-06-03 09:30' }, 'x', 'attribute "recorded_at" "2024-06-03 09:30" must be an ISO-8601 instant with an offset, e.g. 2024-06-01T00:00:00Z'],
    [{ dataset: 'prices', format: 'csv', recorded_at: '2024-02-30T00:00:00Z' }, 'x', 'attribute "recorded_at" "2024-02-30T00:00:00Z" is not a real calendar date'],
  ];
  for (const [attributes, data, reason] of cases) assert.equal(planDelivery(message(attributes, data), 'vendor'), { ok: false, reason }, reason);
});

test.run();
