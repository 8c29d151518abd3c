import type { StepOutput, StepRequested } from '../eventing/catalog.ts';
import type { Partition } from '../shared/params.ts';

/** Every status a run may have (DESIGN §4); the last three are terminal. */
export const RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export type StepStatus = 'pending' | 'dispatched' | 'succeeded' | 'failed' | 'cancelled';

export interface RunError {
  code: string;
  message: string;
  step?: string;
  stepId?: string;
}

export interface Attempt {
  attempt: number;
  tier: number;
  /**
   * `superseded`: another attempt of the step answered first; this one's answer is not needed.
   * `cancelled`: the run ended (cancelled, or failed elsewhere) before this attempt answered.
   */
  status: 'dispatched' | 'succeeded' | 'failed' | 'superseded' | 'cancelled';
  error?: { code: string; message: string };
  dispatchedAt: string;
  finishedAt?: string;
}

export interface StepState {
  step: string;
  /** Which partition of a fanned-out step this entry is (DESIGN §14). */
  partition?: Partition;
  status: StepStatus;
  /** Step ids whose outputs this step reads. */
  needs: string[];
  /** name → `<stepId>.<output name>`, resolved to object keys at dispatch. */
  inputRefs: Record<string, string>;
  params: Record<string, unknown>;
  output: string;
  attempt: number;
  tier: number;
  dispatchedAt?: string;
  deadline?: string;
  finishedAt?: string;
  outputs?: Record<string, StepOutput>;
  lineage?: Record<string, string[]>;
  metrics?: { ms: number; peakRssBytes: number; cpuMs?: number; rowsIn: number; rowsOut: number };
  error?: { code: string; message: string };
  attempts: Attempt[];
  /** Bytes of lake Parquet the step reads (at submit), for the planner's first tier. */
  lakeBytes?: number;
  /** The planner's estimate of the first attempt's input, bytes, and the tier it chose from it. */
  estimate?: { inputBytes: number; tier: number };
  /** The `step.requested` data of the current attempt, to send again if it was lost. */
  request?: StepRequested;
}

export interface RunResult {
  key: string;
  rows: number;
  bytes: number;
  sha256: string;
  contentType: string;
}

/** The run record of DESIGN §4, stored as `runs/<id>.json`. */
export interface Run {
  id: string;
  pipeline: string;
  params: Record<string, unknown>;
  asOf: string;
  status: RunStatus;
  steps: Record<string, StepState>;
  result?: RunResult;
  error?: RunError;
  /** How many partitions each fanned-out step was split into (absent: 1, no fan-out). */
  partitions?: number;
  /**
   * Result reuse (DESIGN §14): the run whose computation this run shares — its result, or, while
   * it runs, its outcome (`coalesced`). A reused run executes no step of its own.
   */
  reusedFrom?: string;
  /** Attached to `reusedFrom` while it was still running (coalesced), rather than taking a finished result. */
  coalesced?: boolean;
  /** Runs attached to this one's computation: they end with its result or its failure. */
  followers?: string[];
  /** The lake datasets the run reads (what a standing run watches). */
  datasets?: string[];
  /** A standing run: when a dataset it read changes, it is run again as a new run (asOf = then). */
  watch?: boolean;
  /** The standing run this one re-runs, and the one that re-ran this one. */
  previousRunId?: string;
  nextRunId?: string;
  /** A re-run is due: not before `after` (debounced); `asOf` and `nextRunId` are fixed once it starts. */
  rerun?: { after: string; datasets: string[]; asOf?: string; error?: string };
  createdAt: string;
  updatedAt: string;
}

export const TERMINAL: ReadonlySet<RunStatus> = new Set(['succeeded', 'failed', 'cancelled']);

/** Which attempt of which step of which run a `step.requested` is. */
export type StepAttemptRef = Pick<StepRequested, 'runId' | 'stepId' | 'attempt'>;

/**
 * Why `run` no longer waits for this attempt's answer, or undefined when it does. A broker
 * redelivers a request it timed out on while the watchdog has already dispatched the next
 * attempt, a Kafka consumer may deliver a finished attempt again, and a cancelled run's
 * requests may still be queued: doing that work would hold an instance (and its memory) for
 * an answer the coordinator drops as stale.
 */
export function staleRequest(run: Run, req: StepAttemptRef): string | undefined {
  if (TERMINAL.has(run.status)) return `run ${req.runId} is ${run.status}`;
  const step = run.steps[req.stepId];
  if (!step) return undefined;
  if (step.attempt > req.attempt) return `attempt ${step.attempt} of ${req.stepId} is the current one`;
  if (step.attempt === req.attempt && (step.status === 'succeeded' || step.status === 'failed')) return `attempt ${req.attempt} of ${req.stepId} already ${step.status}`;
  return undefined;
}

/** A step of the plan as a user thinks of it: one step, or all the partitions of a fanned-out step. */
export interface StepGroup {
  /** The step id, without the partition suffix (`pit-join-fundamentals`). */
  stepId: string;
  step: string;
  /** The entries of the run in the group (one for a step that is not fanned out). */
  ids: string[];
  done: number;
  /** Partitions (entries) that failed, by id. */
  failed: string[];
  /** Partitions dispatched and not answered yet. */
  running: string[];
  /** failed if one failed; succeeded when all did; dispatched while any is; else pending (or cancelled when all are). */
  status: StepStatus;
}

/**
 * The run's steps grouped for display: a fanned-out step's partitions are one group (the CLI's
 * progress, the dashboard's row "k of P done"). Works on the run record and on the API's view.
 *
 * @example
 * stepGroups(run.steps).map((g) => `${g.stepId} ${g.done}/${g.ids.length}`); // ['delisting-adjust 8/8', 'pit-join-fundamentals 5/8', 'export 0/1']
 */
export function stepGroups(steps: Record<string, { step: string; status: string; partition?: { index: number; count: number } }>): StepGroup[] {
  const groups = new Map<string, StepGroup>();
  for (const [id, s] of Object.entries(steps)) {
    const stepId = s.partition ? id.replace(/-p\d+$/, '') : id;
    const g = groups.get(stepId) ?? { stepId, step: s.step, ids: [], done: 0, failed: [], running: [], status: 'pending' };
    g.ids.push(id);
    if (s.status === 'succeeded') g.done++;
    if (s.status === 'failed') g.failed.push(id);
    if (s.status === 'dispatched') g.running.push(id);
    groups.set(stepId, g);
  }
  for (const g of groups.values()) {
    const cancelled = g.ids.every((id) => steps[id]!.status === 'cancelled');
    g.status = g.failed.length ? 'failed' : g.done === g.ids.length ? 'succeeded' : g.running.length ? 'dispatched' : cancelled ? 'cancelled' : 'pending';
  }
  return [...groups.values()];
}
