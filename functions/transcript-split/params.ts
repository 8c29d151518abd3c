import { z } from 'zod';
import { ianaZone, isoDate, partitionParam, windowInOrder } from '../../shared/params.ts';

/** The `transcripts` pipeline's params (DESIGN §6.2), which are transcript-split's but for fan-out. */
export const transcriptsFields = {
  /** First and last `call_start` date (inclusive), in `timezone`. */
  start: isoDate,
  end: isoDate,
  /** Only these securities (all when absent). */
  sids: z.array(z.string().min(1)).min(1).refine((xs) => new Set(xs).size === xs.length, 'sids must not repeat a sid').optional(),
  /** The zone whose calendar dates `start`/`end` are: a 20:00 New York call is on its New York date. */
  timezone: ianaZone,
};

/** `transcript-split`'s params: defined once, composed by the `transcripts` pipeline. */
export const transcriptSplitParams = z
  .strictObject({
    ...transcriptsFields,
    /** This invocation's share of the transcripts, when the step is fanned out (by `transcript_id`). */
    partition: partitionParam.optional(),
  })
  .refine(...windowInOrder);

export type SplitParams = z.output<typeof transcriptSplitParams>;
