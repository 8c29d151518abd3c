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

export interface AgentsBusResult {
  runs: number;
  distinct: number;
  /** Runs that executed steps (no reusedFrom): one per distinct request when reuse works. */
  computed: number;
  reused: number;
  coalesced: number;
  wall_s: number;
  runs_per_s: number;
  /** Submit → result in hand (downloaded, sha256 checked, decoded), every run. */
  p50_ms: number;
  p99_ms: number;
  computed_p50_ms: number;
  computed_p99_ms: number;
  reused_p50_ms: number;
  reused_p99_ms: number;
}

export interface AgentsResult {
  memory: AgentsBusResult;
  kafka: AgentsBusResult;
}

const DEMO_SCALE = 0.1;
const POLL_MS = 100;
const TIMEOUT_MS = 600_000;

/**
 * The agents case (issue 19): `runs` requests from `clients` concurrent clients over
 * `distinct` different small requests (`runs / distinct` each, no ids, shuffled), on the local
 * platform as `npm start` runs it, on the memory bus and on a real Kafka broker. Each client
 * submits, polls the status every 100 ms and downloads the result (sha256 checked, decoded).
 * Before any figure is kept: every run succeeded, and every run of a distinct request has the
 * same sha256.
 */
export async function benchAgents(options: { runs: number; distinct: number; clients: number; root: string; log: (line: string) => void }): Promise<AgentsResult> {
  const { root, log } = options;
  await ensureBuild(root, log);
  const dirs: string[] = [];
  const kafkaDir = await mkdtemp(join(tmpdir(), 'hippo-bench-agents-kafka-'));
  const kafka = { port: await freePort(), controllerPort: await freePort(), dir: kafkaDir, quiet: true };
  // One-month windows, one a week apart, and two field lists: all different requests.
  const requests = Array.from({ length: options.distinct }, (_, i) => {
    const start = new Date(Date.UTC(2010, 0, 4 + 7 * Math.floor(i / 2)));
    const end = new Date(start.getTime() + 27 * 86_400_000);
    return { start: start.toISOString().slice(0, 10), end: end.toISOString().slice(0, 10), fields: i % 2 ? ['eps', 'revenue'] : ['eps'] };
  });
  try {
    const measure = async (bus: 'memory' | 'kafka', env: Record<string, string>): Promise<AgentsBusResult> => {
      // A lake of its own per bus: the other bus's results would otherwise be reused.
      const { dir, store } = await demoStore({ scale: DEMO_SCALE });
      dirs.push(dir);
      const platform = await startLocalPlatform({
        config: loadConfig({ HIPPO_STORE: store.url, HIPPO_LOG_LEVEL: 'error', ...env }),
        store, root, port: await freePort(), brokerPort: 0, idleMs: 600_000, built: true,
      });
      try {
        const hippo = new Hippo({ url: platform.runsUrl });
        // Every function up first, by one run no agent asks for.
        await hippo.wait((await hippo.submit('equity-panel', { start: '2009-01-02', end: '2009-01-30' }, { reuse: false })).id, { timeoutMs: TIMEOUT_MS });
        // A deterministic shuffle of `runs / distinct` copies of each request.
        const queue = Array.from({ length: options.runs }, (_, i) => i % options.distinct);
        for (let i = queue.length - 1; i > 0; i--) {
          const j = (i * 7919 + 13) % (i + 1);
          [queue[i], queue[j]] = [queue[j]!, queue[i]!];
        }
        const done: { request: number; ms: number; run: RunView; sha256: string }[] = [];
        const started = performance.now();
        let next = 0;
        const client = async () => {
          for (let k = next++; k < queue.length; k = next++) {
            const request = queue[k]!;
            const t0 = performance.now();
            const { id } = await hippo.submit('equity-panel', requests[request]!);
            let run = await hippo.status(id);
            while (run.status !== 'succeeded') {
              if (run.status === 'failed' || run.status === 'cancelled') throw new Error(`agents ${bus}: run ${id} ${run.status}: ${run.error?.message}`);
              if (performance.now() - t0 > TIMEOUT_MS) throw new Error(`agents ${bus}: run ${id} still ${run.status}`);
              await new Promise((r) => setTimeout(r, POLL_MS));
              run = await hippo.status(id);
            }
            await hippo.result(id); // downloaded, sha256 checked against the run, decoded
            done.push({ request, ms: performance.now() - t0, run, sha256: run.result!.sha256 });
          }
        };
        await Promise.all(Array.from({ length: options.clients }, client));
        const wall = (performance.now() - started) / 1000;
        const shaOf = new Map<number, string>();
        for (const d of done) {
          const seen = shaOf.get(d.request);
          if (seen && seen !== d.sha256) throw new Error(`agents ${bus}: request ${d.request} gave two results (${seen}, ${d.sha256})`);
          shaOf.set(d.request, d.sha256);
        }
        const computed = done.filter((d) => !d.run.reusedFrom);
        const reused = done.filter((d) => d.run.reusedFrom);
        const result: AgentsBusResult = {
          runs: done.length,
          distinct: shaOf.size,
          computed: computed.length,
          reused: reused.filter((d) => !d.run.coalesced).length,
          coalesced: reused.filter((d) => d.run.coalesced).length,
          wall_s: round(wall),
          runs_per_s: round(done.length / wall),
          p50_ms: pct(done, 50),
          p99_ms: pct(done, 99),
          computed_p50_ms: pct(computed, 50),
          computed_p99_ms: pct(computed, 99),
          reused_p50_ms: pct(reused, 50),
          reused_p99_ms: pct(reused, 99),
        };
        log(`agents ${bus}: ${result.runs} runs (${result.distinct} distinct) in ${result.wall_s} s = ${result.runs_per_s} runs/s; computed ${result.computed}, reused ${result.reused}, coalesced ${result.coalesced}; p50/p99 ${result.p50_ms}/${result.p99_ms} ms (computed ${result.computed_p50_ms}/${result.computed_p99_ms}, reused ${result.reused_p50_ms}/${result.reused_p99_ms})`);
        return result;
      } finally {
        await platform.stop();
      }
    };
    log(`agents: ${options.runs} runs by ${options.clients} clients over ${options.distinct} requests, memory bus…`);
    const memory = await measure('memory', {});
    const { brokers } = await kafkaUp(kafka);
    log(`agents: the same on Kafka at ${brokers}…`);
    const viaKafka = await measure('kafka', { KAFKA_BROKERS: brokers, HIPPO_TOPIC: `bench-agents-${randomUUID()}` });
    return { memory, kafka: viaKafka };
  } finally {
    await kafkaDown(kafka);
    await rm(kafkaDir, { recursive: true, force: true });
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  }
}

function pct(xs: { ms: number }[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = xs.map((x) => x.ms).sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!);
}

const round = (x: number) => Math.round(x * 10) / 10;
