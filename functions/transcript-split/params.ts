import { z } from 'zod';
import { ianaZone, isoDate, windowInOrder } from '../../shared/params.ts';

/** `transcript-split`'s params (DESIGN §6.2): defined once, also the `transcripts` pipeline's. */
export const transcriptSplitParams = z
  .strictObject({
    /** First and last `call_start` date (inclusive), in `timezone`. */
    start: isoDate,
    end: isoDate,
    /** Only these securities (all when absent). */
    sids: z.array(z.string().min(1)).min(1).refine((xs) => new Set(xs).size === xs.length, 'sids must not repeat a sid').optional(),
    /** The zone whose calendar dates `start`/`end` are: a 20:00 New York call is on its New York date. */
    timezone: ianaZone,
  })
  .refine(...windowInOrder);

export type SplitParams = z.output<typeof transcriptSplitParams>;
