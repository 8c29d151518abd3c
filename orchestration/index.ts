// The run domain (docs/ARCHITECTURE.md): what the runs function, the watchdog and the step
// scaffolding use of it. Files inside orchestration/ import each other directly, never this one.
export { createRunDomain, type RunDomain, type RunDomainOptions } from './domain.ts';
export { Coordinator, QUEUED_GRACE_MS, type CoordinatorDeps } from './coordinator.ts';
export { Ledger, type LedgerOptions } from './ledger.ts';
export { StandingRuns } from './standing.ts';
export { StoreLakeCatalog } from './lake-catalog.ts';
export { getPipeline, pipelines, type Pipeline, type PlannedStep, type LakeCatalog } from './pipelines.ts';
export * from './run.ts';
export { ReuseIndex, reuseKey, type LakeState } from './reuse.ts';
