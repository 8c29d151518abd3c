import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { serve, type ServerType } from '@hono/node-server';
import type { Config } from '../shared/config.ts';
import { formatBytes } from '../shared/config.ts';
import type { Logger } from '../shared/log.ts';
import { silentLogger } from '../shared/log.ts';
import type { ObjectStore } from '../shared/object-store.ts';
import { Dispatcher } from '../eventing/dispatcher.ts';
import { createIngress } from '../eventing/ingress.ts';
import { MemoryBus } from '../eventing/memory-bus.ts';
import { duckdbProcessHeapMiB } from '../shared/duckdb.ts';
import { KafkaBus } from '../eventing/kafka-bus.ts';
import type { Bus } from '../eventing/bus.ts';
import { malformedReason } from '../eventing/catalog.ts';
import { triggerTable } from '../eventing/triggers.ts';
import { services, type ServiceSpec } from '../functions/specs.ts';
import { clientEnv, functionEnv, stepTimeoutsValue, type PlatformValues } from '../functions/wiring.ts';
import { CloudEvent } from 'cloudevents';
import { binaryMessage } from '../shared/cloudevents.ts';
import { ProcessRunner } from './runner.ts';
import { startSources } from './sources.ts';

/** Instances per Service at most, locally: one more than the cores, so a stuck one never stops the work. */
const LOCAL_MAX_SCALE = availableParallelism() + 1;

export interface LocalPlatformOptions {
  config: Config;
  store: ObjectStore;
  root: string;
  port: number;
  brokerPort: number;
  idleMs: number;
  log?: Logger;
  backoffScale?: number;
  /** Run the functions from the bundled dist/ (`npm run build`), as the container image does. */
  built?: boolean;
  /** Most instances of a Service at once, locally (default: the cores + 1, or the Service's own max-scale if lower). */
  maxScale?: number;
}

export interface LocalPlatform {
  runsUrl: string;
  brokerUrl: string;
  runner: ProcessRunner;
  stop(): Promise<void>;
}

/**
 * `hippo dev`: the local platform. The broker (ingress + trigger dispatcher) runs in this
 * process; every function runs as its own child process under the ProcessRunner, exactly
 * the code a Knative Service runs. `runs` listens on `port` (8080); the broker on `brokerPort`.
 */
export async function startLocalPlatform(options: LocalPlatformOptions): Promise<LocalPlatform> {
  const { config } = options;
  const log = options.log ?? silentLogger;
  // Kafka when KAFKA_BROKERS is set (the same wire format and delivery as a cluster), else in memory.
  const kafka = config.KAFKA_BROKERS
    ? new KafkaBus({ brokers: config.KAFKA_BROKERS.split(','), topic: config.HIPPO_TOPIC, validate: malformedReason, log })
    : undefined;
  const bus: Bus = kafka ?? new MemoryBus(log);
  await kafka?.startValidator();
  const brokerPort = options.brokerPort || (await freePort());
  const brokerUrl = `http://127.0.0.1:${brokerPort}`;
  const runsUrl = `http://127.0.0.1:${options.port}`;

  const env = localEnv(localValues({ config, storeUrl: options.store.url, brokerUrl, port: options.port }));

  const runner = new ProcessRunner({
    services: services(config.HIPPO_TIERS.length),
    root: options.root,
    idleMs: options.idleMs,
    built: options.built,
    log,
    serviceEnv: env,
    // Each tier's process gets the tier's memory: DuckDB ~60 % (memory_limit), Node's heap
    // most of the rest — a step that outgrows it dies, as a container over its limit would.
    nodeArgs: (s) =>
      s.tier === undefined ? [] : [`--max-old-space-size=${duckdbProcessHeapMiB(config.HIPPO_TIERS[s.tier] ?? config.HIPPO_TIERS.at(-1)!)}`],
    // Scale out, locally: a one-request-at-a-time step gets a few instances (a hung or slow
    // request does not hold up the rest); a Service that takes many requests at once needs one.
    maxInstances: (s) => (s.fn.concurrency === 0 ? 1 : Math.min(s.fn.maxScale ?? LOCAL_MAX_SCALE, options.maxScale ?? LOCAL_MAX_SCALE)),
  });

  const ingress = createIngress((e) => bus.publish(e), config.HIPPO_MAX_BODY_BYTES);
  ingress.get('/workers', (c) => c.json({ workers: runner.status() }));
  const server = await listen(ingress.fetch, brokerPort);

  const dispatcher = new Dispatcher({
    bus,
    triggers: triggerTable({ tiers: config.HIPPO_TIERS.length, stepTimeoutSeconds: config.HIPPO_STEP_TIMEOUT, stepTimeouts: config.HIPPO_STEP_TIMEOUTS }),
    deliver: runner.deliver,
    log,
    backoffScale: options.backoffScale,
  });
  await dispatcher.start();
  let sources: ProcessRunner | undefined;
  try {
    await runner.start();
    // Event sources (the Pub/Sub bridge, when HIPPO_PUBSUB_SUBSCRIPTION is set) post to this broker.
    sources = await startSources({ config, env, root: options.root, built: options.built, log });
  } catch (err) {
    await runner.stop();
    server.close();
    throw err;
  }

  // The watchdog's PingSource: a tick now (runs a restart left behind) and then periodically.
  // Knative's PingSources, locally: the watchdog's tick now and then periodically; the
  // backup's (when there is a backup store) after its first interval.
  const pings = [new PingTimer(runner, 'watchdog', config.HIPPO_WATCHDOG_SECONDS * 1000, log, { now: true, timeoutMs: 60_000 })];
  if (config.HIPPO_BACKUP_STORE) pings.push(new PingTimer(runner, 'backup', config.HIPPO_BACKUP_SECONDS * 1000, log, { now: false, timeoutMs: 3_600_000 }));
  for (const p of pings) p.start();

  let stopping: Promise<void> | undefined;
  return {
    runsUrl,
    brokerUrl,
    runner,
    stop: () =>
      (stopping ??= (async () => {
        // Stop taking events, let in-flight deliveries finish (briefly), then stop the
        // processes. Whatever the in-memory bus still held is gone; the watchdog's deadline
        // sweep re-dispatches those steps after the next start.
        for (const p of pings) p.stop();
        await sources?.stop(); // no new events from outside
        const closing = new Promise<void>((r) => server.close(() => r()));
        await Promise.race([bus.close(), new Promise((r) => setTimeout(r, 3000))]);
        await runner.stop();
        await closing;
      })()),
  };
}

/**
 * The local platform's values for the wiring (functions/wiring.ts), which decides what each
 * function gets: this machine's store, broker and ports, and `hippo dev`'s configuration.
 */
export function localValues(o: { config: Config; storeUrl: string; brokerUrl: string; port: number }): PlatformValues<'local'> {
  const { config } = o;
  return {
    HIPPO_STORE: o.storeUrl,
    // An S3 store: every function reaches it the way this process does.
    S3_ENDPOINT: config.S3_ENDPOINT ?? process.env.S3_ENDPOINT,
    // The public API (`runs`) on the port asked for; every other instance on a free port of its own.
    PORT: (svc) => (svc.fn.public ? String(o.port) : '0'),
    HIPPO_LOG_LEVEL: config.HIPPO_LOG_LEVEL,
    HIPPO_TIERS: config.HIPPO_TIERS.map(formatBytes).join(','),
    HIPPO_STEP_TIMEOUT: String(config.HIPPO_STEP_TIMEOUT),
    HIPPO_STEP_TIMEOUTS: stepTimeoutsValue(config.HIPPO_STEP_TIMEOUTS),
    HIPPO_WATCH_DEBOUNCE_SECONDS: String(config.HIPPO_WATCH_DEBOUNCE_SECONDS),
    HIPPO_TOKEN: config.HIPPO_TOKEN,
    HIPPO_MAX_BODY_BYTES: String(config.HIPPO_MAX_BODY_BYTES),
    HIPPO_PARTITION_ROWS: String(config.HIPPO_PARTITION_ROWS),
    HIPPO_PARTITION_BYTES: formatBytes(config.HIPPO_PARTITION_BYTES),
    // The runner's own view of its processes: what the watchdog reads from the Kubernetes API in a cluster.
    HIPPO_WORKERS_URL: `${o.brokerUrl}/workers`,
    HIPPO_BACKUP_STORE: config.HIPPO_BACKUP_STORE,
    HIPPO_BACKUP_KEEP: String(config.HIPPO_BACKUP_KEEP),
    HIPPO_CHAOS: config.HIPPO_CHAOS,
    K_SINK: o.brokerUrl,
    PUBSUB_EMULATOR_HOST: config.PUBSUB_EMULATOR_HOST,
    PUBSUB_PROJECT_ID: config.PUBSUB_PROJECT_ID,
    HIPPO_PUBSUB_SUBSCRIPTION: config.HIPPO_PUBSUB_SUBSCRIPTION,
    HIPPO_PUBSUB_DEAD_LETTER_TOPIC: config.HIPPO_PUBSUB_DEAD_LETTER_TOPIC,
    HIPPO_PUBSUB_MAX_ATTEMPTS: String(config.HIPPO_PUBSUB_MAX_ATTEMPTS),
    HIPPO_PUBSUB_BACKOFF_SECONDS: String(config.HIPPO_PUBSUB_BACKOFF_SECONDS),
    HIPPO_PUBSUB_MAX_MESSAGES: String(config.HIPPO_PUBSUB_MAX_MESSAGES),
  };
}

/**
 * A function process's environment under `hippo dev`: what any process needs to run, the
 * variables its clients read (AWS, Google) as this process has them, and its wiring.
 */
export function localEnv(values: PlatformValues<'local'>): (svc: ServiceSpec) => Record<string, string | undefined> {
  return (svc) => {
    const clients = clientEnv(svc.fn);
    return {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      TMPDIR: process.env.TMPDIR,
      ...Object.fromEntries(Object.entries(process.env).filter(([name]) => clients.some((prefix) => prefix.test(name)))),
      ...functionEnv(svc, 'local', values),
    };
  };
}

/**
 * Plays Knative's PingSource: a `dev.knative.sources.ping` CloudEvent to `service` every
 * `intervalMs` (and one at once with `now`). A tick is skipped while the previous one is
 * still being handled.
 */
class PingTimer {
  private timer?: NodeJS.Timeout;
  private busy = false;

  constructor(
    private readonly runner: ProcessRunner,
    private readonly service: string,
    private readonly intervalMs: number,
    private readonly log: Logger,
    private readonly opts: { now: boolean; timeoutMs: number },
  ) {}

  start(): void {
    if (this.opts.now) void this.tick();
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const { headers, body } = binaryMessage(new CloudEvent({ type: PING_TYPE, source: `/hippo/local/pingsources/${this.service}`, data: {} }));
      const req = new Request(`http://${this.service}/`, { method: 'POST', headers, body });
      const res = await this.runner.deliver(this.service, req, this.opts.timeoutMs);
      if (!res.ok) this.log.warn(`${this.service} tick failed`, { status: res.status, body: (await res.text()).slice(0, 300) });
    } catch (err) {
      this.log.warn(`${this.service} tick failed`, { err });
    } finally {
      this.busy = false;
    }
  }
}

/** The type Knative's PingSource sends. */
export const PING_TYPE = 'dev.knative.sources.ping';

function listen(fetch: (req: Request) => Response | Promise<Response>, port: number): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, port, hostname: '127.0.0.1' }, () => resolve(server));
    server.once('error', reject);
  });
}

/** A free TCP port on loopback, for tests and a broker port nobody asked for. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}
