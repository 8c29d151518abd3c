import { EventTypes } from './catalog.ts';

/** How hard the broker tries to deliver a trigger's events (Knative's `delivery` spec). */
export interface Delivery {
  /** Retries after the first attempt (Knative `delivery.retry`). */
  retry: number;
  backoffPolicy: 'exponential';
  /** First backoff; attempt n waits `backoffDelayMs * 2^(n-1)` (Knative `backoffDelay`). */
  backoffDelayMs: number;
  /** Per-attempt timeout (Knative `delivery.timeout`). */
  timeoutMs: number;
  /** Where exhausted or rejected events go. Always set: without one the Kafka broker drops them. */
  deadLetterSink: string;
}

export interface Trigger {
  name: string;
  /** Exact match on CloudEvent attributes (Knative `filter.attributes`). */
  filter: Record<string, string>;
  /** The Service (function, or function-tier) that receives the event. */
  subscriber: string;
  delivery: Delivery;
}

/** Steps that run on DuckDB, deployed once per memory tier. */
export const STEPS = ['delisting-adjust', 'pit-join', 'transcript-split', 'export'] as const;
export type StepName = (typeof STEPS)[number];

/** The Service name of a step at a tier: `delisting-adjust-t0`. */
export function stepService(step: string, tier: number): string {
  return `${step}-t${tier}`;
}

/** Parses `delisting-adjust-t1` back into its function and tier. */
export function parseService(service: string): { fn: string; tier?: number } {
  const m = /^(.*)-t(\d+)$/.exec(service);
  return m ? { fn: m[1]!, tier: Number(m[2]) } : { fn: service };
}

export const RETRY_SERVICE = 'retry';

export interface TriggerTableOptions {
  tiers: number;
  /** Per-attempt timeout of step deliveries, seconds (HIPPO_STEP_TIMEOUT). */
  stepTimeoutSeconds: number;
  /** Per-step exceptions (HIPPO_STEP_TIMEOUTS). */
  stepTimeouts?: Readonly<Record<string, number>>;
  retry?: number;
  backoffDelayMs?: number;
}

export const triggerDefaults = { retry: 3, backoffDelayMs: 500 };

/**
 * The trigger table: which subscriber gets which events, and how hard the broker tries.
 * The local dispatcher routes by it, and the Knative Triggers are generated from it
 * (DESIGN §10–11), so the two never drift.
 */
export function triggerTable(options: TriggerTableOptions): Trigger[] {
  const o = { ...triggerDefaults, ...options };
  const delivery = (timeoutMs: number): Delivery => ({
    retry: o.retry,
    backoffPolicy: 'exponential',
    backoffDelayMs: o.backoffDelayMs,
    timeoutMs,
    deadLetterSink: RETRY_SERVICE,
  });
  const coordinator = (name: string, type: string): Trigger => ({
    name,
    filter: { type },
    subscriber: 'runs',
    delivery: delivery(30_000),
  });
  const triggers: Trigger[] = [
    coordinator('runs-run-requested', EventTypes.runRequested),
    coordinator('runs-step-completed', EventTypes.stepCompleted),
    coordinator('runs-step-failed', EventTypes.stepFailed),
    // Standing runs re-run when a dataset they read changes.
    coordinator('runs-dataset-changed', EventTypes.datasetChanged),
    { name: 'ingest-vendor-delivered', filter: { type: EventTypes.vendorDelivered }, subscriber: 'ingest', delivery: delivery(600_000) },
  ];
  for (const step of STEPS) {
    for (let tier = 0; tier < o.tiers; tier++) {
      triggers.push({
        name: stepService(step, tier),
        filter: { type: EventTypes.stepRequested, step, tier: String(tier) },
        subscriber: stepService(step, tier),
        delivery: delivery(stepDeliveryTimeoutMs(o.stepTimeouts?.[step] ?? o.stepTimeoutSeconds)),
      });
    }
  }
  return triggers;
}

/**
 * A step delivery's timeout from the step's deadline: a little longer (+25 %, at most +60 s),
 * so the watchdog re-dispatches a hung attempt while the hung delivery still holds its
 * instance, and the broker's retry of the hung delivery queues behind the fresh attempt.
 * (540 s → 600 s: Knative's default request limit.)
 */
export function stepDeliveryTimeoutMs(deadlineSeconds: number): number {
  return Math.round(Math.min(deadlineSeconds * 1.25, deadlineSeconds + 60) * 1000);
}

/** Knative's exact-match filter: every attribute named in the filter must be equal. */
export function matches(filter: Record<string, string>, event: Record<string, unknown>): boolean {
  return Object.entries(filter).every(([k, v]) => event[k] !== undefined && String(event[k]) === v);
}
