// The event catalog (DESIGN §3): every type Hippo emits or accepts, with the schema its
// data is validated against on receipt.
import { randomUUID } from 'node:crypto';
import { CloudEvent } from 'cloudevents';
import { z } from 'zod';
import { ValidationError } from '../shared/errors.ts';
import type { HippoEvent, HippoExtensions } from '../shared/cloudevents.ts';

/** Every event type Hippo emits or accepts (DESIGN §3). */
export const EventTypes = {
  runRequested: 'dev.hippo.run.requested',
  stepRequested: 'dev.hippo.step.requested',
  stepCompleted: 'dev.hippo.step.completed',
  stepFailed: 'dev.hippo.step.failed',
  runCompleted: 'dev.hippo.run.completed',
  runFailed: 'dev.hippo.run.failed',
  vendorDelivered: 'dev.hippo.vendor.delivered',
  datasetChanged: 'dev.hippo.dataset.changed',
  workersStatus: 'dev.hippo.workers.status',
} as const;
export type EventType = (typeof EventTypes)[keyof typeof EventTypes];

const isoInstant = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO-8601 timestamp');

/**
 * A client-supplied instant: ISO-8601 with an explicit offset (`Z`, `+02:00`) and a real
 * calendar date — `1`, `2020-02-30T…` or a bare local time are refused, not guessed.
 */
export const strictInstant = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/, 'must be an ISO-8601 instant with an offset, e.g. 2024-06-01T00:00:00Z')
  .refine((s) => {
    // The calendar date as written must exist (Date.parse rolls 02-30 over to 03-01).
    const parts = /^(\d{4})-(\d{2})-(\d{2})T/.exec(s);
    if (!parts || Number.isNaN(Date.parse(s))) return false;
    const [, y, m, d] = parts;
    const probe = new Date(Date.UTC(Number(y), Number(m) - 1, Number(d)));
    return probe.getUTCFullYear() === Number(y) && probe.getUTCMonth() === Number(m) - 1 && probe.getUTCDate() === Number(d);
  }, 'is not a real calendar date');

export const runRequestSchema = z.object({
  pipeline: z.string().min(1),
  params: z.record(z.string(), z.unknown()).default({}),
  asOf: strictInstant.optional(),
  id: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'must be 1-64 letters, digits, "-" or "_"')
    .optional(),
  watch: z.boolean().optional(),
  /**
   * Fan-out (DESIGN §14): split each partitionable step into this many partitions, each its own
   * invocation. 1 = no fan-out (the default for now). The result's bytes do not depend on it.
   */
  partitions: z.number().int().min(1).max(1024).optional(),
  /**
   * Result reuse (DESIGN §14): false always computes. Otherwise a request whose pipeline,
   * params and visible lake state equal an earlier run's takes that run's result (or attaches to
   * it while it runs).
   */
  reuse: z.boolean().optional(),
});
export type RunRequest = z.infer<typeof runRequestSchema>;

export const stepRequestedSchema = z.object({
  runId: z.string(),
  stepId: z.string(),
  step: z.string(),
  params: z.record(z.string(), z.unknown()),
  asOf: isoInstant,
  inputs: z.record(z.string(), z.string()),
  output: z.string(),
  attempt: z.number().int().positive().default(1),
  tier: z.number().int().min(0).default(0),
});
export type StepRequested = z.infer<typeof stepRequestedSchema>;

export const outputSchema = z.object({
  key: z.string(),
  rows: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  sha256: z.string(),
});
export type StepOutput = z.infer<typeof outputSchema>;

export const stepCompletedSchema = z.object({
  runId: z.string(),
  stepId: z.string(),
  attempt: z.number().int().positive().default(1),
  tier: z.number().int().min(0).default(0),
  outputs: z.record(z.string(), outputSchema),
  /** Lake parts each dataset contributed (lineage). */
  lineage: z.record(z.string(), z.array(z.string())).default({}),
  metrics: z.object({
    ms: z.number(),
    peakRssBytes: z.number(),
    /** CPU time of the step's process while it ran (user + system, all threads); absent from older replies. */
    cpuMs: z.number().optional(),
    rowsIn: z.number(),
    rowsOut: z.number(),
  }),
});
export type StepCompleted = z.infer<typeof stepCompletedSchema>;

export const stepErrorSchema = z.object({
  code: z.string(),
  message: z.string(),
  retriable: z.boolean().default(false),
  /** The dead-letter sink's decision: run the step again at this memory tier (DESIGN §10). */
  nextTier: z.number().int().min(0).optional(),
});

export const stepFailedSchema = z.object({
  runId: z.string(),
  stepId: z.string(),
  attempt: z.number().int().positive(),
  tier: z.number().int().min(0),
  error: stepErrorSchema,
});
export type StepFailed = z.infer<typeof stepFailedSchema>;

export const vendorDeliveredSchema = z
  .object({
    dataset: z.string(),
    key: z.string().optional(),
    format: z.enum(['csv', 'parquet', 'jsonl']).optional(),
    records: z.array(z.record(z.string(), z.unknown())).optional(),
    recordedAt: isoInstant.optional(),
  })
  .refine((d) => (d.key === undefined) !== (d.records === undefined), 'exactly one of key or records is required');
export type VendorDelivered = z.infer<typeof vendorDeliveredSchema>;

export const datasetChangedSchema = z.object({ dataset: z.string(), parts: z.array(z.string()), recordedAt: isoInstant });
export type DatasetChanged = z.infer<typeof datasetChangedSchema>;

/** One Service (a function, or a step at one tier) as the watchdog sees it. */
export const workerStatusSchema = z.object({
  service: z.string(),
  fn: z.string(),
  tier: z.number().int().min(0).optional(),
  /** Instances ready to take requests (pods Ready in a cluster; processes locally). */
  ready: z.number().int().min(0),
  /** Instances working on a request now. */
  busy: z.number().int().min(0),
  /** Container restarts (a cluster) or unexpected process exits (locally). */
  restarts: z.number().int().min(0),
  /** Of those, how many were out-of-memory kills. */
  oomKills: z.number().int().min(0),
});
export type WorkerStatus = z.infer<typeof workerStatusSchema>;
export const workersStatusSchema = z.object({ at: isoInstant, workers: z.array(workerStatusSchema) });
export type WorkersStatus = z.infer<typeof workersStatusSchema>;

const runSummarySchema = z.object({ runId: z.string(), pipeline: z.string(), status: z.string() }).passthrough();

/** Data schema of each type: what a receiver validates before acting. */
export const dataSchemas: Record<EventType, z.ZodType> = {
  [EventTypes.runRequested]: runRequestSchema,
  [EventTypes.stepRequested]: stepRequestedSchema,
  [EventTypes.stepCompleted]: stepCompletedSchema,
  [EventTypes.stepFailed]: stepFailedSchema,
  [EventTypes.runCompleted]: runSummarySchema,
  [EventTypes.runFailed]: runSummarySchema,
  [EventTypes.vendorDelivered]: vendorDeliveredSchema,
  [EventTypes.datasetChanged]: datasetChangedSchema,
  [EventTypes.workersStatus]: workersStatusSchema,
};

/**
 * Validates an event's data against the catalog. Throws `ValidationError` (status 422 by
 * default: a delivered event with bad data is bad input, not a transient fault).
 */
export function parseData<T>(event: HippoEvent, schema: z.ZodType<T>, status = 422): T {
  let data: unknown = event.data;
  if (typeof data === 'string') {
    try {
      data = JSON.parse(data);
    } catch {
      throw new ValidationError(`event ${event.type} ${event.id}: data is not JSON`, [], { status, code: 'invalid_event' });
    }
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) throw zodToValidation(parsed.error, `event ${event.type} ${event.id} has invalid data`, status, 'data');
  return parsed.data;
}

/** A zod error as Hippo's `ValidationError`, one detail per issue naming the field. */
export function zodToValidation(error: z.ZodError, message: string, status = 400, root = ''): ValidationError {
  const details = error.issues.map((i) => {
    const field = [root, ...i.path.map(String)].filter(Boolean).join('.');
    return { field, message: i.message };
  });
  const first = details[0];
  return new ValidationError(first ? `${message}: ${first.field ? first.field + ': ' : ''}${first.message}` : message, details, {
    status,
  });
}

/** A new Hippo event with a UUID id and the §3 attributes (`partitionkey` = run id). */
export function makeEvent<T>(type: EventType, source: string, data: T, ext: HippoExtensions = {}): HippoEvent<T> {
  const extensions: Record<string, string> = {};
  for (const [k, v] of Object.entries(ext)) if (v !== undefined) extensions[k] = v;
  if (extensions.runid && !extensions.partitionkey) extensions.partitionkey = extensions.runid;
  return new CloudEvent<T>({
    id: randomUUID(),
    type,
    source,
    datacontenttype: 'application/json',
    time: new Date().toISOString(),
    data,
    ...extensions,
  }) as HippoEvent<T>;
}

/** The `step.requested` event for a step instance: its attributes select the trigger (type + step + tier). */
export function stepRequestedEvent(source: string, req: StepRequested): HippoEvent<StepRequested> {
  return makeEvent(EventTypes.stepRequested, source, req, {
    runid: req.runId,
    // A partition of a fanned-out step (DESIGN §14) is keyed by its own step: the broker spreads
    // a run's partitions over the topic's partitions, so the step's Service scales out.
    ...('partition' in req.params ? { partitionkey: `${req.runId}/${req.stepId}` } : {}),
    step: req.step,
    stepid: req.stepId,
    tier: String(req.tier),
    attempt: String(req.attempt),
  });
}

/**
 * Why an event is not one Hippo can act on (unknown type, or data the catalog rejects), or
 * undefined when it is fine. The Kafka bus's validator dead-letters such records.
 */
export function malformedReason(event: HippoEvent): string | undefined {
  if (!Object.hasOwn(dataSchemas, event.type)) return `unknown event type ${event.type}`;
  try {
    parseData(event, dataSchemas[event.type as EventType]);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}
