import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The memory limit of the container this process runs in, from its cgroup (DESIGN §10: in a
 * cluster a tier's limit is what the kubelet set, read at start). cgroup v2 `memory.max`, else
 * v1 `memory/memory.limit_in_bytes`. Undefined when there is no limit ("max", or v1's
 * near-2^63 "unlimited") or no cgroup file (not Linux, not in a container).
 */
export function cgroupMemoryLimit(root = '/sys/fs/cgroup'): number | undefined {
  for (const file of [join(root, 'memory.max'), join(root, 'memory', 'memory.limit_in_bytes')]) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8').trim();
    } catch {
      continue;
    }
    if (text === 'max') return undefined;
    const n = Number(text);
    // v1 writes "unlimited" as a page-rounded 2^63 - 1.
    return Number.isFinite(n) && n > 0 && n < 2 ** 62 ? n : undefined;
  }
  return undefined;
}

/** The memory a step may plan with: its configured tier, never more than its container allows. */
export function effectiveMemoryLimit(configured: number, container: number | undefined = cgroupMemoryLimit()): number {
  return container !== undefined ? Math.min(configured, container) : configured;
}
