import { z } from 'zod';
import { zodToValidation } from '../../eventing/catalog.ts';
import { ValidationError } from '../../shared/errors.ts';

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
  /** The last step's output becomes the run's result. */
  final?: boolean;
}

export interface Pipeline {
  name: string;
  describe: string;
  parseParams(params: Record<string, unknown>): Record<string, unknown>;
  plan(params: Record<string, unknown>): PlannedStep[];
}

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
  .refine((s) => !Number.isNaN(Date.parse(s)) && new Date(s).toISOString().startsWith(s), 'is not a real calendar date');

/** Params that arrive with the point-in-time join (issue: pit-join); refused until then, never ignored. */
const NOT_YET = ['fields', 'macro', 'cutoff', 'timezone', 'maxAge'] as const;

const equityPanelParams = z
  .strictObject({
    start: isoDate,
    end: isoDate,
    universe: z.string().min(1).default('all'),
    delisting: z.enum(['shumway', 'vendor-only']).default('shumway'),
  })
  .refine((p) => p.start <= p.end, { message: 'start must not be after end', path: ['start'] });

export const equityPanel: Pipeline = {
  name: 'equity-panel',
  describe: 'survivorship-free, delisting-adjusted daily equity panel (DESIGN §6.1)',
  parseParams(params) {
    const early = NOT_YET.filter((k) => params[k] !== undefined && !(Array.isArray(params[k]) && (params[k] as unknown[]).length === 0));
    if (early.length) {
      throw new ValidationError(
        `params.${early[0]}: the point-in-time join is not available yet, so ${early.join(', ')} cannot be honoured (refused rather than ignored)`,
        early.map((k) => ({ field: `params.${k}`, message: 'not supported yet: needs the pit-join step' })),
        { code: 'unsupported_param' },
      );
    }
    const rest = Object.fromEntries(Object.entries(params).filter(([k]) => !NOT_YET.includes(k as (typeof NOT_YET)[number])));
    const r = equityPanelParams.safeParse(rest);
    if (!r.success) throw zodToValidation(r.error, 'invalid equity-panel params', 400, 'params');
    return r.data;
  },
  plan(params): PlannedStep[] {
    return [
      { stepId: 'delisting-adjust', step: 'delisting-adjust', params, inputs: {} },
      {
        stepId: 'export',
        step: 'export',
        params: { pipeline: 'equity-panel', params, sortBy: ['date', 'sid'] },
        inputs: { panel: 'delisting-adjust.panel' },
        final: true,
      },
    ];
  },
};

export const pipelines: Record<string, Pipeline> = { [equityPanel.name]: equityPanel };

export function getPipeline(name: string): Pipeline {
  const p = Object.hasOwn(pipelines, name) ? pipelines[name] : undefined;
  if (!p) {
    throw new ValidationError(`unknown pipeline "${name}" (known: ${Object.keys(pipelines).join(', ')})`, [
      { field: 'pipeline', value: name, message: 'unknown pipeline' },
    ], { code: 'unknown_pipeline' });
  }
  return p;
}
