import { ulid } from 'ulid';
import {
  EventTypes,
  makeEvent,
  stepRequestedEvent,
  type RunRequest,
  type StepCompleted,
  type StepFailed,
  type StepRequested,
} from '../../eventing/catalog.ts';
import type { Emit } from '../../eventing/bus.ts';
import type { HippoEvent } from '../../shared/cloudevents.ts';
import { ConflictError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/log.ts';
import { silentLogger } from '../../shared/log.ts';
import { keys } from '../../shared/object-store.ts';
import type { Ledger } from './ledger.ts';
import { getPipeline } from './pipelines.ts';
import { TERMINAL, type Run, type StepState } from './run.ts';

export interface CoordinatorDeps {
  ledger: Ledger;
  emit: Emit;
  /** Per-attempt deadline of a dispatched step (HIPPO_STEP_TIMEOUT). */
  stepTimeoutSeconds: number;
  log?: Logger;
  now?: () => Date;
  newId?: () => string;
}

const SOURCE = '/hippo/runs';

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

  /** Idempotent by `id`: the same id again returns the existing run (`created: false`). */
  async submit(req: RunRequest): Promise<{ run: Run; created: boolean }> {
    const pipeline = getPipeline(req.pipeline);
    const params = pipeline.parseParams(req.params ?? {});
    const id = req.id ?? this.newId();
    const existing = await this.deps.ledger.get(id);
    if (existing) return { run: existing, created: false };

    const now = this.now().toISOString();
    const steps: Record<string, StepState> = {};
    for (const s of pipeline.plan(params)) {
      steps[s.stepId] = {
        step: s.step,
        status: 'pending',
        needs: [...new Set(Object.values(s.inputs).map((ref) => ref.split('.')[0]!))],
        inputRefs: s.inputs,
        params: s.params,
        output: s.final ? keys.result(id) : keys.work(id, s.stepId),
        attempt: 0,
        tier: 0,
        attempts: [],
      };
    }
    const run: Run = {
      id,
      pipeline: pipeline.name,
      params,
      asOf: req.asOf ? new Date(req.asOf).toISOString() : now,
      status: 'queued',
      steps,
      createdAt: now,
      updatedAt: now,
    };
    if (!(await this.deps.ledger.create(run))) return { run: (await this.deps.ledger.mustGet(id)), created: false };
    this.log.info('run accepted', { runid: id, pipeline: run.pipeline });
    return { run: await this.transition(id, (r) => this.advance(r)), created: true };
  }

  async onStepCompleted(d: StepCompleted): Promise<Run> {
    return this.transition(d.runId, (run) => {
      const s = run.steps[d.stepId];
      // A duplicate, late, or unknown completion changes nothing (DESIGN §4).
      if (!s || s.status === 'succeeded' || TERMINAL.has(run.status)) return undefined;
      const at = this.now().toISOString();
      s.status = 'succeeded';
      s.finishedAt = at;
      s.outputs = d.outputs;
      s.lineage = d.lineage;
      s.metrics = d.metrics;
      const a = s.attempts.find((x) => x.attempt === d.attempt) ?? s.attempts.at(-1);
      if (a) Object.assign(a, { status: 'succeeded', finishedAt: at });
      return this.advance(run) ?? [];
    });
  }

  async onStepFailed(d: StepFailed): Promise<Run> {
    return this.transition(d.runId, (run) => {
      const s = run.steps[d.stepId];
      if (!s || s.status === 'succeeded' || s.status === 'failed' || TERMINAL.has(run.status)) return undefined;
      const at = this.now().toISOString();
      const error = { code: d.error.code, message: d.error.message };
      s.status = 'failed';
      s.finishedAt = at;
      s.error = error;
      const a = s.attempts.find((x) => x.attempt === d.attempt) ?? s.attempts.at(-1);
      if (a) Object.assign(a, { status: 'failed', finishedAt: at, error });
      return this.finish(run, 'failed', { ...error, step: s.step, stepId: d.stepId });
    });
  }

  async cancel(id: string): Promise<Run> {
    const current = await this.deps.ledger.mustGet(id);
    if (TERMINAL.has(current.status) && current.status !== 'cancelled') {
      throw new ConflictError(`run ${id} already ${current.status}`, 'already_finished');
    }
    return this.transition(id, (run) => {
      if (TERMINAL.has(run.status)) return undefined;
      for (const s of Object.values(run.steps)) if (s.status === 'pending' || s.status === 'dispatched') s.status = 'cancelled';
      return this.finish(run, 'cancelled', { code: 'cancelled', message: 'cancelled by request' });
    });
  }

  /**
   * One ledger transition: `change` mutates the run and returns the events to send, or
   * undefined for "nothing to do". Events are sent after the write succeeded.
   */
  private async transition(id: string, change: (run: Run) => HippoEvent[] | undefined): Promise<Run> {
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
      // The broker refused: no step will run, so the run must not wait forever.
      this.log.error('could not emit; failing the run', { runid: id, err });
      const failed = await this.deps.ledger.update(id, (r) => {
        if (TERMINAL.has(r.status)) return false;
        r.status = 'failed';
        r.error = { code: 'dispatch_failed', message: `the broker did not accept the run's events: ${(err as Error).message}` };
        return true;
      });
      return failed.run;
    }
    return run;
  }

  /** Dispatches every pending step whose inputs are ready; finishes the run when all succeeded. */
  private advance(run: Run): HippoEvent[] | undefined {
    if (TERMINAL.has(run.status)) return undefined;
    const events: HippoEvent[] = [];
    const now = this.now();
    const lineage = mergeLineage(run);
    for (const [stepId, s] of Object.entries(run.steps)) {
      if (s.status !== 'pending' || !s.needs.every((n) => run.steps[n]?.status === 'succeeded')) continue;
      const inputs: Record<string, string> = {};
      for (const [name, ref] of Object.entries(s.inputRefs)) {
        const [from, output] = ref.split('.') as [string, string];
        inputs[name] = run.steps[from]!.outputs![output]!.key;
      }
      s.status = 'dispatched';
      s.attempt = 1;
      s.tier = 0;
      s.dispatchedAt = now.toISOString();
      s.deadline = new Date(now.getTime() + this.deps.stepTimeoutSeconds * 1000).toISOString();
      s.attempts.push({ attempt: 1, tier: 0, status: 'dispatched', dispatchedAt: s.dispatchedAt });
      const params = s.step === 'export' ? { ...s.params, lineage } : s.params;
      const req: StepRequested = { runId: run.id, stepId, step: s.step, params, asOf: run.asOf, inputs, output: s.output, attempt: 1, tier: 0 };
      events.push(stepRequestedEvent(SOURCE, req));
    }
    if (events.length && run.status === 'queued') run.status = 'running';
    const steps = Object.values(run.steps);
    if (steps.every((s) => s.status === 'succeeded')) {
      const final = steps.find((s) => s.output === keys.result(run.id));
      const out = final?.outputs?.result;
      if (out) run.result = { ...out, contentType: 'application/vnd.apache.arrow.stream' };
      return [...events, ...this.finish(run, 'succeeded')];
    }
    return events.length ? events : run.status === 'queued' ? undefined : events;
  }

  private finish(run: Run, status: 'succeeded' | 'failed' | 'cancelled', error?: Run['error']): HippoEvent[] {
    run.status = status;
    if (error) run.error = error;
    const type = status === 'succeeded' ? EventTypes.runCompleted : EventTypes.runFailed;
    this.log.info(`run ${status}`, { runid: run.id, error: error?.message });
    return [
      makeEvent(type, SOURCE, { runId: run.id, pipeline: run.pipeline, status, result: run.result, error: run.error }, { runid: run.id }),
    ];
  }
}

function mergeLineage(run: Run): Record<string, string[]> {
  const out: Record<string, Set<string>> = {};
  for (const s of Object.values(run.steps)) {
    for (const [ds, parts] of Object.entries(s.lineage ?? {})) for (const p of parts) (out[ds] ??= new Set()).add(p);
  }
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, [...v].sort()]));
}
