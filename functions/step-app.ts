import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hono } from 'hono';
import type { z } from 'zod';
import { quotedString, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { carriesEvent, eventResponse, readEvent } from '../shared/cloudevents.ts';
import { withConnection, withDuckDB, type DuckDBOptions } from '../shared/duckdb.ts';
import { hashFile } from '../shared/hash.ts';
import { ValidationError } from '../shared/errors.ts';
import { functionApp } from '../shared/http.ts';
import { partitionParam } from '../shared/params.ts';
import { peakRssSince } from '../shared/peak-rss.ts';
import { faultFor, inject, type ChaosRule } from './chaos.ts';
import type { Logger } from '../shared/log.ts';
import type { ObjectStore } from '../shared/object-store.ts';
import { Ledger } from '../orchestration/index.ts';
import {
  EventTypes,
  makeEvent,
  parseData,
  stepRequestedSchema,
  zodToValidation,
  type StepCompleted,
  type StepOutput,
  type StepRequested,
} from '../eventing/catalog.ts';

/** What a step's app is given: its store, DuckDB's limits, where to work, its tier. */
export interface StepDeps {
  store: ObjectStore;
  duckdb?: DuckDBOptions;
  /** Parent of each invocation's temporary directory. */
  tempRoot?: string;
  log?: Logger;
  /** This process's tier, reported in replies. */
  tier?: number;
  /** Fault drills (HIPPO_CHAOS); none by default. */
  chaos?: readonly ChaosRule[];
}

export interface StepContext {
  store: ObjectStore;
  tempDir: string;
  log: Logger;
  /** Writes the query's result (with its bound `values`) as `<output>/<name>.parquet` (zstd) and describes it. */
  writeParquet(sql: string, name: string, values?: DuckDBValue[]): Promise<StepOutput>;
  /** A local path for an input key (downloaded when the store is remote). */
  inputPath(key: string): Promise<string>;
  /** Runs `fn` on a second connection to the step's database (closed afterwards). */
  withConnection<T>(fn: (c: DuckDBConnection) => Promise<T>): Promise<T>;
}

export interface StepResult {
  outputs: Record<string, StepOutput>;
  lineage?: Record<string, string[]>;
  rowsIn: number;
  rowsOut: number;
}

/** The step request with its params validated and typed. */
export type TypedStepRequest<P> = Omit<StepRequested, 'params'> & { params: P };

export type StepLogic<P> = (c: DuckDBConnection, req: TypedStepRequest<P>, ctx: StepContext) => Promise<StepResult>;

export interface StepSpec<P> {
  name: string;
  /**
   * The step's params, defined once beside the step (`params.ts`): the pipelines compose the
   * same schema, so what a pipeline accepts at submit is what the step accepts. Bad params
   * reaching the step anyway (a hand-made event) are a 422 naming the field.
   */
  params: z.ZodType<P>;
  run: StepLogic<P>;
}

/**
 * The scaffolding every DuckDB step shares (STYLE "Avoid: copy-pasted step scaffolding"):
 * parse and validate `step.requested`, open DuckDB with the tier's limits and a temp
 * directory, run the step's logic, reply with `step.completed` (the Knative reply
 * contract), and map failures to the status codes of DESIGN §10 (422 bad input, 507 out of
 * memory, 503 transient).
 */
export function createStepApp<P>(spec: StepSpec<P>, deps: StepDeps): Hono {
  const { app, log } = functionApp(spec.name, deps.log);
  const ledger = new Ledger(deps.store);

  app.post('/', async (c) => {
    if (!carriesEvent(c.req.raw.headers)) throw new ValidationError('expected a CloudEvent', [], { code: 'invalid_event' });
    const event = await readEvent(c.req.raw);
    if (event.type !== EventTypes.stepRequested || event.step !== spec.name) {
      throw new ValidationError(`${spec.name} does not handle ${event.type} (step ${event.step ?? 'none'})`, [], {
        status: 422, code: 'wrong_event',
      });
    }
    const req = parseData(event, stepRequestedSchema);
    const parsed = spec.params.safeParse(req.params);
    if (!parsed.success) throw zodToValidation(parsed.error, `invalid ${spec.name} params`, 422, 'params');
    const params = parsed.data;
    const stale = await ledger.superseded(req);
    if (stale) {
      // Nobody reads this attempt's answer: say so at once and free the instance for live work.
      log.info('request superseded; skipped', { runid: req.runId, stepid: req.stepId, attempt: req.attempt, reason: stale });
      return c.json({ skipped: true, reason: stale });
    }
    const partition = partitionParam.safeParse(req.params.partition).data?.index;
    const fault = faultFor(deps.chaos ?? [], { step: spec.name, runId: req.runId, stepId: req.stepId, attempt: req.attempt, partition });
    if (fault) {
      log.warn('HIPPO_CHAOS: injecting a fault', { fault, runid: req.runId, stepid: req.stepId, attempt: req.attempt });
      await inject(fault);
    }
    const started = performance.now();
    const cpuAtStart = process.cpuUsage();
    const peakRss = peakRssSince();
    const tempDir = await mkdtemp(join(deps.tempRoot ?? tmpdir(), `hippo-${spec.name}-`));
    try {
      const runLog = log.child({ runid: req.runId, stepid: req.stepId, attempt: req.attempt });
      const result = await withDuckDB({ ...deps.duckdb, tempDirectory: join(tempDir, 'spill') }, (conn, db) =>
        spec.run(conn, { ...req, params }, {
          store: deps.store,
          tempDir,
          log: runLog,
          inputPath: (key) => deps.store.localPath(key, tempDir),
          withConnection: (fn) => withConnection(db, fn),
          writeParquet: async (sql, name, values) => {
            const path = join(tempDir, `${name}.parquet`);
            await conn.run(`COPY (${sql}) TO ${quotedString(path)} (FORMAT parquet, COMPRESSION zstd)`, values);
            const rows = await conn.runAndReadAll(`SELECT count(*) FROM read_parquet(${quotedString(path)})`);
            const key = `${req.output}/${name}.parquet`;
            await deps.store.putFile(key, path);
            return { key, rows: Number(rows.getRowsJS()[0]![0]), ...(await hashFile(path)) };
          },
        }),
      );
      const data: StepCompleted = {
        runId: req.runId,
        stepId: req.stepId,
        attempt: req.attempt,
        tier: req.tier,
        outputs: result.outputs,
        lineage: result.lineage ?? {},
        metrics: {
          ms: Math.round(performance.now() - started),
          // This invocation's peak (the process's, while the step ran).
          peakRssBytes: peakRss(),
          // The process's CPU (every thread: DuckDB's too) while the step ran — the step's own
          // where it has the process to itself (containerConcurrency 1, as every step Service).
          cpuMs: cpuMillis(process.cpuUsage(cpuAtStart)),
          rowsIn: result.rowsIn,
          rowsOut: result.rowsOut,
        },
      };
      runLog.info('step completed', { ms: data.metrics.ms, rowsOut: result.rowsOut });
      const reply = makeEvent(EventTypes.stepCompleted, `/hippo/${spec.name}`, data, {
        runid: req.runId, step: spec.name, stepid: req.stepId, tier: String(req.tier), attempt: String(req.attempt),
        traceparent: event.traceparent,
      });
      return eventResponse(reply);
    } finally {
      await rm(tempDir, { recursive: true, force: true });
    }
  });

  return app;
}

const cpuMillis = (u: NodeJS.CpuUsage) => Math.round((u.user + u.system) / 1000);
