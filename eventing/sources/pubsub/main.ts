import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { loadConfig } from '../../../shared/config.ts';
import { ConfigError } from '../../../shared/errors.ts';
import { addHealth, errorHandler } from '../../../shared/http.ts';
import { createLogger } from '../../../shared/log.ts';
import { openStore } from '../../../shared/store.ts';
import { httpEmit } from '../../http-emit.ts';
import { startPubSubSource } from './subscriber.ts';

// The Pub/Sub bridge's process: a Knative ContainerSource in a cluster (K_SINK injected, the
// broker's address), a child of `hippo dev` locally. It pulls HIPPO_PUBSUB_SUBSCRIPTION and
// serves only its health endpoints on PORT; on SIGTERM it stops pulling, finishes the
// messages in hand (acked or nacked), then exits.
const config = loadConfig();
const log = createLogger({ fn: 'pubsub-bridge' }, { level: config.HIPPO_LOG_LEVEL });
if (!config.HIPPO_PUBSUB_SUBSCRIPTION) throw new ConfigError('HIPPO_PUBSUB_SUBSCRIPTION: the subscription to pull is required');
if (!config.K_SINK) throw new ConfigError('K_SINK: the broker address is required (a ContainerSource or SinkBinding sets it)');
// The emulator takes no credentials: skip google-auth's probe for a GCE metadata server.
if (config.PUBSUB_EMULATOR_HOST) process.env.METADATA_SERVER_DETECTION ??= 'none';

const source = startPubSubSource(
  { store: openStore(config), post: httpEmit(config.K_SINK), log },
  {
    subscription: config.HIPPO_PUBSUB_SUBSCRIPTION,
    projectId: config.PUBSUB_PROJECT_ID,
    emulatorHost: config.PUBSUB_EMULATOR_HOST,
    deadLetterTopic: config.HIPPO_PUBSUB_DEAD_LETTER_TOPIC,
    maxAttempts: config.HIPPO_PUBSUB_MAX_ATTEMPTS,
    backoffMs: config.HIPPO_PUBSUB_BACKOFF_SECONDS * 1000,
    maxMessages: config.HIPPO_PUBSUB_MAX_MESSAGES,
  },
);

const app = new Hono();
app.onError(errorHandler(log));
addHealth(app, () => source.ready());
const server = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HIPPO_HOST }, (info) => {
  log.info('ready', { port: info.port, sink: config.K_SINK });
  // Under the local runner: the parent waits for this (as for every function).
  if (process.connected) process.send?.({ ready: true, port: info.port });
});

let stopping = false;
function stop(why: string): void {
  if (stopping) return;
  stopping = true;
  log.info('stopping', { why });
  // The grace period Kubernetes gives a pod (30 s), less a margin.
  setTimeout(() => process.exit(0), 28_000).unref();
  void source.stop().finally(() => server.close(() => process.exit(0)));
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
process.on('disconnect', () => stop('parent gone'));
if (typeof process.send === 'function' && !process.connected) stop('parent gone before start');
