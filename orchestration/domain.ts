import type { Emit } from '../eventing/bus.ts';
import type { Logger } from '../shared/log.ts';
import type { ObjectStore } from '../shared/object-store.ts';
import { Coordinator } from './coordinator.ts';
import type { PartitionSize } from './partitions.ts';
import { StoreLakeCatalog } from './lake-catalog.ts';
import { Ledger } from './ledger.ts';
import { ReuseIndex } from './reuse.ts';
import { StandingRuns } from './standing.ts';

export interface RunDomainOptions {
  store: ObjectStore;
  /** Where `step.requested` and `run.*` events go (the broker). */
  emit: Emit;
  /** Per-attempt deadline of a dispatched step (HIPPO_STEP_TIMEOUT). */
  stepTimeoutSeconds: number;
  /** Per-step deadlines that differ from `stepTimeoutSeconds` (HIPPO_STEP_TIMEOUTS). */
  stepTimeouts?: Readonly<Record<string, number>>;
  /** Memory per tier, bytes (HIPPO_TIERS): the planner picks each step's first tier from it. */
  tiers?: readonly number[];
  /** Standing runs wait this long after a data change for more before re-running (HIPPO_WATCH_DEBOUNCE_SECONDS). */
  watchDebounceSeconds?: number;
  /** What one partition should read when the request leaves the number of partitions to the planner (HIPPO_PARTITION_ROWS/_BYTES). */
  partitionSize?: PartitionSize;
  /** Where the lake catalog's DuckDB reads work. */
  tempRoot?: string;
  log?: Logger;
  /** One clock for the ledger's stamps, the coordinator's deadlines and the standing runs' debounce. */
  now?: () => Date;
}

/** The run domain as one function uses it: every part over the same store, clock and log. */
export interface RunDomain {
  ledger: Ledger;
  coordinator: Coordinator;
  standing: StandingRuns;
  /** Milliseconds a standing run waits after a data change. */
  debounceMs: number;
}

/**
 * Wires the run domain once, for the runs function and the watchdog alike: both move runs
 * through the same state machine over the same ledger, so a deadline the watchdog sweeps and a
 * completion the runs function records are compare-and-swaps of one record, stamped by one clock.
 *
 * @example
 * const { coordinator } = createRunDomain({ store, emit, stepTimeoutSeconds: 540 });
 * await coordinator.submit({ pipeline: 'transcripts', params: { start: '2020-01-01', end: '2020-12-31' } });
 */
export function createRunDomain(o: RunDomainOptions): RunDomain {
  const ledger = new Ledger(o.store, { ...(o.now ? { now: o.now } : {}) });
  const coordinator = new Coordinator({
    ledger,
    emit: o.emit,
    stepTimeoutSeconds: o.stepTimeoutSeconds,
    stepTimeouts: o.stepTimeouts,
    lake: new StoreLakeCatalog(o.store, o.tempRoot),
    tiers: o.tiers,
    partitionSize: o.partitionSize,
    reuse: new ReuseIndex(o.store),
    log: o.log,
    now: o.now,
  });
  const debounceMs = (o.watchDebounceSeconds ?? 10) * 1000;
  const standing = new StandingRuns({ ledger, coordinator, debounceMs, log: o.log, now: o.now });
  return { ledger, coordinator, standing, debounceMs };
}
