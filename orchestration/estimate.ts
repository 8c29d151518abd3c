import { DUCKDB_MEMORY_SHARE } from '../shared/duckdb.ts';

/**
 * The working set is taken as a multiple of the step's input — the Parquet it reads from the
 * lake plus the outputs of the steps before it. Parquet is compressed ~4–8× and a join or sort
 * holds both sides and its result, hence 20×: the pit-join benchmark (5 M panel rows, ~90 MB of
 * Parquet in) peaks near 2 GiB. An estimate that is too low costs one retry a tier up; too high,
 * memory held for nothing.
 */
export const WORKING_SET_PER_INPUT_BYTE = 20;

/**
 * The planner's memory estimate (DESIGN §10): a step's first attempt goes to the smallest
 * tier whose DuckDB memory (≈ 60 % of the tier) holds its working set, so an obviously big
 * request does not start at tier 0 only to be killed there.
 */
export function firstTier(inputBytes: number, tiers: readonly number[]): number {
  if (tiers.length === 0) return 0;
  const need = inputBytes * WORKING_SET_PER_INPUT_BYTE;
  const fits = tiers.findIndex((t) => t * DUCKDB_MEMORY_SHARE >= need);
  return fits === -1 ? tiers.length - 1 : fits;
}
