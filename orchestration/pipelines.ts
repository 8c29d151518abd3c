import { z } from 'zod';
import { zodToValidation } from '../eventing/catalog.ts';
import { ValidationError } from '../shared/errors.ts';
import { columnNames, windowInOrder } from '../shared/params.ts';
import { delistingAdjustFields, type DelistingParams } from '../functions/delisting-adjust/params.ts';
import type { ExportParams } from '../functions/export/params.ts';
import { pitRuleFields, type PitParams } from '../functions/pit-join/params.ts';
import { transcriptsFields, type SplitParams } from '../functions/transcript-split/params.ts';
import type { RequestSize } from './partitions.ts';

/** Each step's params, as its own schema (`functions/<step>/params.ts`) gives them. */
interface StepParams {
  'delisting-adjust': DelistingParams;
  'pit-join': PitParams;
  'transcript-split': SplitParams;
  /** `lineage` is the coordinator's to fill in at dispatch. */
  export: Omit<ExportParams, 'lineage'>;
}

/** One step of a plan: the step's name and params typed together, so a plan cannot send a step params it refuses. */
export type PlannedStep = { [S in keyof StepParams]: PlannedStepOf<S> }[keyof StepParams];

interface PlannedStepOf<S extends keyof StepParams> {
  stepId: string;
  step: S;
  params: StepParams[S];
  /** input name → `<stepId>.<output name>` */
  inputs: Record<string, string>;
  /** Lake datasets the step reads directly (for the planner's memory estimate). */
  reads?: string[];
  /** The last step's output becomes the run's result. */
  final?: boolean;
  /**
   * Fanned out when the run asks for partitions (partitions.ts): its rules are per key (sid,
   * transcript), so each partition can run alone; a fanned-out step reads the same partition of
   * the fanned-out steps before it, and the next step that is not fanned out reads them all.
   */
  fanOut?: boolean;
}

/** What a pipeline may ask of the lake while validating a request. */
export interface LakeCatalog {
  /** Distinct values of a column across the dataset's parts (e.g. the fundamental fields). */
  distinct(dataset: string, column: string): Promise<string[]>;
  /** Bytes of the dataset's Parquet parts. */
  bytes(dataset: string): Promise<number>;
  /**
   * From the parts' Parquet statistics, without reading their rows: about how many rows have
   * `column` in [from, to] (dates or instants), and how many uncompressed bytes `sizeOf` holds
   * in them (each row group counted by the share of its min–max span inside the window).
   */
  estimate(dataset: string, column: string, from: string, to: string, sizeOf?: string): Promise<{ rows: number; bytes: number }>;
  /** What a run reading `dataset` at `asOf` sees of it (reuse.ts, LakeState): without it, no reuse. */
  visible?(dataset: string, asOf: string): Promise<string[]>;
}

/**
 * A pipeline (DESIGN §6) over its typed params `P`: the schema, composed from the steps' own
 * schemas, validates a request's params once (a 400 naming the field); `check` and `plan` get
 * `P`. A plan is a small DAG: a step names the outputs it reads as `<stepId>.<output>`; the
 * coordinator dispatches a step once every step it needs has succeeded.
 */
export interface Pipeline<P extends Record<string, unknown>> {
  name: string;
  describe: string;
  params: z.ZodType<P>;
  /** Checks that need the lake (names that must exist); throws ValidationError. */
  check?(params: P, lake: LakeCatalog): Promise<void>;
  /** How much the fanned-out steps will read, for the automatic number of partitions. */
  size?(params: P, lake: LakeCatalog): Promise<RequestSize>;
  plan(params: P): PlannedStep[];
}

/** A pipeline as the coordinator and the clients see it, whatever its params' type. */
export interface RegisteredPipeline {
  name: string;
  describe: string;
  /** Each param's JSON type (`string`, `array`, `boolean`, …), read off the schema: what the CLI converts `--param k=v` to. */
  paramTypes: Readonly<Record<string, string>>;
  /**
   * Validates the request's params, checks them against the lake when one is given, and plans
   * the steps. `size` estimates what the fanned-out steps will read (from the lake's statistics)
   * only when asked: a request that names its partitions, or repeats an existing run's id, never pays for it.
   */
  prepare(params: Record<string, unknown>, lake?: LakeCatalog): Promise<{ params: Record<string, unknown>; steps: PlannedStep[]; size: () => Promise<RequestSize | undefined> }>;
}

function register<P extends Record<string, unknown>>(p: Pipeline<P>): RegisteredPipeline {
  return {
    name: p.name,
    describe: p.describe,
    paramTypes: jsonTypes(p.params),
    async prepare(raw, lake) {
      const r = p.params.safeParse(raw);
      if (!r.success) throw zodToValidation(r.error, `invalid ${p.name} params`, 400, 'params');
      if (p.check && lake) await p.check(r.data, lake);
      const params = r.data;
      // An estimate for the number of partitions: a part it cannot read (not Parquet, say) leaves
      // the size unknown (no fan-out), and the step that reads the part fails the run with a 422
      // naming it — the submit itself is not refused for it.
      const size = async () => (p.size && lake ? p.size(params, lake).catch(() => undefined) : undefined);
      return { params, steps: p.plan(params), size };
    },
  };
}

/** Names a requested column may not take: the panel's own columns (delisting-adjust's output). */
const PANEL_COLUMNS = ['date', 'sid', 'ticker', 'exchange', 'close', 'ret', 'delist_ret', 'ret_adj', 'delist_imputed'];

const panelColumnNames = (what: string) =>
  columnNames(what)
    .default([])
    .refine((xs) => xs.every((x) => !PANEL_COLUMNS.includes(x)), `${what} may not reuse a panel column name`);

/** equity-panel's params: delisting-adjust's, the point-in-time rule's, and the names to join. */
const equityPanelParams = z
  .strictObject({
    ...delistingAdjustFields,
    fields: panelColumnNames('fields'),
    macro: panelColumnNames('macro'),
    ...pitRuleFields,
  })
  .refine(...windowInOrder)
  .refine((p) => p.fields.every((f) => !p.macro.includes(f)), { message: 'a name cannot be both a field and a macro series', path: ['macro'] });

export const equityPanel: Pipeline<z.output<typeof equityPanelParams>> = {
  name: 'equity-panel',
  describe: 'survivorship-free, delisting-adjusted daily equity panel with point-in-time fundamentals and macro (DESIGN §6.1)',
  params: equityPanelParams,
  async check(p, lake) {
    for (const [param, dataset, column] of [['fields', 'fundamentals', 'field'], ['macro', 'macro', 'series']] as const) {
      if (p[param].length === 0) continue;
      const known = await lake.distinct(dataset, column);
      const unknown = p[param].filter((n) => !known.includes(n));
      if (unknown.length) {
        throw new ValidationError(
          `params.${param}: unknown ${column} ${unknown.map((u) => JSON.stringify(u)).join(', ')}; the lake has ${known.length ? known.join(', ') : `no ${dataset}`}`,
          unknown.map((u) => ({ field: `params.${param}`, value: u, message: `not in ${dataset}` })),
          { code: 'unknown_field' },
        );
      }
    }
  },
  // The panel has about a row per price row in the window; every fanned-out step reads that panel.
  async size(p, lake) {
    return { rows: (await lake.estimate('prices', 'date', p.start, p.end)).rows };
  },
  plan(p) {
    const steps: PlannedStep[] = [{ stepId: 'delisting-adjust', step: 'delisting-adjust', params: { start: p.start, end: p.end, universe: p.universe, delisting: p.delisting }, inputs: {}, reads: ['securities', 'prices', 'symbols', 'memberships'], fanOut: true }];
    const rule = { cutoff: p.cutoff, timezone: p.timezone, audit: p.audit, ...(p.maxAge ? { maxAge: p.maxAge } : {}) };
    for (const [kind, names] of [['fundamentals', p.fields], ['macro', p.macro]] as const) {
      if (names.length === 0) continue;
      const prev = steps.at(-1)!.stepId;
      steps.push({ stepId: `pit-join-${kind}`, step: 'pit-join', params: { kind, names, ...rule }, inputs: { panel: `${prev}.panel` }, reads: [kind], fanOut: true });
    }
    steps.push({
      stepId: 'export',
      step: 'export',
      params: { pipeline: 'equity-panel', params: p, sortBy: ['date', 'sid'] },
      inputs: { panel: `${steps.at(-1)!.stepId}.panel` },
      final: true,
    });
    return steps;
  },
};

/** transcripts' params are transcript-split's (but for its partition, which is the planner's). */
const transcriptsParams = z.strictObject(transcriptsFields).refine(...windowInOrder);

export const transcripts: Pipeline<z.output<typeof transcriptsParams>> = {
  name: 'transcripts',
  describe: 'earnings-call transcripts as speaker turns: section, speaker, role, title, firm, text (DESIGN §6.2)',
  params: transcriptsParams,
  async size(p, lake) {
    // A day either side: `start`/`end` are dates in `timezone`, call_start is an instant.
    const from = new Date(Date.parse(p.start) - 86_400_000).toISOString();
    const to = new Date(Date.parse(p.end) + 2 * 86_400_000).toISOString();
    return lake.estimate('transcripts', 'call_start', from, to, 'text');
  },
  plan(p) {
    const steps: PlannedStep[] = [
      { stepId: 'transcript-split', step: 'transcript-split', params: { ...p }, inputs: {}, reads: ['transcripts'], fanOut: true },
      {
        stepId: 'export',
        step: 'export',
        params: { pipeline: 'transcripts', params: p, sortBy: ['transcript_id', 'turn'] },
        inputs: { turns: 'transcript-split.turns' },
        final: true,
      },
    ];
    return steps;
  },
};

export const pipelines: Record<string, RegisteredPipeline> = Object.fromEntries([register(equityPanel), register(transcripts)].map((p) => [p.name, p]));

export function getPipeline(name: string): RegisteredPipeline {
  const p = Object.hasOwn(pipelines, name) ? pipelines[name] : undefined;
  if (!p) {
    throw new ValidationError(`unknown pipeline "${name}" (known: ${Object.keys(pipelines).join(', ')})`, [
      { field: 'pipeline', value: name, message: 'unknown pipeline' },
    ], { code: 'unknown_pipeline' });
  }
  return p;
}

function jsonTypes(schema: z.ZodType): Record<string, string> {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, { type?: string }> };
  return Object.fromEntries(Object.entries(json.properties ?? {}).map(([name, p]) => [name, p.type ?? 'unknown']));
}
