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
}

export const functionSpecs: FunctionSpec[] = [
  { name: 'runs', entry: 'functions/runs/main.ts', tiered: false, minScale: 1, concurrency: 0 },
  { name: 'ingest', entry: 'functions/ingest/main.ts', tiered: false, minScale: 0, concurrency: 1 },
  { name: 'retry', entry: 'functions/retry/main.ts', tiered: false, minScale: 0, concurrency: 0 },
  // Woken by a PingSource (a timer locally); one sweep at a time.
  { name: 'watchdog', entry: 'functions/watchdog/main.ts', tiered: false, minScale: 0, concurrency: 1 },
  ...STEPS.map((step) => ({ name: step, entry: `functions/${step}/main.ts`, tiered: true, minScale: 0, concurrency: 1 })),
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
