import { ulid } from 'ulid';
import {
  EventTypes,
  makeEvent,
  stepRequestedEvent,
  type RunRequest,
  type StepCompleted,
  type StepFailed,
} from '../eventing/catalog.ts';
import type { Emit } from '../eventing/bus.ts';
import type { HippoEvent } from '../shared/cloudevents.ts';
import { ARROW_STREAM_CONTENT_TYPE } from '../shared/content-types.ts';
import { ConflictError, TransientError, ValidationError } from '../shared/errors.ts';
import type { Logger } from '../shared/log.ts';
import { silentLogger } from '../shared/log.ts';
import { keys } from '../shared/object-store.ts';
import type { Ledger } from './ledger.ts';
import { firstTier } from './estimate.ts';
import { partitionPlan, partitionsFor, type PartitionSize } from './partitions.ts';
import { getPipeline, type LakeCatalog } from './pipelines.ts';
import { reuseKey, type ReuseIndex } from './reuse.ts';
import { TERMINAL, type Run, type StepState } from './run.ts';

export interface CoordinatorDeps {
  ledger: Ledger;
  emit: Emit;
  /** Per-attempt deadline of a dispatched step (HIPPO_STEP_TIMEOUT). */
  stepTimeoutSeconds: number;
  /** Per-step deadlines that differ from `stepTimeoutSeconds` (HIPPO_STEP_TIMEOUTS). */
  stepTimeouts?: Readonly<Record<string, number>>;
  /** What the lake holds, for checks such as "is this a known field", and its sizes. */
  lake?: LakeCatalog;
  /** Memory per tier (HIPPO_TIERS), bytes: the planner picks each step's first tier from it. */
  tiers?: readonly number[];
  /** What one partition should read when a request does not say how many (HIPPO_PARTITION_ROWS/_BYTES); default: DEFAULT_PARTITION. */
  partitionSize?: PartitionSize;
  /** Result reuse and coalescing (reuse.ts): which run computes each request; without it every run computes. */
  reuse?: ReuseIndex;
  log?: Logger;
  now?: () => Date;
  newId?: () => string;
}

const SOURCE = '/hippo/runs';
/** How long a queued run is left to the runs function that wrote it before the sweep dispatches it (see sweep). */
export const QUEUED_GRACE_MS = 5_000;
/** How far ahead of this clock a client's `asOf` may be (clocks differ a little). */
const CLOCK_SKEW_MS = 5 * 60_000;

/**
 * The coordinator: plans a pipeline into steps, keeps the ledger, dispatches
 * `step.requested` when a step's inputs are ready, and finishes the run. Every change is
 * one compare-and-swap of the run record; events go out only after it landed, so a
 * duplicate delivery finds its change already made and emits nothing.
 */
export class Coordinator {
  private readonly log: Logger;
  private readonly now: () => Date;
  private readonly newId: () => string;

  constructor(private readonly deps: CoordinatorDeps) {
    this.log = deps.log ?? silentLogger;
    this.now = deps.now ?? (() => new Date());
    this.newId = deps.newId ?? ulid;
  }

  /**
   * Idempotent by `id`: the same id again returns the existing run (`created: false`).
   * `previousRunId`: the standing run this one re-runs (standing.ts).
   */
  async submit(req: RunRequest, opts: { previousRunId?: string } = {}): Promise<{ run: Run; created: boolean }> {
    const pipeline = getPipeline(req.pipeline);
    const { params, steps: planned, size } = await pipeline.prepare(req.params ?? {}, this.deps.lake);
    const id = req.id ?? this.newId();
    const nowDate = this.now();
    if (req.asOf && Date.parse(req.asOf) > nowDate.getTime() + CLOCK_SKEW_MS) {
      // Data recorded later would change the answer: a future asOf is not reproducible.
      throw new ValidationError(`asOf ${req.asOf} is in the future`, [{ field: 'asOf', value: req.asOf, message: 'must not be after now' }]);
    }
    const existing = await this.deps.ledger.get(id);
    if (existing) return { run: await this.resume(this.sameRequest(existing, pipeline.name, params, req.asOf)), created: false };

    const asOf = req.asOf ? new Date(req.asOf).toISOString() : nowDate.toISOString();
    const datasets = [...new Set(planned.flatMap((s) => s.reads ?? []))].sort();
    const base = {
      id,
      pipeline: pipeline.name,
      params,
      asOf,
      datasets,
      ...(req.watch ? { watch: true } : {}),
      ...(opts.previousRunId ? { previousRunId: opts.previousRunId } : {}),
      createdAt: nowDate.toISOString(),
      updatedAt: nowDate.toISOString(),
    };
    // Reuse (DESIGN §14): a finished computation of the same request is taken as it is, a running
    // one is joined; otherwise this run computes, and claims the request for the runs after it.
    const reuse = await this.reuseKeyOf(req, pipeline.name, params, datasets, asOf);
    let takeOver: string | undefined;
    if (reuse) {
      const found = await this.shareExisting(reuse, base);
      if ('run' in found) return found.created ? found : { run: await this.resume(this.sameRequest(found.run, pipeline.name, params, req.asOf)), created: false };
      takeOver = found.takeOver;
    }

    const partitions = req.partitions ?? partitionsFor(await size(), this.deps.partitionSize);
    const plan = partitionPlan(planned, partitions);
    const steps: Record<string, StepState> = {};
    const lakeBytes = await this.lakeBytes(plan.flatMap((s) => s.reads ?? []));
    for (const s of plan) {
      const partition = 'partition' in s.params ? s.params.partition : undefined;
      const reads = s.reads?.length && lakeBytes ? s.reads.reduce((n, d) => n + (lakeBytes.get(d) ?? 0), 0) : undefined;
      steps[s.stepId] = {
        step: s.step,
        ...(partition ? { partition } : {}),
        status: 'pending',
        needs: [...new Set(Object.values(s.inputs).map((ref) => ref.split('.')[0]!))],
        inputRefs: s.inputs,
        params: s.params,
        output: s.final ? keys.result(id) : keys.work(id, s.stepId),
        attempt: 0,
        tier: 0,
        attempts: [],
        // A partition reads about its share of the lake: its first tier follows from that share.
        ...(reads !== undefined ? { lakeBytes: Math.ceil(reads / (partition?.count ?? 1)) } : {}),
      };
    }
    const run: Run = { ...base, status: 'queued', steps, ...(partitions > 1 ? { partitions } : {}) };
    if (!(await this.deps.ledger.create(run))) {
      return { run: await this.resume(this.sameRequest(await this.deps.ledger.mustGet(id), pipeline.name, params, req.asOf)), created: false };
    }
    this.log.info('run accepted', { runid: id, pipeline: run.pipeline });
    if (reuse && !(await this.deps.reuse!.claim(reuse, id, takeOver))) {
      // Another runs function claimed the same request a moment before: share its computation.
      return { run: await this.follow(id, reuse), created: true };
    }
    return { run: await this.transition(id, (r) => this.advance(r)), created: true };
  }

  /** The reuse key of a request that may share a computation, or undefined (opted out, a standing run, no index or catalog). */
  private async reuseKeyOf(req: RunRequest, pipeline: string, params: Record<string, unknown>, datasets: string[], asOf: string): Promise<string | undefined> {
    const { reuse, lake } = this.deps;
    if (!reuse || !lake?.visible || req.reuse === false || req.watch) return undefined;
    const state = Object.fromEntries(await Promise.all(datasets.map(async (d) => [d, await lake.visible!(d, asOf)] as const)));
    return reuseKey(pipeline, params, state);
  }

  /**
   * A new run of a claimed request: created already succeeded with the claimant's result, or
   * attached to it while it runs. `takeOver`: the claim of a computation that failed (or is
   * gone), for this run to replace; nothing: the request is free.
   */
  private async shareExisting(key: string, base: Omit<Run, 'status' | 'steps'>): Promise<{ run: Run; created: boolean } | { takeOver?: string }> {
    const claim = await this.deps.reuse!.get(key);
    if (!claim) return {};
    const leader = await this.deps.ledger.get(claim.runId);
    if (!leader || leader.status === 'failed' || leader.status === 'cancelled') return { takeOver: claim.etag };
    const run: Run = { ...base, status: 'running', steps: {}, reusedFrom: leader.id, ...(leader.status === 'succeeded' ? {} : { coalesced: true }) };
    if (leader.status === 'succeeded') {
      run.result = leader.result;
      const events = this.finish(run, 'succeeded');
      if (!(await this.deps.ledger.create(run))) return { run: await this.deps.ledger.mustGet(run.id), created: false };
      this.log.info('run reused a result', { runid: run.id, from: leader.id });
      for (const e of events) await this.deps.emit(e);
      return { run, created: true };
    }
    if (!(await this.deps.ledger.create(run))) return { run: await this.deps.ledger.mustGet(run.id), created: false };
    this.log.info('run attached to a running computation', { runid: run.id, to: leader.id });
    return { run: await this.attach(run.id, leader.id), created: true };
  }

  /** This (just created, not yet dispatched) run lost the claim on `key`: it drops its plan and shares the winner's computation. */
  private async follow(id: string, key: string): Promise<Run> {
    const claim = await this.deps.reuse!.get(key);
    const leaderId = claim!.runId;
    await this.deps.ledger.update(id, (r) => {
      if (r.status !== 'queued') return false;
      Object.assign(r, { status: 'running', steps: {}, reusedFrom: leaderId, coalesced: true });
      delete r.partitions;
      return true;
    });
    return this.attach(id, leaderId);
  }

  /** Adds `id` to the leader's followers; a leader that finished meanwhile settles it at once. */
  private async attach(id: string, leaderId: string): Promise<Run> {
    const { run: leader, changed } = await this.deps.ledger.update(leaderId, (l) => {
      if (TERMINAL.has(l.status)) return false;
      if (!(l.followers ??= []).includes(id)) l.followers.push(id);
      return true;
    });
    return changed ? this.deps.ledger.mustGet(id) : this.settle(id, leader);
  }

  /** Ends a follower with its leader's outcome: the same result, or failed with the leader's reason. */
  private async settle(id: string, leader: Run): Promise<Run> {
    return this.transition(id, (r) => {
      if (TERMINAL.has(r.status)) return undefined;
      if (leader.status === 'succeeded') {
        r.result = leader.result;
        return this.finish(r, 'succeeded');
      }
      const why = leader.error?.message ?? leader.status;
      return this.finish(r, 'failed', {
        code: leader.error?.code ?? leader.status,
        message: `run ${leader.id}, whose computation this run shares, ${leader.status}: ${why}`,
        ...(leader.error?.step ? { step: leader.error.step } : {}),
        ...(leader.error?.stepId ? { stepId: leader.error.stepId } : {}),
      });
    });
  }

  async onStepCompleted(d: StepCompleted): Promise<Run> {
    let duplicate = false;
    const run = await this.transition(d.runId, (run) => {
      const s = run.steps[d.stepId];
      duplicate = s?.status === 'succeeded';
      // A duplicate, late, or unknown completion changes nothing (DESIGN §4).
      if (!s || s.status === 'succeeded' || TERMINAL.has(run.status)) return undefined;
      const at = this.now().toISOString();
      s.status = 'succeeded';
      s.finishedAt = at;
      s.outputs = d.outputs;
      s.lineage = d.lineage;
      s.metrics = d.metrics;
      const a = s.attempts.find((x) => x.attempt === d.attempt) ?? s.attempts.at(-1);
      if (a) {
        // A late answer still counts (same inputs, same bytes): the attempt that answered is
        // the one that succeeded, even if its deadline had passed and it was re-dispatched.
        Object.assign(a, { status: 'succeeded', finishedAt: at });
        delete a.error;
      }
      for (const other of s.attempts) {
        if (other !== a && other.status === 'dispatched') Object.assign(other, { status: 'superseded', finishedAt: at });
      }
      return this.advance(run) ?? [];
    }, 'redeliver');
    // A redelivered completion may mean the first delivery's follow-up events were lost
    // (runs died after writing the ledger, before emitting): send them again. Steps are
    // idempotent (deterministic output keys), so a duplicate dispatch is harmless.
    if (duplicate && !TERMINAL.has(run.status)) {
      for (const e of this.pendingDispatches(run, d.stepId)) await this.deps.emit(e);
    }
    return run;
  }

  async onStepFailed(d: StepFailed): Promise<Run> {
    return this.transition(d.runId, (run) => {
      const s = run.steps[d.stepId];
      if (!s || s.status === 'succeeded' || s.status === 'failed' || TERMINAL.has(run.status)) return undefined;
      // A failure report from an attempt that was superseded (re-dispatched) is stale.
      if (d.attempt < s.attempt) return undefined;
      const now = this.now();
      const at = now.toISOString();
      const error = { code: d.error.code, message: d.error.message };
      if (d.error.nextTier !== undefined) {
        // The dead-letter sink's decision (out of memory, or the worker died): this attempt
        // failed; the next runs one memory tier up. Both stay in the step's attempts.
        const a = s.attempts.find((x) => x.attempt === d.attempt) ?? s.attempts.at(-1);
        if (a) Object.assign(a, { status: 'failed', finishedAt: at, error });
        return [this.dispatch(run, d.stepId, s, s.attempt + 1, d.error.nextTier, now)];
      }
      s.status = 'failed';
      s.finishedAt = at;
      s.error = error;
      const a = s.attempts.find((x) => x.attempt === d.attempt) ?? s.attempts.at(-1);
      if (a) Object.assign(a, { status: 'failed', finishedAt: at, error });
      return this.finish(run, 'failed', { ...error, step: s.step, stepId: d.stepId });
    }, 'redeliver');
  }

  /** Cancels a queued or running run; cancelling a cancelled run is a no-op, a finished one a 409. */
  async cancel(id: string): Promise<Run> {
    const run = await this.transition(id, (run) => {
      if (TERMINAL.has(run.status)) return undefined;
      return this.finish(run, 'cancelled', { code: 'cancelled', message: 'cancelled by request' });
    });
    if (run.status !== 'cancelled') throw new ConflictError(`run ${id} already ${run.status}`, 'already_finished');
    return run;
  }

  /**
   * The deadline sweep, run by the watchdog (DESIGN §4 invariant, §10): a run still queued
   * `QUEUED_GRACE_MS` after its last write gets dispatched (sooner, it is its creator's to
   * advance: a run is written queued and dispatched a moment later, and a watchdog sharing the
   * store — `hippo run` beside `hippo dev` — would otherwise take it over in that moment and
   * run it on its own platform); a dispatched step past its deadline is dispatched again
   * (attempt + 1, same tier) until it has timed out `maxTimeouts` times, then its run fails
   * with `timeout`. It is also what picks up runs whose events were lost (a crash, a restart
   * of the platform): their steps pass their deadlines too.
   */
  async sweep(maxTimeouts = 3): Promise<{ redispatched: number; failed: number }> {
    let redispatched = 0;
    let failed = 0;
    const now = this.now();
    const overdue = (run: Run) =>
      Object.entries(run.steps).filter(([, s]) => s.status === 'dispatched' && s.deadline && Date.parse(s.deadline) < now.getTime());
    for (const candidate of await this.deps.ledger.active()) {
      if (candidate.reusedFrom) {
        // A follower whose leader ended without settling it (the runs function died in between).
        const leader = await this.deps.ledger.get(candidate.reusedFrom);
        if (!leader || TERMINAL.has(leader.status)) {
          const ended = leader ?? { ...candidate, id: candidate.reusedFrom, status: 'failed' as const, error: { code: 'not_found', message: 'the run is gone' } };
          if ((await this.settle(candidate.id, ended)).status === 'failed') failed++;
        }
        continue;
      }
      if (candidate.status === 'queued') {
        if (now.getTime() - Date.parse(candidate.updatedAt) >= QUEUED_GRACE_MS) await this.resume(candidate);
        continue;
      }
      if (overdue(candidate).length === 0) continue;
      const run = await this.transition(candidate.id, (run) => {
        const late = overdue(run);
        if (TERMINAL.has(run.status) || late.length === 0) return undefined;
        const events: HippoEvent[] = [];
        for (const [stepId, s] of late) {
          const a = s.attempts.at(-1);
          const error = { code: 'timeout', message: `no answer from ${s.step} (attempt ${s.attempt}, tier ${s.tier}) by its deadline ${s.deadline}` };
          if (a) Object.assign(a, { status: 'failed', finishedAt: now.toISOString(), error });
          const timeouts = s.attempts.filter((x) => x.error?.code === 'timeout').length;
          if (timeouts >= maxTimeouts) {
            s.status = 'failed';
            s.finishedAt = now.toISOString();
            s.error = error;
            const seconds = this.timeoutOf(s.step);
            return this.finish(run, 'failed', { code: 'timeout', message: `${s.step} did not answer within ${seconds} s, ${timeouts} times`, step: s.step, stepId });
          }
          events.push(this.dispatch(run, stepId, s, s.attempt + 1, s.tier, now));
        }
        return events;
      });
      if (run.status === 'failed') failed++;
      else redispatched++;
    }
    return { redispatched, failed };
  }

  /** Bytes per dataset, when the lake is known (the runs function; not the watchdog, which never plans). */
  private async lakeBytes(datasets: string[]): Promise<Map<string, number> | undefined> {
    const lake = this.deps.lake;
    if (!lake || !this.deps.tiers || this.deps.tiers.length < 2) return undefined;
    const unique = [...new Set(datasets)];
    return new Map(await Promise.all(unique.map(async (d) => [d, await lake.bytes(d)] as const)));
  }

  /** The first attempt's tier: from the step's input size (its lake data and the outputs it reads). */
  private plannedTier(run: Run, s: StepState): number {
    if (!this.deps.tiers || this.deps.tiers.length < 2) return 0;
    const upstream = Object.values(s.inputRefs).reduce((n, ref) => {
      const [from, output] = ref.split('.') as [string, string];
      return n + (run.steps[from]?.outputs?.[output]?.bytes ?? 0);
    }, 0);
    const inputBytes = (s.lakeBytes ?? 0) + upstream;
    const tier = firstTier(inputBytes, this.deps.tiers);
    s.estimate = { inputBytes, tier };
    return tier;
  }

  /** A step's per-attempt deadline, seconds. */
  timeoutOf(step: string): number {
    return this.deps.stepTimeouts?.[step] ?? this.deps.stepTimeoutSeconds;
  }

  /** A queued run (its first dispatch was lost) is advanced; anything else is returned as is. */
  private async resume(run: Run): Promise<Run> {
    return run.status === 'queued' ? this.transition(run.id, (r) => (r.status === 'queued' ? this.advance(r) : undefined)) : run;
  }

  /** The same id must mean the same request: otherwise the caller would get an answer to another question. */
  private sameRequest(existing: Run, pipeline: string, params: Record<string, unknown>, asOf?: string): Run {
    const differs =
      existing.pipeline !== pipeline ||
      JSON.stringify(existing.params) !== JSON.stringify(params) ||
      (asOf !== undefined && Date.parse(asOf) !== Date.parse(existing.asOf));
    if (differs) {
      throw new ConflictError(`run ${existing.id} exists with a different request (pipeline, params or asOf); use another id`, 'id_conflict');
    }
    return existing;
  }

  /** `step.requested` again for the steps that depend on `stepId` and are dispatched. */
  private pendingDispatches(run: Run, stepId: string): HippoEvent[] {
    return Object.entries(run.steps)
      .filter(([, s]) => s.status === 'dispatched' && s.needs.includes(stepId) && s.request)
      .map(([, s]) => stepRequestedEvent(SOURCE, s.request!));
  }

  private dispatch(run: Run, stepId: string, s: StepState, attempt: number, tier: number, now: Date): HippoEvent {
    const inputs: Record<string, string> = {};
    for (const [name, ref] of Object.entries(s.inputRefs)) {
      const [from, output] = ref.split('.') as [string, string];
      inputs[name] = run.steps[from]!.outputs![output]!.key;
    }
    s.status = 'dispatched';
    s.attempt = attempt;
    s.tier = tier;
    s.dispatchedAt = now.toISOString();
    s.deadline = new Date(now.getTime() + this.timeoutOf(s.step) * 1000).toISOString();
    s.attempts.push({ attempt, tier, status: 'dispatched', dispatchedAt: s.dispatchedAt });
    const params = s.step === 'export' ? { ...s.params, lineage: mergeLineage(run) } : s.params;
    s.request = { runId: run.id, stepId, step: s.step, params, asOf: run.asOf, inputs, output: s.output, attempt, tier };
    return stepRequestedEvent(SOURCE, s.request);
  }

  /**
   * One ledger transition: `change` mutates the run and returns the events to send, or
   * undefined for "nothing to do". Events are sent after the write succeeded.
   *
   * If the broker does not take them: a transition caused by a delivered event
   * (`redeliver`) answers 503, so the broker delivers that event again — the repeat finds the
   * ledger already changed and re-sends the follow-up events (a broker that is down for a
   * moment, or a restart, must not fail runs). Otherwise (a submit) the run fails at once:
   * no step will run, and the run must not wait forever.
   */
  private async transition(id: string, change: (run: Run) => HippoEvent[] | undefined, onEmitFailure: 'fail' | 'redeliver' = 'fail'): Promise<Run> {
    let events: HippoEvent[] = [];
    const { run, changed } = await this.deps.ledger.update(id, (r) => {
      const out = change(r);
      events = out ?? [];
      return out !== undefined;
    });
    if (!changed) return run;
    try {
      for (const e of events) await this.deps.emit(e);
    } catch (err) {
      if (onEmitFailure === 'redeliver') {
        this.log.warn('could not emit; asking for redelivery', { runid: id, err });
        throw new TransientError(`the broker did not accept run ${id}'s events: ${(err as Error).message}`, err);
      }
      this.log.error('could not emit; failing the run', { runid: id, err });
      const failed = await this.deps.ledger.update(id, (r) => {
        if (TERMINAL.has(r.status)) return false;
        r.status = 'failed';
        r.error = { code: 'dispatch_failed', message: `the broker did not accept the run's events: ${(err as Error).message}` };
        closeOpenWork(r, this.now().toISOString());
        return true;
      });
      return failed.run;
    }
    if (TERMINAL.has(run.status) && run.followers?.length) {
      for (const f of run.followers) await this.settle(f, run);
    }
    return run;
  }

  /** Dispatches every pending step whose inputs are ready; finishes the run when all succeeded. */
  private advance(run: Run): HippoEvent[] | undefined {
    if (TERMINAL.has(run.status)) return undefined;
    const events: HippoEvent[] = [];
    const now = this.now();
    for (const [stepId, s] of Object.entries(run.steps)) {
      if (s.status !== 'pending' || !s.needs.every((n) => run.steps[n]?.status === 'succeeded')) continue;
      events.push(this.dispatch(run, stepId, s, 1, this.plannedTier(run, s), now));
    }
    if (events.length && run.status === 'queued') run.status = 'running';
    const steps = Object.values(run.steps);
    if (steps.every((s) => s.status === 'succeeded')) {
      const final = steps.find((s) => s.output === keys.result(run.id));
      const out = final?.outputs?.result;
      if (out) run.result = { ...out, contentType: ARROW_STREAM_CONTENT_TYPE };
      return [...events, ...this.finish(run, 'succeeded')];
    }
    return events.length ? events : run.status === 'queued' ? undefined : events;
  }

  private finish(run: Run, status: 'succeeded' | 'failed' | 'cancelled', error?: Run['error']): HippoEvent[] {
    run.status = status;
    if (error) run.error = error;
    closeOpenWork(run, this.now().toISOString());
    const type = status === 'succeeded' ? EventTypes.runCompleted : EventTypes.runFailed;
    this.log.info(`run ${status}`, { runid: run.id, error: error?.message });
    return [
      makeEvent(type, SOURCE, { runId: run.id, pipeline: run.pipeline, status, result: run.result, error: run.error }, { runid: run.id }),
    ];
  }
}

/**
 * A run that ends leaves nothing open: a step still pending or dispatched is cancelled, and an
 * attempt still dispatched is closed — `superseded` where its step succeeded by another
 * attempt, `cancelled` otherwise. (An answer arriving later is dropped: the run is terminal.)
 */
function closeOpenWork(run: Run, at: string): void {
  for (const s of Object.values(run.steps)) {
    if (s.status === 'pending' || s.status === 'dispatched') Object.assign(s, { status: 'cancelled', finishedAt: at });
    for (const a of s.attempts) {
      if (a.status === 'dispatched') Object.assign(a, { status: s.status === 'succeeded' ? 'superseded' : 'cancelled', finishedAt: at });
    }
  }
}

function mergeLineage(run: Run): Record<string, string[]> {
  const out: Record<string, Set<string>> = {};
  for (const s of Object.values(run.steps)) {
    for (const [ds, parts] of Object.entries(s.lineage ?? {})) for (const p of parts) (out[ds] ??= new Set()).add(p);
  }
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, [...v].sort()]));
}
