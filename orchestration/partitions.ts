import { DEFAULT_PARTITION } from '../shared/config.ts';
import type { Partition } from '../shared/params.ts';
import type { PlannedStep } from './pipelines.ts';

/** The step id of partition `index` of a fanned-out step: `pit-join-fundamentals-p3`. */
export function partitionStepId(stepId: string, index: number): string {
  return `${stepId}-p${index}`;
}

/**
 * Fan-out (DESIGN §14): each step of the plan marked `fanOut` becomes `count` steps, partition
 * `i` with `partition: {index: i, count}` in its params and its own entry in the run (attempts,
 * tier, deadline). Partition `i` of a fanned-out step reads partition `i` of the fanned-out
 * steps it reads (a panel partitioned by sid stays partitioned by the same sids); a step that is
 * not fanned out (export) reads every partition — its inputs `<name>-p<i>` — and, sorting, gives
 * the same bytes whatever `count` is. `count` 1 leaves the plan as it is.
 *
 * @example
 * partitionPlan(equityPanel.plan(p), 4).map((s) => s.stepId);
 * // delisting-adjust-p0 … -p3, pit-join-fundamentals-p0 … -p3, export
 */
export function partitionPlan(steps: PlannedStep[], count: number): PlannedStep[] {
  if (count <= 1) return steps;
  const fanned = new Set(steps.filter((s) => s.fanOut).map((s) => s.stepId));
  const ref = (r: string) => r.split('.') as [string, string];
  return steps.flatMap((s): PlannedStep[] => {
    if (!s.fanOut) {
      const inputs: Record<string, string> = {};
      for (const [name, r] of Object.entries(s.inputs)) {
        const [from, output] = ref(r);
        if (!fanned.has(from)) inputs[name] = r;
        else for (let i = 0; i < count; i++) inputs[`${name}-p${i}`] = `${partitionStepId(from, i)}.${output}`;
      }
      return [{ ...s, inputs }];
    }
    return Array.from({ length: count }, (_, index) => {
      const inputs: Record<string, string> = {};
      for (const [name, r] of Object.entries(s.inputs)) {
        const [from, output] = ref(r);
        inputs[name] = fanned.has(from) ? `${partitionStepId(from, index)}.${output}` : r;
      }
      return withPartition(s, partitionStepId(s.stepId, index), inputs, { index, count });
    });
  });
}

function withPartition(s: PlannedStep, stepId: string, inputs: Record<string, string>, partition: Partition): PlannedStep {
  switch (s.step) {
    case 'delisting-adjust':
      return { ...s, stepId, inputs, params: { ...s.params, partition } };
    case 'pit-join':
      return { ...s, stepId, inputs, params: { ...s.params, partition } };
    case 'transcript-split':
      return { ...s, stepId, inputs, params: { ...s.params, partition } };
    case 'export':
      throw new Error('export is the fan-in: it is never fanned out');
  }
}

/** What one partition should read at most: rows, and bytes of text (HIPPO_PARTITION_ROWS/_BYTES). */
export interface PartitionSize {
  rows: number;
  bytes: number;
}

/** A request's size as its pipeline estimates it from the lake's statistics (absent: unknown). */
export interface RequestSize {
  rows?: number;
  bytes?: number;
}

/**
 * The automatic number of partitions: enough that each reads at most `limit.rows` rows and
 * `limit.bytes` bytes, from 1 to 1024. An unknown size is 1 (no fan-out).
 *
 * @example
 * partitionsFor({ rows: 4_750_000 }, { rows: 1_000_000, bytes: 64 << 20 }); // 5
 */
export function partitionsFor(size: RequestSize | undefined, limit: PartitionSize = DEFAULT_PARTITION): number {
  const wanted = Math.max(Math.ceil((size?.rows ?? 0) / limit.rows), Math.ceil((size?.bytes ?? 0) / limit.bytes), 1);
  return Math.min(wanted, 1024);
}
