// For the tests: polling, and the real services (S3, Kafka, Pub/Sub) a test file needs,
// started for it alone when `npm test` did not pass one. The demo store they also use is
// `demoStore` (local/demo.ts), which the benchmarks use too.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { s3Down, s3Up } from '../scripts/s3.mjs';
import { kafkaDown, kafkaUp } from '../scripts/kafka.mjs';
import { pubsubDown, pubsubUp } from '../scripts/pubsub.mjs';
import { freePort } from '../scripts/processes.mjs';

/** Polls `fn` until it returns a truthy value or `ms` pass. */
export async function eventually<T>(fn: () => Promise<T | undefined | false>, ms = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Starts a service for this test process alone, once, and makes sure it ends with the
 * process: stopped cleanly when the event loop drains, SIGKILLed (`killTarget`: a pid, or a
 * negative process group) if the process ends another way (a crash, process.exit).
 */
async function ownService(name: string, up: (dir: string) => Promise<{ address: string; killTarget: number; down: () => Promise<unknown> }>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `hippo-${name}-`));
  const { address, killTarget, down } = await up(dir);
  let stopped = false;
  process.once('beforeExit', () => {
    void down()
      .then(() => rm(dir, { recursive: true, force: true }))
      .then(() => (stopped = true));
  });
  process.once('exit', () => {
    if (!stopped) {
      try {
        process.kill(killTarget, 'SIGKILL');
      } catch { /* gone */ }
    }
  });
  return address;
}

let ownMoto: Promise<string> | undefined;

/**
 * The S3 endpoint for tests: `npm test` starts a moto server and passes S3_ENDPOINT; a test
 * file run alone starts its own (stopped when the process ends). Never a skip.
 */
export function s3Endpoint(): Promise<string> {
  if (process.env.S3_ENDPOINT) return Promise.resolve(process.env.S3_ENDPOINT);
  ownMoto ??= ownService('moto', async (dir) => {
    const port = await freePort();
    const { endpoint, pid } = await s3Up({ port, dir, quiet: true });
    return { address: endpoint, killTarget: -pid, down: () => s3Down({ port, dir, quiet: true }) };
  });
  return ownMoto;
}

let ownKafka: Promise<string> | undefined;

/**
 * Kafka bootstrap servers for tests: `npm test` starts a broker and passes
 * HIPPO_TEST_KAFKA_BROKERS; a test file run alone starts its own on free ports (stopped when
 * the process ends). Each test uses its own topic and groups, so tests sharing one broker do
 * not meet.
 */
export function kafkaBrokers(): Promise<string> {
  if (process.env.HIPPO_TEST_KAFKA_BROKERS) return Promise.resolve(process.env.HIPPO_TEST_KAFKA_BROKERS);
  ownKafka ??= ownService('kafka', async (dir) => {
    const port = await freePort();
    const controllerPort = await freePort();
    const { brokers, pid } = await kafkaUp({ port, controllerPort, dir, quiet: true });
    return { address: brokers, killTarget: pid, down: () => kafkaDown({ port, controllerPort, dir, quiet: true }) };
  });
  return ownKafka;
}

let ownPubSub: Promise<string> | undefined;

/**
 * `host:port` of Google's Pub/Sub emulator for tests: `npm test` starts one and passes
 * HIPPO_TEST_PUBSUB_EMULATOR_HOST; a test file run alone starts its own on a free port
 * (stopped when the process ends). Each test uses its own project, topics and subscriptions.
 */
export function pubsubEmulator(): Promise<string> {
  if (process.env.HIPPO_TEST_PUBSUB_EMULATOR_HOST) return Promise.resolve(process.env.HIPPO_TEST_PUBSUB_EMULATOR_HOST);
  ownPubSub ??= ownService('pubsub', async (dir) => {
    const port = await freePort();
    const { host, pid } = await pubsubUp({ port, dir, quiet: true });
    return { address: host, killTarget: -pid, down: () => pubsubDown({ port, dir, quiet: true }) };
  });
  return ownPubSub;
}
