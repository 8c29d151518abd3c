import { CloudEvent } from 'cloudevents';
import { EventTypes, strictInstant, type VendorDelivered } from '../../catalog.ts';
import { datasetSpec } from '../../../shared/datasets.ts';
import { compactInstant } from '../../../shared/object-store.ts';
import type { HippoEvent } from '../../../shared/cloudevents.ts';

/**
 * A Pub/Sub message as the bridge needs it: the fields of `@google-cloud/pubsub`'s `Message`
 * that it reads, so the logic below runs on any value of that shape.
 */
export interface PubSubMessage {
  /** Unique per topic; the same on every redelivery. */
  id: string;
  data: Uint8Array;
  attributes: Record<string, string>;
  /** When Pub/Sub accepted the message; the same on every redelivery. */
  publishTime: Date;
  /** 1, 2, … when the subscription has a dead-letter policy; 0 when Pub/Sub does not count. */
  deliveryAttempt: number;
  ack(): void;
  nack(): void;
}

/** The formats ingest reads (DESIGN §5). */
export const FORMATS = ['csv', 'jsonl', 'parquet'] as const;
export type VendorFormat = (typeof FORMATS)[number];

/** `source` of the events the bridge emits. */
export const BRIDGE_SOURCE = '/hippo/sources/pubsub';

/**
 * What to do with one vendor message: a `dev.hippo.vendor.delivered` to emit — after writing
 * the message's bytes to `key` when `body` is set (claim check, DESIGN §1) — or the reason it
 * is malformed and goes to the dead-letter topic.
 */
export type Plan =
  | { ok: true; eventId: string; data: VendorDelivered & { key: string }; body?: Uint8Array; time: string }
  | { ok: false; reason: string };

/**
 * Reads a vendor message (attributes `dataset`, `format`, optional `recorded_at`; the rows as
 * its data, or an attribute `key` naming an object already in the store) into a plan.
 * Everything derives from the message's id and publish time, so a redelivery plans the same
 * event id and the same store key: the broker and ingest can tell it is the same delivery.
 * @example
 * planDelivery(message, 'vendor');
 * // { ok: true, eventId: 'pubsub-vendor-42-20240603T093000123Z',
 * //   data: { dataset: 'prices', key: 'incoming/prices/20240603T093000123Z-42.csv', format: 'csv', recordedAt: '2024-06-03T09:30:00.123Z' }, body: … }
 */
export function planDelivery(message: PubSubMessage, subscription: string): Plan {
  const a = message.attributes ?? {};
  const fail = (reason: string): Plan => ({ ok: false, reason });
  if (!a.dataset) return fail('attribute "dataset" is missing');
  if (!datasetSpec(a.dataset)) return fail(`unknown dataset "${a.dataset}" (attribute "dataset")`);
  const format = a.format as VendorFormat | undefined;
  if (format !== undefined && !FORMATS.includes(format)) return fail(`unknown format "${a.format}" (attribute "format": ${FORMATS.join(', ')})`);
  // To the millisecond, as every Hippo instant (the client's PreciseDate prints nanoseconds).
  const published = new Date(message.publishTime.getTime()).toISOString();
  let recordedAt = published;
  if (a.recorded_at !== undefined) {
    const parsed = strictInstant.safeParse(a.recorded_at);
    if (!parsed.success) return fail(`attribute "recorded_at" ${JSON.stringify(a.recorded_at)} ${parsed.error.issues[0]!.message}`);
    recordedAt = new Date(a.recorded_at).toISOString();
  }
  const identity = `${message.id}-${compactInstant(published)}`;
  const base = { eventId: `pubsub-${shortName(subscription)}-${identity}`, time: published };
  const hasData = message.data.byteLength > 0;
  if (a.key !== undefined) {
    if (hasData) return fail('the message has both data and attribute "key": send the rows, or name an object, not both');
    if (!a.key || a.key.startsWith('/') || a.key.split('/').includes('..')) return fail(`attribute "key" ${JSON.stringify(a.key)} is not an object key`);
    if (!format && !/\.(csv|jsonl|parquet)$/i.test(a.key)) return fail(`attribute "format" is missing and key ${JSON.stringify(a.key)} does not end in .csv, .jsonl or .parquet`);
    return { ok: true, ...base, data: { dataset: a.dataset, key: a.key, ...(format ? { format } : {}), recordedAt } };
  }
  if (!hasData) return fail('the message has no data and no attribute "key"');
  if (!format) return fail('attribute "format" is missing (csv, jsonl or parquet)');
  const key = `incoming/${a.dataset}/${identity}.${format}`;
  return { ok: true, ...base, data: { dataset: a.dataset, key, format, recordedAt }, body: message.data };
}

/** The `dev.hippo.vendor.delivered` event of a plan (id and time from the message, never random). */
export function deliveredEvent(plan: Extract<Plan, { ok: true }>): HippoEvent<VendorDelivered> {
  return new CloudEvent<VendorDelivered>({
    id: plan.eventId,
    type: EventTypes.vendorDelivered,
    source: BRIDGE_SOURCE,
    datacontenttype: 'application/json',
    time: plan.time,
    data: plan.data,
  }) as HippoEvent<VendorDelivered>;
}

/** `projects/p/subscriptions/vendor` → `vendor`. */
export function shortName(resource: string): string {
  return resource.slice(resource.lastIndexOf('/') + 1);
}
