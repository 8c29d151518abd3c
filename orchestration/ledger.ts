import { ConflictError, NotFoundError, PreconditionFailedError } from '../shared/errors.ts';
import { keys, type ObjectStore } from '../shared/object-store.ts';
import { staleRequest, TERMINAL, type Run, type RunStatus, type StepAttemptRef } from './run.ts';

/** A marker without its run (its creator died between the two writes) is dropped after this. */
const ORPHAN_MARKER_MS = 5 * 60_000;

export interface LedgerOptions {
  /** How many times an update re-reads and re-applies after losing a race. */
  maxAttempts?: number;
  /**
   * The clock that stamps `createdAt`/`updatedAt` and ages markers: the coordinator's own, so
   * the sweep compares times read from one clock.
   */
  now?: () => Date;
}

interface QueuedUpdate {
  mutate: (run: Run) => boolean;
  resolve: (r: { run: Run; changed: boolean }) => void;
  reject: (err: unknown) => void;
}

export const ledgerDefaults: Required<LedgerOptions> = { maxAttempts: 50, now: () => new Date() };

/**
 * The ledger: one JSON object per run, changed only by compare-and-swap (DESIGN §4), so
 * concurrent coordinators — several runs replicas, duplicate deliveries — never lose an update.
 *
 * @example
 * const ledger = new Ledger(store, { now: clock });
 * await ledger.update(id, (run) => { run.status = 'cancelled'; return true; });
 */
export class Ledger {
  private readonly options: Required<LedgerOptions>;

  /** Updates waiting for the write in flight of their run (see `update`). */
  private readonly queued = new Map<string, QueuedUpdate[]>();
  /** Runs with a write in flight from this process. */
  private readonly committing = new Set<string>();

  /** `list`'s runs by key, with the ETag they were read at. */
  private readonly listCache = new Map<string, { etag: string; run: Run }>();

  constructor(private readonly store: ObjectStore, options: LedgerOptions = {}) {
    this.options = { ...ledgerDefaults, ...options };
  }

  /**
   * Creates the run; returns false (and writes nothing) when a run with that id exists. An
   * unfinished run gets its marker first (`runs/active/<id>`), so no active run is ever
   * without one; the marker goes when the run finishes.
   */
  async create(run: Run): Promise<boolean> {
    const marker = JSON.stringify({ createdAt: this.options.now().toISOString() });
    if (!TERMINAL.has(run.status)) await this.store.put(keys.activeRun(run.id), marker, { contentType: 'application/json' });
    if (run.watch) await this.store.put(keys.standingRun(run.id), marker, { contentType: 'application/json' });
    try {
      await this.store.put(keys.run(run.id), JSON.stringify(run, null, 2), { ifNoneMatch: '*', contentType: 'application/json' });
      return true;
    } catch (err) {
      if (err instanceof PreconditionFailedError) return false;
      throw err;
    }
  }

  async get(id: string): Promise<Run | undefined> {
    const obj = await this.store.get(keys.run(id));
    return obj ? (JSON.parse(new TextDecoder().decode(obj.body)) as Run) : undefined;
  }

  /**
   * Why the ledger no longer waits for this step request, or undefined when it does (see
   * `staleRequest`). A run the ledger does not know (a step called directly) and a ledger that
   * cannot be read count as current: skipping is only an economy.
   */
  async superseded(req: StepAttemptRef): Promise<string | undefined> {
    let run: Run | undefined;
    try {
      run = await this.get(req.runId);
    } catch {
      return undefined;
    }
    return run ? staleRequest(run, req) : undefined;
  }

  async mustGet(id: string): Promise<Run> {
    const run = await this.get(id);
    if (!run) throw new NotFoundError(`run ${id} not found`);
    return run;
  }

  /**
   * Applies `mutate` to the current run and writes it if the run did not change meanwhile;
   * on a lost race, re-reads and re-applies. `mutate` returns false for "nothing to do"
   * (e.g. a duplicate delivery), and must be a pure function of the run it is given.
   *
   * Updates of one run from this process are committed in groups: while one write is in
   * flight, the next updates queue, and are applied in order to one read of the run and
   * written once — as if each had had its own compare-and-swap, one after the other. A fanned-
   * out run's partitions finish together (DESIGN §14); one write each, racing, would lose most
   * races and rewrite the growing record O(P²) times (at P = 256: 3,237 lost races and 3.7 GB
   * written for 513 steps, measured). Writers in other processes still meet by compare-and-swap.
   */
  update(id: string, mutate: (run: Run) => boolean): Promise<{ run: Run; changed: boolean }> {
    return new Promise((resolve, reject) => {
      const queued = this.queued.get(id);
      if (queued) queued.push({ mutate, resolve, reject });
      else this.queued.set(id, [{ mutate, resolve, reject }]);
      if (!this.committing.has(id)) void this.drain(id);
    });
  }

  /** Commits the queued updates of `id`, a group at a time, until none is left. */
  private async drain(id: string): Promise<void> {
    this.committing.add(id);
    try {
      for (let group = this.queued.get(id); group?.length; group = this.queued.get(id)) {
        this.queued.delete(id);
        await this.commit(id, group);
      }
    } finally {
      this.committing.delete(id);
    }
  }

  /** One compare-and-swap for the group (re-read and re-applied on a lost race); every caller gets its answer. */
  private async commit(id: string, group: QueuedUpdate[]): Promise<void> {
    try {
      for (let attempt = 1; ; attempt++) {
        const obj = await this.store.get(keys.run(id));
        if (!obj) throw new NotFoundError(`run ${id} not found`);
        const run = JSON.parse(new TextDecoder().decode(obj.body)) as Run;
        const before = run.status;
        const changed = this.applyAll(run, group);
        if (changed === 'retry') {
          if (group.length === 0) return;
          continue; // a mutation threw: its caller has the error; the rest start again from a fresh read
        }
        if (!changed.some(Boolean)) return group.forEach((u) => u.resolve({ run, changed: false }));
        run.updatedAt = this.options.now().toISOString();
        try {
          await this.store.put(keys.run(id), JSON.stringify(run, null, 2), { ifMatch: obj.etag, contentType: 'application/json' });
        } catch (err) {
          if (!(err instanceof PreconditionFailedError)) throw err;
          if (attempt >= this.options.maxAttempts) throw new ConflictError(`run ${id} is changing too fast to update`, 'contention');
          await new Promise((r) => setTimeout(r, Math.random() * Math.min(100, 2 ** attempt)));
          continue;
        }
        // Finished: off the active list. (If this delete is lost, the next sweep drops the marker.)
        if (TERMINAL.has(run.status) && !TERMINAL.has(before)) await this.store.delete(keys.activeRun(id)).catch(() => {});
        return group.forEach((u, i) => u.resolve({ run, changed: changed[i]! }));
      }
    } catch (err) {
      group.forEach((u) => u.reject(err));
    }
  }

  /**
   * Each queued mutation in turn on `run`; what each returned, or 'retry' when one threw (it is
   * rejected and taken out of `group`, and `run` is spoiled: the others must start again).
   */
  private applyAll(run: Run, group: QueuedUpdate[]): boolean[] | 'retry' {
    const changed: boolean[] = [];
    for (const [i, u] of group.entries()) {
      try {
        changed.push(u.mutate(run));
      } catch (err) {
        u.reject(err);
        group.splice(i, 1);
        return 'retry';
      }
    }
    return changed;
  }

  /**
   * The runs that are not finished (queued, running), oldest first: read through the active
   * markers, so the cost follows the runs in flight, not every run ever made. Markers of
   * finished runs, and orphans, are dropped on the way.
   */
  async active(): Promise<Run[]> {
    const markers = await this.store.list(keys.activeRunsPrefix);
    const runs = await Promise.all(
      markers.map(async (m) => {
        const id = m.key.slice(keys.activeRunsPrefix.length);
        const run = await this.get(id);
        if (run && !TERMINAL.has(run.status)) return run;
        if (run || (await this.orphaned(m.key))) await this.store.delete(m.key).catch(() => {});
        return undefined;
      }),
    );
    return runs.filter((r): r is Run => r !== undefined).sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
  }

  private async orphaned(markerKey: string): Promise<boolean> {
    const obj = await this.store.get(markerKey);
    if (!obj) return false;
    const { createdAt } = JSON.parse(new TextDecoder().decode(obj.body)) as { createdAt: string };
    return this.options.now().getTime() - Date.parse(createdAt) > ORPHAN_MARKER_MS;
  }

  /** Ids of the standing runs at the head of their chains. */
  async standing(): Promise<string[]> {
    return (await this.store.list(keys.standingRunsPrefix)).map((m) => m.key.slice(keys.standingRunsPrefix.length)).sort();
  }

  /** This run is no longer the head of a standing chain (re-run, or no longer watched). */
  async unmarkStanding(id: string): Promise<void> {
    await this.store.delete(keys.standingRun(id)).catch(() => {});
  }

  /**
   * Runs, newest first (read-only: the objects are shared between calls). Sorting and filtering
   * need every run, so each listed run is kept by its ETag: a repeated list (the dashboard
   * refreshes every few seconds) reads only the runs written since, not all of them again.
   */
  async list(filter: { status?: RunStatus; active?: boolean; limit?: number } = {}): Promise<Run[]> {
    // `runs/<id>.json` only: not the markers in runs/active/ and runs/standing/.
    const objects = (await this.store.list(keys.runsPrefix)).filter((o) => !o.key.slice(keys.runsPrefix.length).includes('/') && o.key.endsWith('.json'));
    const listed = new Set(objects.map((o) => o.key));
    for (const key of this.listCache.keys()) if (!listed.has(key)) this.listCache.delete(key);
    const runs = (
      await Promise.all(objects.map(async (o) => {
        const cached = this.listCache.get(o.key);
        if (cached?.etag === o.etag) return cached.run;
        const obj = await this.store.get(o.key);
        if (!obj) return undefined;
        const run = JSON.parse(new TextDecoder().decode(obj.body)) as Run;
        this.listCache.set(o.key, { etag: obj.etag, run });
        return run;
      }))
    ).filter(
      (r): r is Run =>
        r !== undefined && (!filter.status || r.status === filter.status) && (!filter.active || r.status === 'queued' || r.status === 'running'),
    );
    runs.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
    return runs.slice(0, filter.limit ?? 100);
  }
}
