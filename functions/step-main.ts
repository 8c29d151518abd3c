import type { Hono } from 'hono';
import type { Config } from '../shared/config.ts';
import { effectiveMemoryLimit } from '../shared/cgroup.ts';
import { DUCKDB_MEMORY_SHARE } from '../shared/duckdb.ts';
import { createLogger } from '../shared/log.ts';
import { openStore } from '../shared/store.ts';
import type { StepDeps } from './step-app.ts';
import { serveFunction } from './serve.ts';
import { parseChaos } from './chaos.ts';

/**
 * What every step's `main.ts` does with its Config: open the store, size DuckDB to the
 * tier (≈ 60 % of the tier's memory, DESIGN §10), and serve.
 */
export function runStepMain(name: string, createApp: (deps: StepDeps) => Hono, config: Config): void {
  const log = createLogger({ fn: name, tier: config.HIPPO_TIER }, { level: config.HIPPO_LOG_LEVEL });
  // The tier's memory (HIPPO_MEMORY_LIMIT, else HIPPO_TIERS[HIPPO_TIER]), capped by the
  // container's cgroup limit: in a cluster that is the limit the kubelet enforces.
  const tierBytes = effectiveMemoryLimit(config.HIPPO_MEMORY_LIMIT ?? config.HIPPO_TIERS[config.HIPPO_TIER] ?? config.HIPPO_TIERS.at(-1)!);
  const app = createApp({
    store: openStore(config),
    duckdb: { memoryLimitBytes: Math.floor(tierBytes * DUCKDB_MEMORY_SHARE) },
    log,
    tier: config.HIPPO_TIER,
    chaos: parseChaos(config.HIPPO_CHAOS),
  });
  log.info('memory', { tierBytes, duckdbBytes: Math.floor(tierBytes * DUCKDB_MEMORY_SHARE) });
  serveFunction(app, { port: config.PORT, host: config.HIPPO_HOST, name, log });
}
