import type { Config } from '../shared/config.ts';
import type { Logger } from '../shared/log.ts';
import { sourceSpecs } from '../functions/specs.ts';
import { ProcessRunner } from './runner.ts';

/**
 * The event sources `hippo dev` runs (functions/specs.ts `sourceSpecs`), each as its own
 * always-on child process posting to the local broker, as a ContainerSource's pod does to
 * `K_SINK` in a cluster; restarted when it dies. Only the configured ones: the Pub/Sub
 * bridge when HIPPO_PUBSUB_SUBSCRIPTION is set. Undefined when none is.
 * @example const sources = await startSources({ config, storeUrl: store.url, brokerUrl, root }); await sources?.stop();
 */
export async function startSources(options: {
  config: Config;
  storeUrl: string;
  brokerUrl: string;
  root: string;
  built?: boolean;
  log?: Logger;
}): Promise<ProcessRunner | undefined> {
  const { config } = options;
  const wanted = sourceSpecs.filter((fn) => fn.name !== 'pubsub-bridge' || config.HIPPO_PUBSUB_SUBSCRIPTION);
  if (wanted.length === 0) return undefined;
  // What a source reads (DESIGN §12): the store, where to post, and its own settings.
  const passed = Object.fromEntries(Object.entries(process.env).filter(([k]) => /^(S3_|AWS_|GOOGLE_|CLOUDSDK_)/.test(k)));
  const runner = new ProcessRunner({
    services: wanted.map((fn) => ({ name: fn.name, fn })),
    root: options.root,
    idleMs: 60_000,
    built: options.built,
    log: options.log,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      TMPDIR: process.env.TMPDIR,
      ...passed,
      HIPPO_STORE: options.storeUrl,
      ...(config.S3_ENDPOINT ? { S3_ENDPOINT: config.S3_ENDPOINT } : {}),
      HIPPO_LOG_LEVEL: config.HIPPO_LOG_LEVEL,
      K_SINK: options.brokerUrl,
      PUBSUB_EMULATOR_HOST: config.PUBSUB_EMULATOR_HOST,
      PUBSUB_PROJECT_ID: config.PUBSUB_PROJECT_ID,
      HIPPO_PUBSUB_SUBSCRIPTION: config.HIPPO_PUBSUB_SUBSCRIPTION,
      HIPPO_PUBSUB_DEAD_LETTER_TOPIC: config.HIPPO_PUBSUB_DEAD_LETTER_TOPIC,
      HIPPO_PUBSUB_MAX_ATTEMPTS: String(config.HIPPO_PUBSUB_MAX_ATTEMPTS),
      HIPPO_PUBSUB_BACKOFF_SECONDS: String(config.HIPPO_PUBSUB_BACKOFF_SECONDS),
      HIPPO_PUBSUB_MAX_MESSAGES: String(config.HIPPO_PUBSUB_MAX_MESSAGES),
    },
  });
  try {
    await runner.start();
  } catch (err) {
    await runner.stop();
    throw err;
  }
  return runner;
}
