import { Kafka as CloudEventsKafka, type CloudEventV1 } from 'cloudevents';
import { Kafka, logLevel, type Consumer, type IHeaders, type KafkaMessage, type Producer } from 'kafkajs';
import type { HippoEvent } from '../shared/cloudevents.ts';
import type { Logger } from '../shared/log.ts';
import { silentLogger } from '../shared/log.ts';
import type { Bus, Handler } from './bus.ts';

export interface KafkaBusOptions {
  brokers: string[];
  topic: string;
  /** Partitions of the topic when Hippo creates it. */
  partitions?: number;
  /**
   * Prefix of the consumer group ids (`<prefix><group>`). Default `<topic>.`: two platforms on
   * one broker with different topics must never share a group (a group's members would split
   * partitions of topics they do not read, and stall).
   */
  groupPrefix?: string;
  /** Handlers running at once per group, across its partitions (then the group pauses). */
  maxInFlight?: number;
  /** Checks a parsed event beyond the CloudEvents spec (known type, valid data); returns the reason it is malformed. */
  validate?: (event: HippoEvent) => string | undefined;
  clientId?: string;
  log?: Logger;
}

export const kafkaBusDefaults = { partitions: 6, maxInFlight: 64, clientId: 'hippo' };

/**
 * The Kafka bus (DESIGN §1, §3, §10): the broker's events on one topic, in CloudEvents
 * **binary** mode (`ce_*` headers, key = `partitionkey` = run id). `publish` resolves once
 * every in-sync replica has the record (acks=all, idempotent producer). Each subscription is
 * its own consumer group, as Knative's Kafka broker gives each Trigger one. Delivery is
 * unordered within a partition (Knative's default): records are handled concurrently, and a
 * partition's offset is committed only up to the last record whose handler has finished —
 * delivered, or dead-lettered — so a crash redelivers what was in flight, never skips it.
 * A record that is not a CloudEvent is passed over by the groups and written once, with
 * its reason, to `<topic>.dead-letter` by the `validator` group.
 */
export class KafkaBus implements Bus {
  private readonly kafka: Kafka;
  private readonly producer: Producer;
  private readonly consumers: Consumer[] = [];
  private readonly inflight = new Set<Promise<void>>();
  private readonly log: Logger;
  private readonly options: KafkaBusOptions & typeof kafkaBusDefaults & { groupPrefix: string };
  private started?: Promise<void>;
  private closed = false;

  constructor(options: KafkaBusOptions) {
    this.options = { ...kafkaBusDefaults, groupPrefix: `${options.topic}.`, ...options };
    this.log = options.log ?? silentLogger;
    this.kafka = new Kafka({
      clientId: this.options.clientId,
      brokers: options.brokers,
      logLevel: logLevel.NOTHING,
      retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 5000 },
    });
    this.producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  }

  get deadLetterTopic(): string {
    return `${this.options.topic}.dead-letter`;
  }

  /** Creates the topics if missing and connects the producer. Called by publish/subscribe. */
  start(): Promise<void> {
    this.started ??= (async () => {
      const admin = this.kafka.admin();
      await admin.connect();
      try {
        const existing = new Set(await admin.listTopics());
        const wanted = [this.options.topic, this.deadLetterTopic].filter((t) => !existing.has(t));
        if (wanted.length) {
          await admin.createTopics({
            waitForLeaders: true,
            topics: wanted.map((topic) => ({ topic, numPartitions: topic === this.options.topic ? this.options.partitions : 1 })),
          });
        }
      } finally {
        await admin.disconnect();
      }
      await this.producer.connect();
    })();
    return this.started;
  }

  async publish(event: HippoEvent): Promise<void> {
    await this.start();
    const m = CloudEventsKafka.binary(event as CloudEventV1<unknown>);
    const key = event.partitionkey ?? event.runid ?? event.id;
    await this.producer.send({
      topic: this.options.topic,
      acks: -1,
      messages: [{ key: String(key), value: bodyBuffer(m.body), headers: stringHeaders(m.headers) }],
    });
  }

  async subscribe(group: string, handler: Handler): Promise<void> {
    await this.start();
    const consumer = this.kafka.consumer({
      groupId: `${this.options.groupPrefix}${group}`,
      allowAutoTopicCreation: false,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
      maxWaitTimeInMs: 100,
    });
    this.consumers.push(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic: this.options.topic, fromBeginning: true });
    const tracker = new OffsetTracker();
    let running = 0;
    let paused = false;
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: this.options.partitions,
      eachMessage: async ({ topic, partition, message }) => {
        const event = toEvent(message);
        const offset = BigInt(message.offset);
        tracker.start(partition, offset);
        const work = (async () => {
          try {
            if (typeof event === 'string') {
              this.log.debug('skipping a malformed record', { group, partition, offset: message.offset, reason: event });
            } else {
              await handler(event);
            }
          } catch (err) {
            // The dispatcher never throws; anything else is a bug, logged, and the record counts as handled.
            this.log.error('handler failed', { group, partition, offset: message.offset, err });
          } finally {
            running--;
            const commit = tracker.finish(partition, offset);
            if (paused && running < this.options.maxInFlight) {
              paused = false;
              consumer.resume([{ topic }]);
            }
            if (commit !== undefined && !this.closed) {
              await consumer
                .commitOffsets([{ topic, partition, offset: commit.toString() }])
                .catch((err) => this.log.warn('offset commit failed; the records will be delivered again', { group, partition, err }));
            }
          }
        })();
        running++;
        this.inflight.add(work);
        void work.finally(() => this.inflight.delete(work));
        if (running >= this.options.maxInFlight && !paused) {
          paused = true;
          consumer.pause([{ topic }]);
        }
      },
    });
    // A rebalance hands partitions to another member: forget what this one tracked there.
    consumer.on(consumer.events.GROUP_JOIN, () => tracker.reset());
  }

  /**
   * The `validator` group: every record that is not a well-formed Hippo CloudEvent goes to
   * `<topic>.dead-letter` once, with its reason in a header, and is logged.
   */
  async startValidator(): Promise<void> {
    await this.subscribeRaw('validator', async (message, partition) => {
      const event = toEvent(message);
      const reason = typeof event === 'string' ? event : this.options.validate?.(event);
      if (!reason) return;
      this.log.warn('malformed record dead-lettered', { partition, offset: message.offset, reason });
      await this.producer.send({
        topic: this.deadLetterTopic,
        acks: -1,
        messages: [{
          key: message.key,
          value: message.value,
          headers: { ...message.headers, 'hippo-dead-letter-reason': reason, 'hippo-source-offset': `${partition}:${message.offset}` },
        }],
      });
    });
  }

  private async subscribeRaw(group: string, fn: (m: KafkaMessage, partition: number) => Promise<void>): Promise<void> {
    await this.start();
    const consumer = this.kafka.consumer({ groupId: `${this.options.groupPrefix}${group}`, allowAutoTopicCreation: false, maxWaitTimeInMs: 100 });
    this.consumers.push(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic: this.options.topic, fromBeginning: true });
    // Sequential per partition, committed after each record: the validator's work is quick.
    await consumer.run({ partitionsConsumedConcurrently: this.options.partitions, eachMessage: async ({ partition, message }) => fn(message, partition) });
  }

  /**
   * Stops consuming at once (what is in flight is not committed: it is delivered again after
   * a restart), lets in-flight handlers finish — they may still publish replies — then
   * disconnects the producer.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled(this.consumers.map((c) => c.disconnect()));
    await Promise.allSettled([...this.inflight]);
    await this.producer.disconnect().catch(() => {});
  }
}

/** The record as a CloudEvent, or the reason it is not one. kafkajs gives header values as Buffers. */
function toEvent(message: KafkaMessage): HippoEvent | string {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(message.headers ?? {})) {
    if (v === undefined) continue;
    headers[k.toLowerCase()] = Array.isArray(v) ? String(v[0]) : String(v);
  }
  try {
    let value: Buffer | string = message.value ?? Buffer.alloc(0);
    if (headers['content-type']?.startsWith('application/cloudevents+json')) {
      // Structured mode. The binding turns a missing `time` into "Invalid time value"; an
      // event without one takes the record's timestamp, as the HTTP binding takes now.
      const obj = JSON.parse(value.toString()) as Record<string, unknown>;
      obj.time ??= new Date(Number(message.timestamp)).toISOString();
      value = JSON.stringify(obj);
    }
    const event = CloudEventsKafka.toEvent({
      key: message.key?.toString() ?? '',
      value,
      headers,
      body: value,
      timestamp: message.timestamp,
    } as never) as CloudEventV1<unknown>;
    if (Array.isArray(event)) return 'a batch of CloudEvents is not accepted';
    return event as HippoEvent;
  } catch (err) {
    return `not a CloudEvent: ${(err as Error).message}`;
  }
}

function stringHeaders(headers: Record<string, unknown>): IHeaders {
  const out: IHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && v !== null) out[k] = String(v);
  return out;
}

function bodyBuffer(body: unknown): Buffer {
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof Uint8Array) return Buffer.from(body);
  return Buffer.from(JSON.stringify(body));
}

/**
 * Per partition, the offsets in flight. `finish` returns the offset to commit — the lowest
 * still in flight, or one past the highest finished when none is — or undefined when that
 * is no further than the last commit. Gaps in offsets (control records) do not stall it.
 */
export class OffsetTracker {
  private readonly partitions = new Map<number, { pending: Set<bigint>; highest: bigint; committed: bigint }>();

  start(partition: number, offset: bigint): void {
    let p = this.partitions.get(partition);
    if (!p) this.partitions.set(partition, (p = { pending: new Set(), highest: -1n, committed: -1n }));
    p.pending.add(offset);
  }

  finish(partition: number, offset: bigint): bigint | undefined {
    const p = this.partitions.get(partition);
    if (!p || !p.pending.delete(offset)) return undefined;
    if (offset > p.highest) p.highest = offset;
    let next = p.highest + 1n;
    for (const o of p.pending) if (o < next) next = o;
    if (next <= p.committed) return undefined;
    p.committed = next;
    return next;
  }

  reset(): void {
    this.partitions.clear();
  }
}
