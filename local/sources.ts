import type { Config } from '../shared/config.ts';
import type { Logger } from '../shared/log.ts';
import { sourceSpecs, type ServiceSpec } from '../functions/specs.ts';
import { ProcessRunner } from './runner.ts';

/**
 * The event sources `hippo dev` runs (functions/specs.ts `sourceSpecs`), each as its own
 * always-on child process posting to the local broker, as a ContainerSource's pod does to
 * `K_SINK` in a cluster; restarted when it dies. Only the configured ones: the Pub/Sub
 * bridge when HIPPO_PUBSUB_SUBSCRIPTION is set. Undefined when none is.
 * @example const sources = await startSources({ config, env: localEnv(values), root }); await sources?.stop();
 */
export async function startSources(options: {
  config: Config;
  /** A source's environment: its wiring on the local platform (local/dev.ts `localEnv`), K_SINK the local broker. */
  env: (s: ServiceSpec) => Record<string, string | undefined>;
  root: string;
  built?: boolean;
  log?: Logger;
}): Promise<ProcessRunner | undefined> {
  const { config } = options;
  const wanted = sourceSpecs.filter((fn) => !fn.pubsub || config.HIPPO_PUBSUB_SUBSCRIPTION);
  if (wanted.length === 0) return undefined;
  const runner = new ProcessRunner({
    services: wanted.map((fn) => ({ name: fn.name, fn })),
    root: options.root,
    idleMs: 60_000,
    built: options.built,
    log: options.log,
    serviceEnv: options.env,
  });
  try {
    await runner.start();
  } catch (err) {
    await runner.stop();
    throw err;
  }
  return runner;
}
