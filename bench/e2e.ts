import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../shared/config.ts';
import { Hippo, type RunView } from '../sdk/index.ts';
import { startLocalPlatform } from '../local/dev.ts';
import { demoStore } from '../local/demo.ts';
import { kafkaDown, kafkaUp } from '../scripts/kafka.mjs';
import { freePort } from '../scripts/processes.mjs';
import { ensureBuild } from './cold-start.ts';
import { median } from './measure.ts';

export interface E2eBusResult {
  runs: number;
  /** Median ms, submit → result in hand, status polled every 25 ms. */
  ms: number;
  /** Median ms through `hippo.remote()` and its default wait. */
  sdk_wait_ms: number;
  /** The first run's ms: every function started from zero. */
  first_ms: number;
  /** Median ms inside the steps' handlers (their `step.completed` metrics, summed): the rest is events, ledger, HTTP and polling. */
  steps_ms: number;
  runs_ms: number[];
  rows: number;
}

export interface E2eResult {
  params: Record<string, unknown>;
  securities: number;
  memory: E2eBusResult;
  kafka: E2eBusResult;
}

/** One month, one field: the smallest run that goes through every kind of step. */
const PARAMS = { start: '2015-01-02', end: '2015-01-30', fields: ['eps'] };
const DEMO_SCALE = 0.1;
const TIMEOUT_MS = 120_000;
const POLL_MS = 25;

/**
 * End-to-end latency of a small run: an `equity-panel` request for one month of a small
 * universe with one fundamental field (three steps: delisting-adjust → pit-join → export),
 * from the SDK's `submit` to the result's bytes in hand (`result()`: downloaded, sha256
 * checked, decoded), on the local platform as `npm start` runs it — the broker in this
 * process, every function its own process (the bundled dist/, as the image runs them) —
 * on the memory bus and on a real Kafka broker started for the run.
 *
 * `ms` polls the run's status every 25 ms (what the platform takes, to within that);
 * `sdk_wait_ms` is the same run through `hippo.remote()`, whose `wait` backs off from 100 ms
 * to 2 s (what a user sees).
 * `first_ms` is the first run, whose functions start from zero; the medians are of runs
 * after it and a second warm-up, with every function already up.
 */
export async function benchE2e(options: { runs: number; root: string; log: (line: string) => void }): Promise<E2eResult> {
  const { root, log } = options;
  await ensureBuild(root, log);
  const { dir, store } = await demoStore({ scale: DEMO_SCALE });
  const kafkaDir = await mkdtemp(join(tmpdir(), 'hippo-bench-e2e-kafka-'));
  const kafka = { port: await freePort(), controllerPort: await freePort(), dir: kafkaDir, quiet: true };
  try {
    const measure = async (bus: 'memory' | 'kafka', env: Record<string, string>): Promise<E2eBusResult> => {
      const platform = await startLocalPlatform({
        config: loadConfig({ HIPPO_STORE: store.url, HIPPO_LOG_LEVEL: 'error', ...env }),
        store, root, port: await freePort(), brokerPort: 0, idleMs: 600_000, built: true,
      });
      try {
        const hippo = new Hippo({ url: platform.runsUrl });
        const first = await smallRun(hippo);
        log(`e2e ${bus}: first run (functions start from zero): ${first.ms.toFixed(0)} ms, ${first.rows} rows`);
        await smallRun(hippo);
        const runs: { ms: number; steps: number; rows: number }[] = [];
        const sdkWait: number[] = [];
        for (let i = 0; i < options.runs; i++) {
          runs.push(await smallRun(hippo));
          const started = performance.now();
          const table = await hippo.remote('equity-panel')(PARAMS, { timeoutMs: TIMEOUT_MS, reuse: false });
          sdkWait.push(performance.now() - started);
          if (table.numRows !== first.rows) throw new Error(`e2e: a run returned ${table.numRows} rows, the first ${first.rows}`);
        }
        if (runs.some((r) => r.rows !== first.rows)) throw new Error(`e2e: runs returned ${runs.map((r) => r.rows).join(', ')} rows`);
        const result: E2eBusResult = {
          runs: runs.length, ms: round(median(runs.map((r) => r.ms))), sdk_wait_ms: round(median(sdkWait)),
          first_ms: round(first.ms), steps_ms: round(median(runs.map((r) => r.steps))),
          runs_ms: runs.map((r) => round(r.ms)), rows: first.rows,
        };
        log(`e2e ${bus}: ${result.ms} ms median (steps ${result.steps_ms} ms), ${result.sdk_wait_ms} ms with the SDK's wait; runs ${result.runs_ms.join(', ')}`);
        return result;
      } finally {
        await platform.stop();
      }
    };
    log(`e2e: ${options.runs} small runs on the memory bus…`);
    const memory = await measure('memory', {});
    const { brokers } = await kafkaUp(kafka);
    log(`e2e: ${options.runs} small runs on Kafka at ${brokers}…`);
    const viaKafka = await measure('kafka', { KAFKA_BROKERS: brokers, HIPPO_TOPIC: `bench-e2e-${randomUUID()}` });
    return { params: PARAMS, securities: Math.round(300 * DEMO_SCALE), memory, kafka: viaKafka };
  } finally {
    await kafkaDown(kafka);
    await rm(kafkaDir, { recursive: true, force: true });
    await rm(dir, { recursive: true, force: true });
  }
}

/** submit → status every POLL_MS → result(): ms, the steps' share, rows. */
async function smallRun(hippo: Hippo): Promise<{ ms: number; steps: number; rows: number }> {
  const started = performance.now();
  const { id } = await hippo.submit('equity-panel', PARAMS, { reuse: false });
  let run: RunView;
  for (;;) {
    run = await hippo.status(id);
    if (run.status === 'succeeded') break;
    if (run.status === 'failed' || run.status === 'cancelled') throw new Error(`e2e: run ${id} ${run.status}: ${run.error?.message}`);
    if (performance.now() - started > TIMEOUT_MS) throw new Error(`e2e: run ${id} still ${run.status} after ${TIMEOUT_MS} ms`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  const table = await hippo.result(id);
  const ms = performance.now() - started;
  // The ledger keeps each step's own metrics (its handler, inside the function) beside what the SDK types.
  const steps = Object.values(run.steps).reduce((sum, s) => sum + ((s as { metrics?: { ms: number } }).metrics?.ms ?? NaN), 0);
  return { ms, steps, rows: table.numRows };
}

const round = (x: number) => Math.round(x * 10) / 10;
