import { spawn, type ChildProcess } from 'node:child_process';
import pLimit, { type LimitFunction } from 'p-limit';
import type { Logger } from '../shared/log.ts';
import { silentLogger } from '../shared/log.ts';
import type { ServiceSpec } from '../functions/specs.ts';
import type { WorkerStatus } from '../eventing/catalog.ts';

/**
 * The local stand-in for Knative Serving: each Service is its own child process on its own
 * port, started on the first request addressed to it (scale from zero), stopped after an
 * idle period (scale to zero), restarted if it dies. Services with `minScale > 0` start
 * with the runner and are brought back when they die.
 */
export interface RunnerOptions {
  services: ServiceSpec[];
  /** Repository root: entries are relative to it, and `tsx` is resolved from it. */
  root: string;
  /** Environment of every child (store, log level, tiers…). */
  env: Record<string, string | undefined>;
  /** Extra environment per service, and fixed ports (e.g. runs on 8080). */
  serviceEnv?: (s: ServiceSpec) => Record<string, string>;
  idleMs: number;
  /** Requests one local instance takes at once, as a multiple of the spec's `concurrency` (one instance stands for many pods). */
  concurrencyScale?: number;
  /** Extra Node options per service (e.g. a tier's heap limit). */
  nodeArgs?: (s: ServiceSpec) => string[];
  /** How long a process may take to become ready. */
  startTimeoutMs?: number;
  log?: Logger;
}

type State = 'stopped' | 'starting' | 'ready' | 'stopping';

interface Instance {
  spec: ServiceSpec;
  state: State;
  child?: ChildProcess;
  url?: string;
  starting?: Promise<string>;
  exited?: Promise<void>;
  inflight: number;
  lastActive: number;
  restarts: number;
  oomKills: number;
  expectedExit: boolean;
  /** How the last process ended, for the answer to a request it took down with it. */
  lastExit?: { pid?: number; code: number | null; signal: NodeJS.Signals | null };
  /** Knative's queue-proxy in front of the one local instance: at most `concurrency` requests inside. */
  queue: LimitFunction;
}

export class ProcessRunner {
  private readonly instances = new Map<string, Instance>();
  private readonly log: Logger;
  private reaper?: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly options: RunnerOptions) {
    this.log = options.log ?? silentLogger;
    for (const spec of options.services) {
      this.instances.set(spec.name, {
        spec, state: 'stopped', inflight: 0, lastActive: 0, restarts: 0, oomKills: 0, expectedExit: false,
        queue: pLimit(spec.fn.concurrency > 0 ? spec.fn.concurrency * (options.concurrencyScale ?? 1) : Infinity),
      });
    }
  }

  /** Starts the always-on services and the idle reaper. */
  async start(): Promise<void> {
    const interval = Math.max(100, Math.min(1000, this.options.idleMs / 4));
    this.reaper = setInterval(() => this.reapIdle(), interval);
    this.reaper.unref();
    await Promise.all([...this.instances.values()].filter((i) => i.spec.fn.minScale > 0).map((i) => this.ensure(i.spec.name)));
  }

  /** The base URL of a running instance, starting it if it is scaled to zero. */
  async ensure(name: string): Promise<string> {
    const inst = this.instances.get(name);
    if (!inst) throw new Error(`no such service: ${name}`);
    if (this.stopped) throw new Error('runner is stopped');
    if (inst.state === 'ready' && inst.url) return inst.url;
    if (inst.state === 'starting' && inst.starting) return inst.starting;
    if (inst.state === 'stopping') {
      await inst.exited;
      return this.ensure(name);
    }
    return this.spawn(inst);
  }

  /** `Deliver` for the dispatcher: the request goes to the service's process, started if need be. */
  deliver = async (service: string, request: Request, timeoutMs: number): Promise<Response> => {
    const inst = this.instances.get(service);
    if (!inst) return new Response(`no service ${service}`, { status: 404 });
    inst.inflight++;
    try {
      return await inst.queue(async () => {
        const base = await this.ensure(service);
        const url = new URL(request.url);
        const exited = inst.exited;
        try {
          // The timeout starts when the request leaves the queue, not when it joined it.
          return await fetch(new Request(base + url.pathname + url.search, request), { signal: AbortSignal.timeout(timeoutMs) });
        } catch (err) {
          const name = (err as Error).name;
          if (name === 'TimeoutError' || name === 'AbortError') {
            // A one-request-at-a-time instance whose request timed out is busy for good (a
            // hung step). In a cluster the next request would get another pod; here the
            // instance is replaced, so the hung work cannot hold its slot or its memory.
            if (inst.spec.fn.concurrency === 1 && inst.child && inst.state === 'ready') {
              this.log.warn('request timed out; replacing the instance', { service, pid: inst.child.pid, timeoutMs });
              await this.terminate(inst, 'SIGKILL');
            }
            throw err;
          }
          // The connection broke. If the process died, answer as Knative's queue-proxy does
          // (502), saying how it died — which only the runner (the kubelet, in a cluster) knows.
          const died = await Promise.race([exited?.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 2000))]);
          if (!died || !inst.lastExit) throw err;
          return deathResponse(service, inst.lastExit);
        }
      });
    } finally {
      inst.inflight--;
      inst.lastActive = Date.now();
    }
  };

  /** Process ids of running instances (for tests and the workers view). */
  pid(name: string): number | undefined {
    const inst = this.instances.get(name);
    return inst && inst.state !== 'stopped' ? inst.child?.pid : undefined;
  }

  status(): WorkerStatus[] {
    return [...this.instances.values()].map((i) => ({
      service: i.spec.name,
      fn: i.spec.fn.name,
      ...(i.spec.tier !== undefined ? { tier: i.spec.tier } : {}),
      ready: i.state === 'ready' ? 1 : 0,
      busy: i.queue.activeCount > 0 ? 1 : 0,
      queued: i.queue.pendingCount,
      restarts: i.restarts,
      oomKills: i.oomKills,
      state: i.state,
      pid: i.state !== 'stopped' ? i.child?.pid : undefined,
    }));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.reaper) clearInterval(this.reaper);
    await Promise.all([...this.instances.values()].map((i) => this.terminate(i)));
  }

  private spawn(inst: Instance): Promise<string> {
    const { spec } = inst;
    const env = {
      ...this.options.env,
      PORT: '0',
      ...(spec.tier !== undefined ? { HIPPO_TIER: String(spec.tier) } : {}),
      ...this.options.serviceEnv?.(spec),
    };
    const child = spawn(process.execPath, [...(this.options.nodeArgs?.(spec) ?? []), '--import', 'tsx', spec.fn.entry], {
      cwd: this.options.root,
      env: env as NodeJS.ProcessEnv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.on('error', (err) => this.log.error('could not start service', { service: spec.name, err }));
    inst.child = child;
    inst.state = 'starting';
    inst.expectedExit = false;
    inst.lastActive = Date.now();
    let resolveExit!: () => void;
    inst.exited = new Promise((r) => (resolveExit = r));
    const started = Date.now();
    inst.starting = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`${spec.name} did not become ready in ${this.options.startTimeoutMs ?? 20_000} ms`));
        child.kill('SIGKILL');
      }, this.options.startTimeoutMs ?? 20_000);
      child.on('message', (m: { ready?: boolean; port?: number }) => {
        if (!m?.ready || inst.child !== child) return;
        clearTimeout(timer);
        inst.url = `http://127.0.0.1:${m.port}`;
        inst.state = 'ready';
        this.log.info('service ready', { service: spec.name, pid: child.pid, port: m.port, ms: Date.now() - started });
        resolve(inst.url);
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        if (inst.child === child) {
          const wasStarting = inst.state === 'starting';
          inst.state = 'stopped';
          inst.url = undefined;
          inst.starting = undefined;
          if (!inst.expectedExit) {
            inst.restarts++;
            if (exitCause(code, signal) === 'out_of_memory') inst.oomKills++;
            this.log.warn('service died', { service: spec.name, pid: child.pid, code, signal });
            if (spec.fn.minScale > 0 && !this.stopped) setTimeout(() => void this.ensure(spec.name).catch(() => {}), 500).unref();
          }
          if (wasStarting) reject(new Error(`${spec.name} exited while starting (code ${code}, signal ${signal})`));
        }
        inst.lastExit = { pid: child.pid, code, signal };
        resolveExit();
      });
    });
    return inst.starting;
  }

  private reapIdle(): void {
    const now = Date.now();
    for (const inst of this.instances.values()) {
      if (inst.spec.fn.minScale > 0 || inst.state !== 'ready' || inst.inflight > 0) continue;
      if (now - inst.lastActive >= this.options.idleMs) {
        this.log.info('scaling to zero', { service: inst.spec.name, pid: inst.child?.pid });
        void this.terminate(inst);
      }
    }
  }

  private async terminate(inst: Instance, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = inst.child;
    if (!child || inst.state === 'stopped') return;
    inst.expectedExit = true;
    inst.state = 'stopping';
    child.kill(signal);
    const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await inst.exited;
    clearTimeout(kill);
  }
}

/**
 * Why a process ended: a Node heap out of memory aborts (SIGABRT, exit 134) — locally that is
 * the tier's limit; SIGKILL is a kill (in a container, the kernel's OOM killer would show as
 * `OOMKilled` in the pod status instead); anything else is a crash.
 */
export function exitCause(code: number | null, signal: NodeJS.Signals | null): 'out_of_memory' | 'killed' | 'worker_lost' {
  if (signal === 'SIGABRT' || code === 134) return 'out_of_memory';
  if (signal === 'SIGKILL') return 'killed';
  return 'worker_lost';
}

function deathResponse(service: string, exit: NonNullable<Instance['lastExit']>): Response {
  const code = exitCause(exit.code, exit.signal);
  const how = exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
  const why = code === 'out_of_memory' ? 'ran out of memory' : code === 'killed' ? 'was killed' : 'died';
  return Response.json({ error: { code, message: `${service} (pid ${exit.pid}) ${why} mid-request (${how})`, retriable: true } }, { status: 502 });
}
