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
  /** Most instances of a step Service at once. */
  instances: number;
  /** Submit → the Arrow result downloaded, sha256-checked and decoded. */
  wall_s: number;
  /** CPU time of the whole platform during the run: every function process (all threads) and the broker. */
  cpu_s: number;
  /** Of it, inside the steps' handlers (their `step.completed` metrics, summed over every invocation). */
  steps_cpu_s: number;
  /** The same per step (all of its partitions). */
  cpu_s_by_step: Record<string, number>;
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
  /** Per P, one instance of each step Service: "1", "4", "16" and "auto" (the planner's choice from HIPPO_PARTITION_ROWS). */
  p: Record<string, FanoutFigures>;
  /** P = 16 as `npm start` scales out here: cores + 1 instances of a step at once, sharing the cores. */
  scaled_out: FanoutFigures;
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
/** Each case: its P (undefined: automatic) and the most instances of a step Service (undefined: the local default). */
const CASES: { name: string; partitions?: number; maxScale?: number }[] = [
  { name: '1', partitions: 1, maxScale: 1 },
  { name: '4', partitions: 4, maxScale: 1 },
  { name: '16', partitions: 16, maxScale: 1 },
  { name: 'auto', maxScale: 1 },
  { name: 'scaled_out', partitions: 16 },
];
const TIMEOUT_MS = 1_800_000;
const POLL_MS = 100;
const CLOCK_TICKS_PER_S = 100; // Linux's USER_HZ, the unit of /proc/<pid>/stat's utime and stime

/**
 * The fan-out case (DESIGN §14): one `equity-panel` run with four point-in-time fields over
 * the whole demo universe, for P = 1, 4, 16 and the automatic choice, each on a fresh local
 * platform (`npm start`'s: every function its own process, the bundled dist/, the default
 * tiers) with functions started before the clock. Every P must give the same bytes (sha256)
 * before any figure is reported.
 *
 * The P cases run one instance of each step Service, so partitions run one after another,
 * each with the machine's cores, as a pod has its own: the figures are the fan-out's own cost.
 * `scaled_out` repeats P = 16 as `npm start` runs it here — cores + 1 instances of a step at
 * once, each with DuckDB's threads — which adds the instances' contention for the same cores.
 *
 * Peak RSS per invocation: each invocation's `peakRssBytes` (its own high-water mark,
 * shared/peak-rss.ts). Total CPU: utime + stime of every function process (/proc) and of this
 * process (the broker and the SDK's decoding), from just before submit to the table in hand;
 * processes started during the run (scale-out) count with their start-up.
 */
export async function benchFanout(options: { scale: FanoutScale; root: string; log: (line: string) => void }): Promise<FanoutResult> {
  const { root, log } = options;
  await ensureBuild(root, log);
  log(`fanout: generating the demo universe at scale ${options.scale.demoScale}…`);
  const { dir, store } = await demoStore({ scale: options.scale.demoScale });
  const asOf = new Date().toISOString();
  const result = { rows: 0, fields: PARAMS.fields, sha256: '', p: {} } as unknown as FanoutResult;
  try {
    for (const { name, partitions, maxScale } of CASES) {
      const platform = await startLocalPlatform({
        config: loadConfig({ HIPPO_STORE: store.url, HIPPO_LOG_LEVEL: 'error' }),
        store, root, port: await freePort(), brokerPort: 0, idleMs: 3_600_000, built: true, maxScale,
      });
      try {
        // runs, retry and every step Service up before the clock starts: the figures are the run's, not the cold starts'.
        const used = platform.runner.status().filter((s) => s.tier !== undefined || s.fn === 'runs' || s.fn === 'retry');
        await Promise.all(used.map((s) => platform.runner.ensure(s.service)));
        const hippo = new Hippo({ url: platform.runsUrl });
        const cpuBefore = await platformCpuSeconds(platform);
        const started = performance.now();
        const { id } = await hippo.submit('equity-panel', PARAMS, { asOf, reuse: false, ...(partitions ? { partitions } : {}) });
        const run = await finished(hippo, id);
        const table = await hippo.result(id);
        const wall = (performance.now() - started) / 1000;
        const cpu = (await platformCpuSeconds(platform)) - cpuBefore;
        const sha256 = run.result!.sha256;
        if (!result.sha256) Object.assign(result, { sha256, rows: table.numRows });
        if (sha256 !== result.sha256 || table.numRows !== result.rows) {
          throw new Error(`fanout ${name}: ${table.numRows} rows, sha256 ${sha256}; P = 1: ${result.rows} rows, ${result.sha256}`);
        }
        const figures = figuresOf(run, wall, cpu, platform.runner.status().filter((s) => s.tier !== undefined).reduce((n, s) => Math.max(n, s.instances), 0));
        if (name === 'scaled_out') result.scaled_out = figures;
        else result.p[name] = figures;
        log(`fanout ${name}: P = ${figures.partitions}, ${figures.instances} instance(s) at most: ${wall.toFixed(1)} s, CPU ${cpu.toFixed(1)} s (steps ${JSON.stringify(figures.cpu_s_by_step)}), peak RSS ${JSON.stringify(figures.max_rss_mib_by_step)} MiB, ${figures.invocations} invocations`);
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

function figuresOf(run: RunView, wall: number, cpu: number, instances: number): FanoutFigures {
  // The ledger keeps each step's own metrics beside what the SDK types.
  const steps = Object.values(run.steps) as unknown as { step: string; attempts: unknown[]; metrics?: StepMetrics }[];
  const rss: Record<string, number> = {};
  const cpuMs: Record<string, number> = {};
  for (const s of steps) {
    if (s.metrics?.cpuMs === undefined) throw new Error(`fanout: step ${s.step} reported no cpuMs`);
    cpuMs[s.step] = (cpuMs[s.step] ?? 0) + s.metrics.cpuMs;
    rss[s.step] = Math.max(rss[s.step] ?? 0, Math.round(s.metrics.peakRssBytes / 1024 ** 2));
  }
  return {
    partitions: (run as { partitions?: number }).partitions ?? 1,
    instances,
    wall_s: round(wall),
    cpu_s: round(cpu),
    steps_cpu_s: round(Object.values(cpuMs).reduce((a, b) => a + b, 0) / 1000),
    cpu_s_by_step: Object.fromEntries(Object.entries(cpuMs).map(([k, v]) => [k, round(v / 1000)])),
    max_rss_mib: Math.max(rss['delisting-adjust'] ?? 0, rss['pit-join'] ?? 0),
    max_rss_mib_by_step: rss,
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
