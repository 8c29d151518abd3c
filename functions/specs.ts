import { STEPS, stepService } from '../eventing/triggers.ts';
import type { EnvName } from './wiring.ts';

/** One function: how it is deployed, and what it needs (store, broker, Pub/Sub, configuration). */
export interface FunctionSpec {
  name: string;
  /** Entry point, relative to the repository root. */
  entry: string;
  /** One deployment per memory tier (DuckDB steps). */
  tiered: boolean;
  /** Instances kept running when idle (Knative `min-scale`); 0 = scale to zero. */
  minScale: number;
  /**
   * Requests one instance serves at once (Knative `containerConcurrency`; 0 = unlimited).
   * DuckDB steps take 1: each request may use the whole tier's memory.
   */
  concurrency: number;
  /** Runs DuckDB: its Services size DuckDB's `memory_limit` and the Node heap to the memory they get. */
  duckdb?: boolean;
  /** Memory of a function that is not tiered (`512MiB`, as in HIPPO_TIERS); tiered ones get their tier's. */
  memory?: string;
  /** CPU a non-tiered function's container requests (Kubernetes quantity, `250m`); tiers set their own. */
  cpu?: string;
  /** Most instances the autoscaler may start (Knative `max-scale`); tiers set their own. */
  maxScale?: number;
  /** Concurrent requests per instance the autoscaler aims for (Knative `target`); default: `concurrency`, or 100 when unlimited. */
  target?: number;
  /** Reachable from outside the cluster (the HTTP API); every other Service is cluster-local. */
  public?: boolean;
  /** Reads and writes the store: HIPPO_STORE, and S3_ENDPOINT with the AWS variables of an S3 store. */
  store?: boolean;
  /** Sends events to the broker itself (`K_SINK`), not only as replies: bound to it by a SinkBinding. */
  sink?: boolean;
  /** Pulls a Google Pub/Sub subscription: the PUBSUB_* and HIPPO_PUBSUB_* settings, and Google's client variables. */
  pubsub?: boolean;
  /**
   * Reads the cluster's Kubernetes API (the watchdog's view of the workers): a service account
   * that may read Services and pods. Locally the runner's own worker list stands in for it.
   */
  kubernetes?: boolean;
  /**
   * The configuration it reads (shared/config.ts) beyond what every function reads (listen
   * address, port, log level) and what `store`, `sink` and `pubsub` bring. Its environment,
   * locally and in a cluster, follows from these fields (functions/wiring.ts).
   */
  config?: EnvName[];
  /** Woken on this cron schedule (a Knative PingSource in a cluster). */
  schedule?: string;
}

/** What the coordinator (`runs`) and the deadline sweep (watchdog) read: the tiers, step deadlines, standing runs' debounce. */
const ORCHESTRATION_CONFIG: EnvName[] = ['HIPPO_TIERS', 'HIPPO_STEP_TIMEOUT', 'HIPPO_STEP_TIMEOUTS', 'HIPPO_WATCH_DEBOUNCE_SECONDS', 'HIPPO_PARTITION_ROWS', 'HIPPO_PARTITION_BYTES'];

/**
 * Every function Hippo deploys: what the local runner starts and what the Knative
 * manifests describe. DuckDB steps are deployed once per memory tier.
 */
export const functionSpecs: FunctionSpec[] = [
  // HIPPO_WORKERS_URL: the workers shown by GET /workers (the watchdog's view, or the local runner's).
  { name: 'runs', entry: 'functions/runs/main.ts', tiered: false, minScale: 1, concurrency: 0, memory: '1GiB', cpu: '500m', maxScale: 10, target: 50, public: true, store: true, sink: true, config: [...ORCHESTRATION_CONFIG, 'HIPPO_TOKEN', 'HIPPO_MAX_BODY_BYTES', 'HIPPO_WORKERS_URL'] },
  { name: 'ingest', entry: 'functions/ingest/main.ts', tiered: false, minScale: 0, concurrency: 1, duckdb: true, memory: '4GiB', cpu: '1', maxScale: 4, store: true, config: ['HIPPO_TIERS', 'HIPPO_MEMORY_LIMIT'] },
  { name: 'retry', entry: 'functions/retry/main.ts', tiered: false, minScale: 0, concurrency: 0, memory: '256MiB', cpu: '100m', maxScale: 4, config: ['HIPPO_TIERS'] },
  // Woken by a PingSource (a timer locally); one sweep at a time.
  { name: 'watchdog', entry: 'functions/watchdog/main.ts', tiered: false, minScale: 0, concurrency: 1, memory: '512MiB', cpu: '100m', maxScale: 1, store: true, sink: true, kubernetes: true, config: [...ORCHESTRATION_CONFIG, 'HIPPO_WORKERS_URL'], schedule: '* * * * *' },
  // Backups of the ledger, results and lake into HIPPO_BACKUP_STORE, hourly; one at a time (functions/backup/).
  { name: 'backup', entry: 'functions/backup/main.ts', tiered: false, minScale: 0, concurrency: 1, memory: '512MiB', cpu: '250m', maxScale: 1, store: true, config: ['HIPPO_BACKUP_STORE', 'HIPPO_BACKUP_KEEP'], schedule: '0 * * * *' },
  // functions/step-main.ts: the tier's memory, and the fault drills (HIPPO_CHAOS).
  ...STEPS.map((step): FunctionSpec => ({ name: step, entry: `functions/${step}/main.ts`, tiered: true, minScale: 0, concurrency: 1, duckdb: true, store: true, config: ['HIPPO_TIER', 'HIPPO_TIERS', 'HIPPO_MEMORY_LIMIT', 'HIPPO_CHAOS'] })),
];

/**
 * Event sources: processes that pull events from outside Hippo and post them to the broker
 * (`K_SINK`). Nothing calls them, so they always run (one instance, `minScale: 1`): a Knative
 * ContainerSource in a cluster (knative/generate.ts), a child of `hippo dev` when configured
 * (local/sources.ts). They serve only `/health/*` on PORT.
 */
export const sourceSpecs: FunctionSpec[] = [
  // Vendor messages from a Pub/Sub subscription (HIPPO_PUBSUB_SUBSCRIPTION) → vendor.delivered.
  { name: 'pubsub-bridge', entry: 'eventing/sources/pubsub/main.ts', tiered: false, minScale: 1, concurrency: 0, memory: '512MiB', cpu: '100m', maxScale: 1, store: true, sink: true, pubsub: true },
];

export interface ServiceSpec {
  /** Service name: the function's, or `<function>-t<tier>`. */
  name: string;
  fn: FunctionSpec;
  tier?: number;
}

/** Every deployable Service: tiered functions expand to one Service per tier. */
export function services(tiers: number): ServiceSpec[] {
  return functionSpecs.flatMap((fn) =>
    fn.tiered ? Array.from({ length: tiers }, (_, tier) => ({ name: stepService(fn.name, tier), fn, tier })) : [{ name: fn.name, fn }],
  );
}
