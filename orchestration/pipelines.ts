import { z } from 'zod';
import { zodToValidation } from '../eventing/catalog.ts';
import { ValidationError } from '../shared/errors.ts';

/**
 * Pipelines (DESIGN §6): each validates its params and plans its steps. A plan is a small
 * DAG: a step names the outputs it reads as `<stepId>.<output>`; the coordinator dispatches
 * a step once every step it needs has succeeded.
 */
export interface PlannedStep {
  stepId: string;
  step: string;
  params: Record<string, unknown>;
  /** input name → `<stepId>.<output name>` */
  inputs: Record<string, string>;
  /** Lake datasets the step reads directly (for the planner's memory estimate). */
  reads?: string[];
  /** The last step's output becomes the run's result. */
  final?: boolean;
}

/** What a pipeline may ask of the lake while validating a request. */
export interface LakeCatalog {
  /** Distinct values of a column across the dataset's parts (e.g. the fundamental fields). */
  distinct(dataset: string, column: string): Promise<string[]>;
  /** Bytes of the dataset's Parquet parts. */
  bytes(dataset: string): Promise<number>;
}

export interface Pipeline {
  name: string;
  describe: string;
  parseParams(params: Record<string, unknown>): Record<string, unknown>;
  /** Checks that need the lake (names that must exist); throws ValidationError. */
  check?(params: Record<string, unknown>, lake: LakeCatalog): Promise<void>;
  plan(params: Record<string, unknown>): PlannedStep[];
}

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
  .refine((s) => !Number.isNaN(Date.parse(s)) && new Date(s).toISOString().startsWith(s), 'is not a real calendar date');

const ianaZone = z
  .string()
  .default('America/New_York')
  .refine((tz) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  }, 'is not an IANA time zone (e.g. America/New_York)');

/** Names a requested column may not take: the panel's own columns. */
const PANEL_COLUMNS = ['date', 'sid', 'ticker', 'exchange', 'close', 'ret', 'delist_ret', 'ret_adj', 'delist_imputed'];

const columnNames = (what: string) =>
  z
    .array(z.string().min(1).max(64))
    .default([])
    .refine((xs) => new Set(xs).size === xs.length, `${what} must not repeat a name`)
    .refine((xs) => xs.every((x) => !PANEL_COLUMNS.includes(x) && !x.includes('__')), `${what} may not reuse a panel column name or contain "__"`);

const equityPanelParams = z
  .strictObject({
    start: isoDate,
    end: isoDate,
    universe: z.string().min(1).default('all'),
    delisting: z.enum(['shumway', 'vendor-only']).default('shumway'),
    fields: columnNames('fields'),
    macro: columnNames('macro'),
    cutoff: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM').default('16:00'),
    timezone: ianaZone,
    maxAge: z.string().regex(/^\d+d$/, 'must be a number of days like 540d').optional(),
    audit: z.boolean().default(false),
  })
  .refine((p) => p.start <= p.end, { message: 'start must not be after end', path: ['start'] })
  .refine((p) => p.fields.every((f) => !p.macro.includes(f)), { message: 'a name cannot be both a field and a macro series', path: ['macro'] });

type EquityPanelParams = z.infer<typeof equityPanelParams>;

export const equityPanel: Pipeline = {
  name: 'equity-panel',
  describe: 'survivorship-free, delisting-adjusted daily equity panel with point-in-time fundamentals and macro (DESIGN §6.1)',
  parseParams(params) {
    const r = equityPanelParams.safeParse(params);
    if (!r.success) throw zodToValidation(r.error, 'invalid equity-panel params', 400, 'params');
    return r.data;
  },
  async check(params, lake) {
    const p = params as EquityPanelParams;
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
  plan(params): PlannedStep[] {
    const p = params as EquityPanelParams;
    const steps: PlannedStep[] = [{ stepId: 'delisting-adjust', step: 'delisting-adjust', params: { start: p.start, end: p.end, universe: p.universe, delisting: p.delisting }, inputs: {}, reads: ['securities', 'prices', 'symbols', 'memberships'] }];
    const pit = { cutoff: p.cutoff, timezone: p.timezone, audit: p.audit, ...(p.maxAge ? { maxAge: p.maxAge } : {}) };
    for (const [kind, names] of [['fundamentals', p.fields], ['macro', p.macro]] as const) {
      if (names.length === 0) continue;
      const prev = steps.at(-1)!.stepId;
      steps.push({ stepId: `pit-join-${kind}`, step: 'pit-join', params: { kind, names, ...pit }, inputs: { panel: `${prev}.panel` }, reads: [kind] });
    }
    steps.push({
      stepId: 'export',
      step: 'export',
      params: { pipeline: 'equity-panel', params, sortBy: ['date', 'sid'] },
      inputs: { panel: `${steps.at(-1)!.stepId}.panel` },
      final: true,
    });
    return steps;
  },
};

const transcriptsParams = z
  .strictObject({
    start: isoDate,
    end: isoDate,
    sids: z.array(z.string().min(1)).min(1).refine((xs) => new Set(xs).size === xs.length, 'sids must not repeat a sid').optional(),
    timezone: ianaZone,
  })
  .refine((p) => p.start <= p.end, { message: 'start must not be after end', path: ['start'] });

type TranscriptsParams = z.infer<typeof transcriptsParams>;

export const transcripts: Pipeline = {
  name: 'transcripts',
  describe: 'earnings-call transcripts as speaker turns: section, speaker, role, title, firm, text (DESIGN §6.2)',
  parseParams(params) {
    const r = transcriptsParams.safeParse(params);
    if (!r.success) throw zodToValidation(r.error, 'invalid transcripts params', 400, 'params');
    return r.data;
  },
  plan(params): PlannedStep[] {
    const p = params as TranscriptsParams;
    return [
      { stepId: 'transcript-split', step: 'transcript-split', params: { ...p }, inputs: {}, reads: ['transcripts'] },
      {
        stepId: 'export',
        step: 'export',
        params: { pipeline: 'transcripts', params, sortBy: ['transcript_id', 'turn'] },
        inputs: { turns: 'transcript-split.turns' },
        final: true,
      },
    ];
  },
};

export const pipelines: Record<string, Pipeline> = { [equityPanel.name]: equityPanel, [transcripts.name]: transcripts };

export function getPipeline(name: string): Pipeline {
  const p = Object.hasOwn(pipelines, name) ? pipelines[name] : undefined;
  if (!p) {
    throw new ValidationError(`unknown pipeline "${name}" (known: ${Object.keys(pipelines).join(', ')})`, [
      { field: 'pipeline', value: name, message: 'unknown pipeline' },
    ], { code: 'unknown_pipeline' });
  }
  return p;
}
