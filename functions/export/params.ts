import { z } from 'zod';

/** `export`'s params: what the result's metadata names, and its order (DESIGN §8). */
export const exportParams = z.strictObject({
  pipeline: z.string().min(1),
  /** The pipeline's params, as the run recorded them. */
  params: z.record(z.string(), z.unknown()),
  sortBy: z.array(z.string().min(1)).min(1),
  /** Lake parts each dataset's rows came from; the coordinator fills it in at dispatch. */
  lineage: z.record(z.string(), z.array(z.string())).default({}),
});

export type ExportParams = z.output<typeof exportParams>;
