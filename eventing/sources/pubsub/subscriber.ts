import { Duration, PubSub, type Message, type Subscription } from '@google-cloud/pubsub';
import { ConfigError } from '../../../shared/errors.ts';
import { silentLogger } from '../../../shared/log.ts';
import { PubSubBridge, type BridgeDeps, type BridgeOptions } from './bridge.ts';
import { shortName, type PubSubMessage } from './message.ts';

export interface PubSubSourceOptions extends BridgeOptions {
  /** Project of short names; else the one in `subscription`'s full name, else the client's default. */
  projectId?: string;
  /** `host:port` of the emulator (PUBSUB_EMULATOR_HOST); unset = Google Cloud. */
  emulatorHost?: string;
  /** Dead-letter topic (short or full name); default `<subscription>-dead-letter`. */
  deadLetterTopic?: string;
  /** Messages in hand at once (flow control). */
  maxMessages?: number;
  /** How long `stop` lets the messages in hand finish. */
  closeTimeoutMs?: number;
}

export interface PubSubSource {
  bridge: PubSubBridge;
  /** Pulling: the subscription is open. */
  ready(): boolean;
  stop(): Promise<void>;
}

/** The attribute values Pub/Sub accepts are at most 1024 bytes. */
const MAX_ATTRIBUTE_BYTES = 1024;

/**
 * The bridge on a real subscription (`@google-cloud/pubsub` 5.x, streaming pull): messages
 * go to `PubSubBridge.handle`, dead letters to their topic, and a subscription that fails
 * (deleted, no permission, the emulator restarted) is reopened with backoff, not given up.
 *
 * ```ts
 * const source = startPubSubSource({ store, post: httpEmit(kSink), log }, { subscription: 'vendor', projectId: 'hippo-local', emulatorHost: '127.0.0.1:8085' });
 * await source.stop(); // SIGTERM: stop pulling, finish the messages in hand, close
 * ```
 */
export function startPubSubSource(deps: Omit<BridgeDeps, 'deadLetter'>, options: PubSubSourceOptions): PubSubSource {
  const log = (deps.log ?? silentLogger).child({ subscription: shortName(options.subscription) });
  const projectId = options.projectId ?? /^projects\/([^/]+)\//.exec(options.subscription)?.[1];
  if (options.emulatorHost && !projectId) {
    throw new ConfigError('PUBSUB_PROJECT_ID is required with PUBSUB_EMULATOR_HOST (or name the subscription projects/<project>/subscriptions/<name>)');
  }
  const client = new PubSub({
    ...(projectId ? { projectId } : {}),
    ...(options.emulatorHost ? { apiEndpoint: options.emulatorHost, emulatorMode: true } : {}),
  });
  const deadLetterName = options.deadLetterTopic ?? `${shortName(options.subscription)}-dead-letter`;
  const deadLetterTopic = client.topic(deadLetterName, { batching: { maxMessages: 1, maxMilliseconds: 0 } });
  const closeTimeoutMs = options.closeTimeoutMs ?? 25_000;
  const subscription: Subscription = client.subscription(options.subscription, {
    flowControl: { maxMessages: options.maxMessages ?? 10, allowExcessMessages: false },
    // SIGTERM: pull no more; what is in hand is acked or nacked before the client closes.
    closeOptions: { behavior: 'WAIT', timeout: Duration.from({ milliseconds: closeTimeoutMs }) },
  });

  const deadLetter = async (m: PubSubMessage, reason: string) => {
    await deadLetterTopic.publishMessage({
      data: Buffer.from(m.data),
      attributes: {
        ...m.attributes,
        reason: truncate(reason),
        hippo_subscription: shortName(options.subscription),
        hippo_message_id: m.id,
        hippo_publish_time: new Date(m.publishTime.getTime()).toISOString(),
        ...(m.deliveryAttempt > 0 ? { hippo_delivery_attempt: String(m.deliveryAttempt) } : {}),
      },
    });
  };
  const bridge = new PubSubBridge({ ...deps, deadLetter }, options);

  let stopping = false;
  let reopenMs = 1_000;
  let reopenTimer: NodeJS.Timeout | undefined;
  subscription.on('message', (m: Message) => {
    reopenMs = 1_000;
    void bridge.handle(m);
  });
  subscription.on('error', (err: Error & { code?: number }) => log.error('subscription failed', { err, grpcCode: err.code }));
  subscription.on('close', () => {
    if (stopping) return;
    // A stream that ended on an error: try again, backing off to a try every 30 s.
    log.warn('subscription closed; reopening', { inMs: reopenMs });
    reopenTimer = setTimeout(() => {
      if (!stopping) subscription.open();
    }, reopenMs);
    reopenMs = Math.min(reopenMs * 2, 30_000);
  });
  log.info('pulling', { deadLetterTopic: deadLetterName, maxAttempts: options.maxAttempts });
  // Best effort (reading a subscription needs more than the subscriber role): the policy's count.
  subscription.getMetadata().then(
    ([meta]) => bridge.capAttempts(meta.deadLetterPolicy?.maxDeliveryAttempts ?? Infinity),
    (err: Error) => log.info('subscription metadata not readable; dead-letter policy unknown', { err }),
  );

  let stopped: Promise<void> | undefined;
  return {
    bridge,
    ready: () => !stopping && subscription.isOpen,
    stop: () =>
      (stopped ??= (async () => {
        stopping = true;
        clearTimeout(reopenTimer);
        await Promise.all([subscription.close().catch((err) => log.warn('closing the subscription failed', { err })), bridge.drain()]);
        await client.close().catch((err) => log.warn('closing the Pub/Sub client failed', { err }));
        log.info('stopped');
      })()),
  };
}

/** At most 1024 bytes of UTF-8, cut on a character boundary. */
function truncate(s: string): string {
  const bytes = Buffer.from(s);
  if (bytes.length <= MAX_ATTRIBUTE_BYTES) return s;
  return bytes.subarray(0, MAX_ATTRIBUTE_BYTES - 3).toString('utf8').replace(/\uFFFD$/, '') + '...';
}
