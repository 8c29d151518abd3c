import type { Hono } from 'hono';
import { DEFAULT_PARTITION, type Config } from '../shared/config.ts';
import { HippoError } from '../shared/errors.ts';
import { DUCKDB_MEMORY_SHARE } from '../shared/duckdb.ts';
import type { Logger } from '../shared/log.ts';
import { silentLogger } from '../shared/log.ts';
import type { ObjectStore } from '../shared/object-store.ts';
import type { Bus } from '../eventing/bus.ts';
import { Dispatcher, withTimeout, type Deliver } from '../eventing/dispatcher.ts';
import { MemoryBus } from '../eventing/memory-bus.ts';
import { parseService, triggerTable, type StepName } from '../eventing/triggers.ts';
import { createApp as createRuns, type RunsDeps } from '../functions/runs/app.ts';
import { createApp as createIngest } from '../functions/ingest/app.ts';
import { createApp as createRetry } from '../functions/retry/app.ts';
import { createApp as createDelistingAdjust } from '../functions/delisting-adjust/app.ts';
import { createApp as createExport } from '../functions/export/app.ts';
import { createApp as createPitJoin } from '../functions/pit-join/app.ts';
import { createApp as createTranscriptSplit } from '../functions/transcript-split/app.ts';
import type { StepDeps } from '../functions/step-app.ts';

export interface EmbeddedOptions {
  store: ObjectStore;
  config: Pick<Config, 'HIPPO_TIERS' | 'HIPPO_STEP_TIMEOUT'> &
    Partial<Pick<Config, 'HIPPO_STEP_TIMEOUTS' | 'HIPPO_MAX_BODY_BYTES' | 'HIPPO_PARTITION_ROWS' | 'HIPPO_PARTITION_BYTES'>>;
  log?: Logger;
  bus?: Bus;
  backoffScale?: number;
  /** Wraps delivery, e.g. to count or to inject faults in tests. */
  wrapDeliver?: (deliver: Deliver) => Deliver;
  runs?: Partial<RunsDeps>;
}

export interface Embedded {
  runs: Hono;
  bus: Bus;
  apps: Record<string, Hono>;
  /** Resolves once nothing is in flight (memory bus only). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Hippo in one process: the same function apps, trigger table and dispatcher as the local
 * platform, but every Service is called in-process (`app.fetch`) instead of over HTTP.
 * `hippo run` without `--url` uses it, and so do the logic-level end-to-end tests.
 */
export async function startEmbedded(options: EmbeddedOptions): Promise<Embedded> {
  const log = options.log ?? silentLogger;
  const bus = options.bus ?? new MemoryBus(log);
  const tiers = options.config.HIPPO_TIERS;
  const stepDeps = (tier: number): StepDeps => ({
    store: options.store,
    log,
    tier,
    duckdb: { memoryLimitBytes: Math.floor(tiers[tier]! * DUCKDB_MEMORY_SHARE) },
  });
  const runs = createRuns({
    store: options.store,
    emit: (e) => bus.publish(e),
    stepTimeoutSeconds: options.config.HIPPO_STEP_TIMEOUT,
    stepTimeouts: options.config.HIPPO_STEP_TIMEOUTS,
    tiers,
    maxBodyBytes: options.config.HIPPO_MAX_BODY_BYTES,
    partitionSize: {
      rows: options.config.HIPPO_PARTITION_ROWS ?? DEFAULT_PARTITION.rows,
      bytes: options.config.HIPPO_PARTITION_BYTES ?? DEFAULT_PARTITION.bytes,
    },
    log,
    ...options.runs,
  });
  const apps: Record<string, Hono> = {
    runs,
    ingest: createIngest({ store: options.store, log }),
    retry: createRetry({ log, tiers: options.config.HIPPO_TIERS.length }),
  };
  const stepApps: Record<StepName, (deps: StepDeps) => Hono> = {
    'delisting-adjust': createDelistingAdjust,
    'pit-join': createPitJoin,
    'transcript-split': createTranscriptSplit,
    export: createExport,
  };
  const tierApps = new Map<string, Hono>();
  const baseDeliver: Deliver = async (service, request, timeoutMs) => {
    const { fn, tier } = parseService(service);
    let app = apps[service];
    if (!app && tier !== undefined && Object.hasOwn(stepApps, fn)) {
      app = tierApps.get(service) ?? stepApps[fn as StepName](stepDeps(tier));
      tierApps.set(service, app);
    }
    if (!app) return new Response(`no service ${service}`, { status: 404 });
    return withTimeout(Promise.resolve(app.fetch(request)), timeoutMs);
  };
  const deliver = options.wrapDeliver ? options.wrapDeliver(baseDeliver) : baseDeliver;
  const dispatcher = new Dispatcher({
    bus,
    triggers: triggerTable({ tiers: tiers.length, stepTimeoutSeconds: options.config.HIPPO_STEP_TIMEOUT, stepTimeouts: options.config.HIPPO_STEP_TIMEOUTS }),
    deliver,
    log,
    backoffScale: options.backoffScale,
  });
  await dispatcher.start();
  return {
    runs,
    bus,
    apps,
    idle: async () => {
      if (bus instanceof MemoryBus) await bus.idle();
    },
    close: () => bus.close(),
  };
}

/**
 * Submits a run to an embedded platform and waits for it to end; resolves to the run (any
 * terminal status). The in-process twin of the SDK's `submit` + `wait`.
 */
export async function runToEnd(
  platform: Embedded,
  request: { pipeline: string; params: Record<string, unknown>; asOf?: string; id?: string; partitions?: number; reuse?: boolean },
  onProgress?: (run: { status: string; steps: Record<string, { status: string }> }) => void,
): Promise<{ id: string; status: string; error?: { code: string; message: string; step?: string } }> {
  const res = await platform.runs.request('/runs', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(request),
  });
  const body = (await res.json()) as { id: string; error?: { code: string; message: string; details?: unknown[] } };
  if (res.status >= 400) {
    throw new HippoError(body.error!.message, { code: body.error!.code, status: res.status });
  }
  await platform.idle();
  const run = (await (await platform.runs.request(`/runs/${body.id}`)).json()) as {
    id: string; status: string; steps: Record<string, { status: string }>; error?: { code: string; message: string; step?: string };
  };
  onProgress?.(run);
  return run;
}
