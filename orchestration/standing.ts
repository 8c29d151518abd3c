import { ulid } from 'ulid';
import type { DatasetChanged } from '../eventing/catalog.ts';
import { HippoError } from '../shared/errors.ts';
import type { Logger } from '../shared/log.ts';
import { silentLogger } from '../shared/log.ts';
import type { Coordinator } from './coordinator.ts';
import type { Ledger } from './ledger.ts';
import type { Run } from './run.ts';

export interface StandingDeps {
  ledger: Ledger;
  coordinator: Coordinator;
  /** How long to wait after a change for more changes before re-running (HIPPO_WATCH_DEBOUNCE_SECONDS). */
  debounceMs: number;
  log?: Logger;
  now?: () => Date;
  newId?: () => string;
}

/**
 * Standing runs (`"watch": true`): a run that is re-run, as a new run with `asOf` = then,
 * whenever a dataset it read changes — so a researcher's panel follows the vendor's
 * restatements, while every earlier run stays as it was and reproducible.
 *
 * A chain of runs: the head carries a marker (`runs/standing/<id>`). A `dataset.changed`
 * for a dataset the head read, recorded after its `asOf`, marks a re-run due after a
 * debounce (more changes in that window join the same re-run). When it is due, one
 * compare-and-swap on the head fixes the new run's id and `asOf`; then the new run is
 * submitted (idempotent by id) and becomes the head. A crash anywhere in between is picked
 * up by the next `rerunDue` — from the runs function's timer, or the watchdog's tick.
 */
export class StandingRuns {
  private readonly log: Logger;
  private readonly now: () => Date;
  private readonly newId: () => string;

  constructor(private readonly deps: StandingDeps) {
    this.log = deps.log ?? silentLogger;
    this.now = deps.now ?? (() => new Date());
    this.newId = deps.newId ?? ulid;
  }

  /** Marks a re-run due for every standing head that read the dataset before this change. Returns how many. */
  async onDatasetChanged(d: DatasetChanged): Promise<number> {
    let marked = 0;
    for (const id of await this.deps.ledger.standing()) {
      const { changed } = await this.deps.ledger.update(id, (run) => {
        if (!run.watch || run.nextRunId || !run.datasets?.includes(d.dataset)) return false;
        // The run saw this data already (an event that arrived late): nothing new for it.
        if (Date.parse(d.recordedAt) <= Date.parse(run.asOf)) return false;
        const after = run.rerun?.after ?? new Date(this.now().getTime() + this.deps.debounceMs).toISOString();
        const datasets = [...new Set([...(run.rerun?.datasets ?? []), d.dataset])].sort();
        if (run.rerun && run.rerun.datasets.join() === datasets.join()) return false;
        run.rerun = { after, datasets };
        return true;
      });
      if (changed) marked++;
    }
    if (marked) this.log.info('standing runs to re-run', { dataset: d.dataset, runs: marked });
    return marked;
  }

  /** Starts every re-run that is due. Returns the ids of the runs started. */
  async rerunDue(): Promise<string[]> {
    const started: string[] = [];
    const now = this.now();
    for (const id of await this.deps.ledger.standing()) {
      const head = await this.deps.ledger.get(id);
      if (!head) continue;
      if (!head.watch) {
        await this.deps.ledger.unmarkStanding(id);
        continue;
      }
      if (!head.nextRunId && !(head.rerun && Date.parse(head.rerun.after) <= now.getTime())) continue;
      try {
        const { run } = await this.deps.ledger.update(id, (r) => {
          if (r.nextRunId) return false;
          r.nextRunId = this.newId();
          r.rerun = { ...r.rerun!, asOf: now.toISOString() };
          return true;
        });
        const next = await this.submitNext(run);
        if (next.created) started.push(next.run.id);
        await this.deps.ledger.unmarkStanding(id);
      } catch (err) {
        if (err instanceof HippoError && err.status < 500) {
          // The request is no longer valid (say a field left the lake): the chain ends here, saying why.
          this.log.error('standing run cannot re-run; no longer watched', { runid: id, err });
          await this.deps.ledger.update(id, (r) => ((r.watch = false), (r.rerun = { ...r.rerun!, error: err.message }), true));
          await this.deps.ledger.unmarkStanding(id);
        } else {
          this.log.warn('standing run re-run failed; will try again', { runid: id, err });
        }
      }
    }
    return started;
  }

  /** Stops a standing chain at this run: no more re-runs. */
  async unwatch(id: string): Promise<Run> {
    const { run } = await this.deps.ledger.update(id, (r) => {
      if (!r.watch) return false;
      r.watch = false;
      delete r.rerun;
      return true;
    });
    await this.deps.ledger.unmarkStanding(id);
    return run;
  }

  private async submitNext(head: Run): Promise<{ run: Run; created: boolean }> {
    const next = await this.deps.coordinator.submit(
      { pipeline: head.pipeline, params: head.params, asOf: head.rerun!.asOf, id: head.nextRunId!, watch: true, ...(head.partitions ? { partitions: head.partitions } : {}) },
      { previousRunId: head.id },
    );
    if (next.created) this.log.info('standing run re-run', { runid: next.run.id, previous: head.id, datasets: head.rerun?.datasets });
    return next;
  }
}
