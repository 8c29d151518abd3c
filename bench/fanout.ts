import { readFile, rm } from 'node:fs/promises';
import { loadConfig } from '../shared/config.ts';
import { Hippo, type RunView } from '../sdk/index.ts';
import { startLocalPlatform, type LocalPlatform } from '../local/dev.ts';
import { demoStore } from '../local/demo.ts';
import { freePort } from '../scripts/processes.mjs';
import { ensureBuild } from './cold-start.ts';

export interface FanoutFigures {
  /** The run's partitions (1 = no fan-out). */
  partitions: number;
  /** Submit → the Arrow result downloaded, sha256-checked and decoded. */
  wall_s: number;
  /** CPU time of the whole platform during the run: every function process (all threads) and the broker. */
  cpu_s: number;
  /** Of it, inside the steps' handlers (their `step.completed` metrics, summed over every invocation). */
  steps_cpu_s: number;
  /** The largest peak RSS of one invocation of a partitioned step (delisting-adjust, pit-join). */
  max_rss_mib: number;
  /** The same per step; `export` is the fan-in, which reads every partition's output. */
  max_rss_mib_by_step: Record<string, number>;
  /** Step invocations (attempts) the run took. */
  invocations: number;
}

export interface FanoutResult {
  rows: number;
  fields: string[];
  sha256: string;
  /** Per P: "1", "4", "16" and "auto" (the planner's choice from HIPPO_PARTITION_ROWS). */
  p: Record<string, FanoutFigures>;
}

export interface FanoutScale {
  /** The demo universe's scale (`hippo demo-data`): 300 securities each, 2005–2020. */
  demoScale: number;
}

/** ≈ 4.8 M panel rows (the delisting case's universe). */
export const FANOUT_SCALE: FanoutScale = { demoScale: 6 };
/** `--quick`: ≈ 400,000 panel rows. */
export const FANOUT_QUICK_SCALE: FanoutScale = { demoScale: 0.5 };

const PARAMS = { start: '2005-01-03', end: '2020-12-31', fields: ['eps', 'revenue', 'book_value', 'net_income'] };
const PARTITIONS = [1, 4, 16, undefined] as const;
const TIMEOUT_MS = 1_800_000;
const POLL_MS = 100;
const CLOCK_TICKS_PER_S = 100; // Linux's USER_HZ, the unit of /proc/<pid>/stat's utime and stime

/**
 * The fan-out case (DESIGN §14): one `equity-panel` run with four point-in-time fields over
 * the whole demo universe, for P = 1, 4, 16 and the automatic choice, each on a fresh local
 * platform (`npm start`'s: every function its own process, the bundled dist/, up to
 * cores + 1 instances of a step Service, the default tiers). Every P must give the same
 * bytes (sha256) before any figure is reported.
 *
 * Peak RSS "per invocation": each step process serves one step type, and the platform is
 * fresh for each P, so a step's largest `peakRssBytes` (the process's high-water mark) is its
 * largest invocation's peak — an upper bound if the allocator keeps freed memory.
 * Total CPU: utime + stime of every function process (/proc) and of this process (the
 * broker and the SDK's decoding), from just before submit to the table in hand; processes
 * started during the run (scale-out) count with their start-up.
 */
export async function benchFanout(options: { scale: FanoutScale; root: string; log: (line: string) => void; partitions?: readonly (number | undefined)[] }): Promise<FanoutResult> {
  const { root, log } = options;
  await ensureBuild(root, log);
  log(`fanout: generating the demo universe at scale ${options.scale.demoScale}…`);
  const { dir, store } = await demoStore({ scale: options.scale.demoScale });
  const asOf = new Date().toISOString();
  const result: FanoutResult = { rows: 0, fields: PARAMS.fields, sha256: '', p: {} };
  try {
    for (const partitions of options.partitions ?? PARTITIONS) {
      const platform = await startLocalPlatform({
        config: loadConfig({ HIPPO_STORE: store.url, HIPPO_LOG_LEVEL: 'error' }),
        store, root, port: await freePort(), brokerPort: 0, idleMs: 3_600_000, built: true,
      });
      try {
        // runs, retry and every step Service up before the clock starts: the figures are the run's, not the cold starts'.
        const used = platform.runner.status().filter((s) => s.tier !== undefined || s.fn === 'runs' || s.fn === 'retry');
        await Promise.all(used.map((s) => platform.runner.ensure(s.service)));
        const hippo = new Hippo({ url: platform.runsUrl });
        const cpuBefore = await platformCpuSeconds(platform);
        const started = performance.now();
        const { id } = await hippo.submit('equity-panel', PARAMS, { asOf, ...(partitions ? { partitions } : {}) });
        const run = await finished(hippo, id);
        const table = await hippo.result(id);
        const wall = (performance.now() - started) / 1000;
        const cpu = (await platformCpuSeconds(platform)) - cpuBefore;
        const sha256 = run.result!.sha256;
        if (!result.sha256) Object.assign(result, { sha256, rows: table.numRows });
        if (sha256 !== result.sha256 || table.numRows !== result.rows) {
          throw new Error(`fanout: P=${partitions ?? 'auto'} gave ${table.numRows} rows, sha256 ${sha256}; P=1 ${result.rows} rows, ${result.sha256}`);
        }
        const figures = figuresOf(run, wall, cpu);
        result.p[String(partitions ?? 'auto')] = figures;
        log(`fanout P=${partitions ?? `auto (${figures.partitions})`}: ${wall.toFixed(1)} s, CPU ${cpu.toFixed(1)} s (steps ${figures.steps_cpu_s} s), peak RSS ${figures.max_rss_mib} MiB (${JSON.stringify(figures.max_rss_mib_by_step)}), ${figures.invocations} invocations`);
      } finally {
        await platform.stop();
      }
    }
    return result;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function finished(hippo: Hippo, id: string): Promise<RunView> {
  const started = performance.now();
  for (;;) {
    const run = await hippo.status(id);
    if (run.status === 'succeeded') return run;
    if (run.status === 'failed' || run.status === 'cancelled') throw new Error(`fanout: run ${id} ${run.status}: ${run.error?.message}`);
    if (performance.now() - started > TIMEOUT_MS) throw new Error(`fanout: run ${id} still ${run.status} after ${TIMEOUT_MS} ms`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

interface StepMetrics { ms: number; peakRssBytes: number; cpuMs?: number }

function figuresOf(run: RunView, wall: number, cpu: number): FanoutFigures {
  // The ledger keeps each step's own metrics beside what the SDK types.
  const steps = Object.values(run.steps) as unknown as { step: string; attempts: unknown[]; metrics?: StepMetrics }[];
  const byStep: Record<string, number> = {};
  let stepsCpuMs = 0;
  for (const s of steps) {
    if (!s.metrics?.cpuMs && s.metrics?.cpuMs !== 0) throw new Error(`fanout: step ${s.step} reported no cpuMs`);
    stepsCpuMs += s.metrics.cpuMs;
    byStep[s.step] = Math.max(byStep[s.step] ?? 0, Math.round(s.metrics.peakRssBytes / 1024 ** 2));
  }
  return {
    partitions: (run as { partitions?: number }).partitions ?? 1,
    wall_s: round(wall),
    cpu_s: round(cpu),
    steps_cpu_s: round(stepsCpuMs / 1000),
    max_rss_mib: Math.max(byStep['delisting-adjust'] ?? 0, byStep['pit-join'] ?? 0),
    max_rss_mib_by_step: byStep,
    invocations: steps.reduce((n, s) => n + s.attempts.length, 0),
  };
}

/** utime + stime of every live function process and of this one, in seconds. */
async function platformCpuSeconds(platform: LocalPlatform): Promise<number> {
  const own = process.cpuUsage();
  let ticks = 0;
  for (const pid of platform.runner.status().flatMap((s) => s.pids)) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
    if (!stat) continue; // exited between the listing and the read
    // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / CLOCK_TICKS_PER_S + (own.user + own.system) / 1e6;
}

const round = (x: number) => Math.round(x * 100) / 100;
