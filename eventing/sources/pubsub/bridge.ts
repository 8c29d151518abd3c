import { HippoError, PreconditionFailedError } from '../../../shared/errors.ts';
import type { Logger } from '../../../shared/log.ts';
import { silentLogger } from '../../../shared/log.ts';
import type { ObjectStore } from '../../../shared/object-store.ts';
import type { Emit } from '../../bus.ts';
import { deliveredEvent, planDelivery, shortName, type PubSubMessage } from './message.ts';

export interface BridgeDeps {
  /** Where message bytes go (`incoming/<dataset>/…`) and `key` attributes point. */
  store: ObjectStore;
  /** Posts an event to the broker; throws on refusal (`HippoError.retriable` says whether a retry may help). */
  post: Emit;
  /** Publishes the message to the dead-letter topic with `reason` added to its attributes. */
  deadLetter: (message: PubSubMessage, reason: string) => Promise<void>;
  log?: Logger;
}

export interface BridgeOptions {
  /** The subscription's name (full or short): part of every event id. */
  subscription: string;
  /** Deliveries of one message before it goes to the dead-letter topic (Pub/Sub's count, else the bridge's own). */
  maxAttempts?: number;
  /** Wait before a failed message goes back (nack), doubling per attempt, with jitter. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Message ids remembered as delivered (an ack lost on the way is then only acked again). */
  rememberDelivered?: number;
}

/** 10 attempts with backoff from 1 s: a message gives up after 2–4 minutes of failures (a broker restart passes). */
export const bridgeDefaults = { maxAttempts: 10, backoffMs: 1_000, maxBackoffMs: 60_000, rememberDelivered: 10_000 } satisfies Partial<BridgeOptions>;

/** What became of one message. */
export type Outcome = 'delivered' | 'duplicate' | 'dead-lettered' | 'retry';

/**
 * The Pub/Sub bridge (issue 9): each vendor message on a subscription becomes a
 * `dev.hippo.vendor.delivered` CloudEvent posted to the broker (`K_SINK`). At-least-once end
 * to end: a message is acked only after the broker accepted its event, and nacked when that
 * failed, so Pub/Sub delivers it again; the event's id and store key derive from the message,
 * so ingest stores a redelivery once. A malformed message — and one that keeps failing — goes
 * to the dead-letter topic with a `reason` attribute and is acked: one bad message never
 * stops the bridge.
 *
 * ```ts
 * const bridge = new PubSubBridge({ store, post: httpEmit(kSink), deadLetter, log }, { subscription: 'vendor' });
 * subscription.on('message', (m) => void bridge.handle(m));
 * ```
 */
export class PubSubBridge {
  private readonly options: Required<BridgeOptions>;
  private readonly log: Logger;
  /** Messages (id@publish time) whose event the broker accepted, oldest first. */
  private readonly delivered = new Set<string>();
  /** Failed deliveries per message (id@publish time), where Pub/Sub does not count them (no dead-letter policy). */
  private readonly failures = new Map<string, number>();
  private readonly inflight = new Set<Promise<Outcome>>();
  private stopping = false;
  private readonly wake = new Set<() => void>();

  constructor(private readonly deps: BridgeDeps, options: BridgeOptions) {
    this.options = { ...bridgeDefaults, ...options };
    this.log = (deps.log ?? silentLogger).child({ subscription: shortName(options.subscription) });
  }

  /** Handles one message to the end: acked (delivered, or dead-lettered) or nacked. Never throws. */
  handle(message: PubSubMessage): Promise<Outcome> {
    const p = this.process(message);
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
    return p;
  }

  /**
   * Dead-letters by `max` deliveries at the latest: a subscription whose own dead-letter policy
   * stops at fewer would forward the message itself, without a reason.
   */
  capAttempts(max: number): void {
    if (max >= 1 && max < this.options.maxAttempts) {
      this.log.warn('maxAttempts lowered to the subscription\'s dead-letter policy', { from: this.options.maxAttempts, to: max });
      this.options.maxAttempts = max;
    }
  }

  /** Messages in hand now. */
  get busy(): number {
    return this.inflight.size;
  }

  /** Finishes the messages in hand: a delivery in progress completes; a backoff wait is cut short (nack now). */
  async drain(): Promise<void> {
    this.stopping = true;
    for (const w of this.wake) w();
    await Promise.allSettled([...this.inflight]);
  }

  private async process(m: PubSubMessage): Promise<Outcome> {
    const fields = { messageId: m.id, attempt: m.deliveryAttempt || undefined };
    // The id with the publish time: ids are unique per topic, but an emulator restarts them at 1.
    const identity = `${m.id}@${m.publishTime.getTime()}`;
    try {
      if (this.delivered.has(identity)) {
        // Pub/Sub delivered again a message whose event the broker already has (the ack was lost).
        m.ack();
        this.log.info('redelivered message acked again', fields);
        return 'duplicate';
      }
      const plan = planDelivery(m, this.options.subscription);
      if (!plan.ok) return await this.deadLetter(m, identity, plan.reason, fields);
      try {
        if (plan.body) await this.writeOnce(plan.data.key, plan.body);
        else if (!(await this.deps.store.head(plan.data.key))) {
          throw new HippoError(`no object ${plan.data.key} in ${this.deps.store.url} (attribute "key")`, { code: 'not_found', status: 404, retriable: true });
        }
        await this.deps.post(deliveredEvent(plan));
      } catch (err) {
        return await this.failed(m, identity, err as Error, fields);
      }
      this.remember(identity);
      m.ack();
      this.log.info('delivered', { ...fields, event: plan.eventId, dataset: plan.data.dataset, key: plan.data.key });
      return 'delivered';
    } catch (err) {
      // The dead-letter topic itself failed: keep the message; Pub/Sub offers it again.
      this.log.error('message kept for redelivery: dead-lettering failed', { ...fields, err });
      m.nack();
      return 'retry';
    }
  }

  /** The message's bytes under its key; a redelivery finds them there already (If-None-Match). */
  private async writeOnce(key: string, body: Uint8Array): Promise<void> {
    try {
      await this.deps.store.put(key, body, { ifNoneMatch: '*' });
    } catch (err) {
      if (!(err instanceof PreconditionFailedError)) throw err;
    }
  }

  private async failed(m: PubSubMessage, identity: string, err: Error, fields: Record<string, unknown>): Promise<Outcome> {
    if (err instanceof HippoError && !err.retriable) return this.deadLetter(m, identity, err.message, fields);
    const attempt = m.deliveryAttempt > 0 ? m.deliveryAttempt : this.countFailure(identity);
    if (attempt >= this.options.maxAttempts) {
      return this.deadLetter(m, identity, `gave up after ${attempt} attempts: ${err.message}`, fields);
    }
    const wait = this.backoff(attempt);
    this.log.warn('delivery failed; the message goes back', { ...fields, err, retryInMs: wait });
    await this.sleep(wait);
    m.nack();
    return 'retry';
  }

  private async deadLetter(m: PubSubMessage, identity: string, reason: string, fields: Record<string, unknown>): Promise<Outcome> {
    await this.deps.deadLetter(m, reason);
    m.ack();
    this.failures.delete(identity);
    this.log.warn('message dead-lettered', { ...fields, reason });
    return 'dead-lettered';
  }

  private countFailure(id: string): number {
    const n = (this.failures.get(id) ?? 0) + 1;
    this.failures.delete(id);
    this.failures.set(id, n);
    if (this.failures.size > this.options.rememberDelivered) this.failures.delete(this.failures.keys().next().value!);
    return n;
  }

  private remember(id: string): void {
    this.failures.delete(id);
    this.delivered.add(id);
    if (this.delivered.size > this.options.rememberDelivered) this.delivered.delete(this.delivered.values().next().value!);
  }

  /** Jittered exponential backoff (kafkajs-style): base × 2^(attempt−1), capped, times 0.5–1. */
  private backoff(attempt: number): number {
    const { backoffMs, maxBackoffMs } = this.options;
    return Math.round(Math.min(backoffMs * 2 ** (attempt - 1), maxBackoffMs) * (0.5 + Math.random() / 2));
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopping || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake.add(done);
    });
  }
}
