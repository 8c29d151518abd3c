import { z } from 'zod';
import { isoDate, partitionParam, windowInOrder } from '../../shared/params.ts';

/** The fields of `delisting-adjust`'s params, for pipelines that take them as their own (equity-panel). */
export const delistingAdjustFields = {
  /** First panel date, `YYYY-MM-DD`, inclusive. */
  start: isoDate,
  /** Last panel date, `YYYY-MM-DD`, inclusive. */
  end: isoDate,
  /** `all`, or an `index_name` from `memberships`. */
  universe: z.string().min(1).default('all'),
  /** `shumway` imputes missing performance-related delisting returns; `vendor-only` never imputes. */
  delisting: z.enum(['shumway', 'vendor-only']).default('shumway'),
};

/** `delisting-adjust`'s params (DESIGN §6.1, §7.1): defined once, checked by the pipeline at submit and by the step. */
export const delistingAdjustParams = z
  .strictObject({
    ...delistingAdjustFields,
    /** This invocation's share of the securities, when the step is fanned out (by `sid`). */
    partition: partitionParam.optional(),
  })
  .refine(...windowInOrder);

export type DelistingParams = z.output<typeof delistingAdjustParams>;
