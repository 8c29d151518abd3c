import { STEPS, stepService } from '../eventing/triggers.ts';

/**
 * Every function Hippo deploys: what the local runner starts and what the Knative
 * manifests describe. DuckDB steps are deployed once per memory tier.
 */
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
  /** Sends events to the broker itself (`K_SINK`), not only as replies: bound to it by a SinkBinding. */
  sink?: boolean;
  /** Woken on this cron schedule (a Knative PingSource in a cluster). */
  schedule?: string;
}

export const functionSpecs: FunctionSpec[] = [
  { name: 'runs', entry: 'functions/runs/main.ts', tiered: false, minScale: 1, concurrency: 0, memory: '1GiB', cpu: '500m', maxScale: 10, target: 50, public: true, sink: true },
  { name: 'ingest', entry: 'functions/ingest/main.ts', tiered: false, minScale: 0, concurrency: 1, duckdb: true, memory: '4GiB', cpu: '1', maxScale: 4 },
  { name: 'retry', entry: 'functions/retry/main.ts', tiered: false, minScale: 0, concurrency: 0, memory: '256MiB', cpu: '100m', maxScale: 4 },
  // Woken by a PingSource (a timer locally); one sweep at a time.
  { name: 'watchdog', entry: 'functions/watchdog/main.ts', tiered: false, minScale: 0, concurrency: 1, memory: '512MiB', cpu: '100m', maxScale: 1, sink: true, schedule: '* * * * *' },
  // Backups of the ledger, results and lake into HIPPO_BACKUP_STORE, hourly; one at a time (shared/backup.ts).
  { name: 'backup', entry: 'functions/backup/main.ts', tiered: false, minScale: 0, concurrency: 1, memory: '512MiB', cpu: '250m', maxScale: 1, schedule: '0 * * * *' },
  ...STEPS.map((step) => ({ name: step, entry: `functions/${step}/main.ts`, tiered: true, minScale: 0, concurrency: 1, duckdb: true })),
];

/**
 * Event sources: processes that pull events from outside Hippo and post them to the broker
 * (`K_SINK`). Nothing calls them, so they always run (one instance, `minScale: 1`): a Knative
 * ContainerSource in a cluster (knative/generate.ts), a child of `hippo dev` when configured
 * (local/sources.ts). They serve only `/health/*` on PORT.
 */
export const sourceSpecs: FunctionSpec[] = [
  // Vendor messages from a Pub/Sub subscription (HIPPO_PUBSUB_SUBSCRIPTION) → vendor.delivered.
  { name: 'pubsub-bridge', entry: 'eventing/sources/pubsub/main.ts', tiered: false, minScale: 1, concurrency: 0, memory: '512MiB', cpu: '100m', maxScale: 1, sink: true },
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
