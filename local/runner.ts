import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '../shared/log.ts';
import { silentLogger } from '../shared/log.ts';
import type { ServiceSpec } from '../functions/specs.ts';
import type { WorkerStatus } from '../eventing/catalog.ts';

/** The Services a ProcessRunner runs, and how it starts and scales their processes. */
export interface RunnerOptions {
  services: ServiceSpec[];
  /** Repository root: entries are relative to it, and `tsx` is resolved from it. */
  root: string;
  /** Environment of every child; each instance listens on a free port of its own (`PORT=0`) unless `serviceEnv` names one. */
  env?: Record<string, string | undefined>;
  /** Environment per Service (local/dev.ts: the function's wiring, functions/wiring.ts); undefined values are left unset. */
  serviceEnv?: (s: ServiceSpec) => Record<string, string | undefined>;
  idleMs: number;
  /** Most instances of a Service at once (the autoscaler's `max-scale`, locally). Default 1. */
  maxInstances?: (s: ServiceSpec) => number;
  /** Extra Node options per service (e.g. a tier's heap limit). */
  nodeArgs?: (s: ServiceSpec) => string[];
  /** Run the bundled `dist/<entry>.js` (what the image runs, `npm run build`) instead of the TypeScript through tsx. */
  built?: boolean;
  /** How long a process may take to become ready. */
  startTimeoutMs?: number;
  log?: Logger;
}

type State = 'starting' | 'ready' | 'stopping' | 'stopped';

interface Exit { pid?: number; code: number | null; signal: NodeJS.Signals | null }

interface Instance {
  child: ChildProcess;
  state: State;
  /** Resolves to the base URL once the process said it is ready. */
  ready: Promise<string>;
  exited: Promise<void>;
  inflight: number;
  lastActive: number;
  expectedExit: boolean;
  /** How the process ended, for the answer to a request it took down with it. */
  exit?: Exit;
}

interface Service {
  spec: ServiceSpec;
  instances: Set<Instance>;
  /** Requests waiting for a free slot (Knative's activator buffer), first come first served. */
  waiters: (() => void)[];
  /** Requests one instance takes at once. */
  capacity: number;
  maxInstances: number;
  restarts: number;
  oomKills: number;
}

/**
 * The local stand-in for Knative Serving. Each Service is a pool of child processes
 * (instances), each on its own port: the first request starts one (scale from zero); when
 * every instance is full — `concurrency` requests each, Knative's `containerConcurrency` — and
 * the pool is below its `maxInstances`, another starts (scale out); an instance idle for
 * `idleMs` stops (scale to zero, down to `minScale`); a dead one is replaced on demand, and
 * `minScale` Services are brought back at once.
 */
export class ProcessRunner {
  private readonly services = new Map<string, Service>();
  private readonly log: Logger;
  private reaper?: NodeJS.Timeout;
  private stopped = false;
  private live = 0;
  private peak = 0;

  constructor(private readonly options: RunnerOptions) {
    this.log = options.log ?? silentLogger;
    for (const spec of options.services) {
      this.services.set(spec.name, {
        spec, instances: new Set(), waiters: [], restarts: 0, oomKills: 0,
        capacity: spec.fn.concurrency > 0 ? spec.fn.concurrency : Infinity,
        maxInstances: Math.max(1, options.maxInstances?.(spec) ?? 1),
      });
    }
  }

  /** Starts the always-on services and the idle reaper. */
  async start(): Promise<void> {
    const interval = Math.max(100, Math.min(1000, this.options.idleMs / 4));
    this.reaper = setInterval(() => this.reapIdle(), interval);
    this.reaper.unref();
    await Promise.all([...this.services.values()].filter((s) => s.spec.fn.minScale > 0).map((s) => this.ensure(s.spec.name)));
  }

  /** The base URL of a running instance of `name`, starting one if it is scaled to zero. */
  async ensure(name: string): Promise<string> {
    const svc = this.service(name);
    if (this.stopped) throw new Error('runner is stopped');
    const running = [...svc.instances].find((i) => i.state === 'ready' || i.state === 'starting');
    return (running ?? this.spawn(svc)).ready;
  }

  /** `Deliver` for the dispatcher: the request goes to an instance of the service, started if need be. */
  deliver = async (service: string, request: Request, timeoutMs: number): Promise<Response> => {
    const svc = this.services.get(service);
    if (!svc) return new Response(`no service ${service}`, { status: 404 });
    const inst = await this.acquire(svc);
    try {
      const base = await inst.ready;
      const url = new URL(request.url);
      try {
        // The timeout starts when the request reaches an instance, not when it joined the wait.
        return await fetch(new Request(base + url.pathname + url.search, request), { signal: AbortSignal.timeout(timeoutMs) });
      } catch (err) {
        const name = (err as Error).name;
        if (name === 'TimeoutError' || name === 'AbortError') {
          // A one-request-at-a-time instance whose request timed out is busy for good (a hung
          // step), holding its memory. In a cluster the pod would stay stuck while others
          // serve; here it is stopped, so the pool can start a fresh one in its place.
          if (svc.capacity === 1 && inst.state === 'ready') {
            this.log.warn('request timed out; replacing the instance', { service, pid: inst.child.pid, timeoutMs });
            await this.terminate(inst, 'SIGKILL');
          }
          throw err;
        }
        // The connection broke. If the process died, answer as Knative's queue-proxy does
        // (502), saying how it died — which only the runner (the kubelet, in a cluster) knows.
        const died = await Promise.race([inst.exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 2000))]);
        if (!died || !inst.exit) throw err;
        return deathResponse(service, inst.exit);
      }
    } finally {
      this.release(svc, inst);
    }
  };

  /** Process id of a running instance (for tests). */
  pid(name: string): number | undefined {
    return this.pids(name)[0];
  }

  /** Process ids of every running instance of the service. */
  pids(name: string): number[] {
    return [...this.service(name).instances].filter((i) => i.state !== 'stopped').map((i) => i.child.pid!).filter(Boolean);
  }

  /** Worker processes alive now, and the most there have been at once. */
  processes(): { now: number; peak: number } {
    return { now: this.live, peak: this.peak };
  }

  status(): (WorkerStatus & { queued: number; instances: number; pids: number[] })[] {
    return [...this.services.values()].map((s) => {
      const all = [...s.instances];
      return {
        service: s.spec.name,
        fn: s.spec.fn.name,
        ...(s.spec.tier !== undefined ? { tier: s.spec.tier } : {}),
        ready: all.filter((i) => i.state === 'ready').length,
        busy: all.filter((i) => i.inflight > 0).length,
        queued: s.waiters.length,
        restarts: s.restarts,
        oomKills: s.oomKills,
        instances: all.length,
        pids: this.pids(s.spec.name),
      };
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.reaper) clearInterval(this.reaper);
    await Promise.all([...this.services.values()].flatMap((s) => [...s.instances].map((i) => this.terminate(i))));
  }

  private service(name: string): Service {
    const svc = this.services.get(name);
    if (!svc) throw new Error(`no such service: ${name}`);
    return svc;
  }

  /** A slot on an instance: one with room, else a new instance, else wait for a slot to free. */
  private async acquire(svc: Service): Promise<Instance> {
    for (;;) {
      if (this.stopped) throw new Error('runner is stopped');
      const running = [...svc.instances].filter((i) => (i.state === 'ready' || i.state === 'starting') && i.inflight < svc.capacity);
      // The least busy instance with room; a ready one before one still starting.
      running.sort((a, b) => a.inflight - b.inflight || Number(b.state === 'ready') - Number(a.state === 'ready'));
      const inst = running[0] ?? (svc.instances.size < svc.maxInstances ? this.spawn(svc) : undefined);
      if (inst) {
        inst.inflight++;
        inst.lastActive = Date.now();
        return inst;
      }
      await new Promise<void>((r) => svc.waiters.push(r));
    }
  }

  private release(svc: Service, inst: Instance): void {
    inst.inflight--;
    inst.lastActive = Date.now();
    svc.waiters.shift()?.();
  }

  private spawn(svc: Service): Instance {
    const { spec } = svc;
    const env = { ...this.options.env, PORT: '0', ...this.options.serviceEnv?.(spec) };
    const program = this.options.built ? [`dist/${spec.fn.entry.replace(/\.ts$/, '.js')}`] : ['--import', 'tsx', spec.fn.entry];
    const child = spawn(process.execPath, [...(this.options.nodeArgs?.(spec) ?? []), ...program], {
      cwd: this.options.root,
      env: env as NodeJS.ProcessEnv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.on('error', (err) => this.log.error('could not start service', { service: spec.name, err }));
    this.live++;
    this.peak = Math.max(this.peak, this.live);
    let resolveExit!: () => void;
    const inst: Instance = {
      child, state: 'starting', inflight: 0, lastActive: Date.now(), expectedExit: false,
      exited: new Promise((r) => (resolveExit = r)),
      ready: undefined as unknown as Promise<string>,
    };
    svc.instances.add(inst);
    const started = Date.now();
    const timeoutMs = this.options.startTimeoutMs ?? 20_000;
    inst.ready = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`${spec.name} did not become ready in ${timeoutMs} ms`));
        child.kill('SIGKILL');
      }, timeoutMs);
      child.on('message', (m: { ready?: boolean; port?: number }) => {
        if (!m?.ready || inst.state !== 'starting') return;
        clearTimeout(timer);
        inst.state = 'ready';
        this.log.info('service ready', { service: spec.name, pid: child.pid, port: m.port, ms: Date.now() - started });
        resolve(`http://127.0.0.1:${m.port}`);
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        const wasStarting = inst.state === 'starting';
        inst.state = 'stopped';
        inst.exit = { pid: child.pid, code, signal };
        svc.instances.delete(inst);
        this.live--;
        if (!inst.expectedExit) {
          svc.restarts++;
          if (exitCause(code, signal) === 'out_of_memory') svc.oomKills++;
          this.log.warn('service died', { service: spec.name, pid: child.pid, code, signal });
          if (spec.fn.minScale > svc.instances.size && !this.stopped) {
            setTimeout(() => void this.ensure(spec.name).catch(() => {}), 500).unref();
          }
        }
        if (wasStarting) reject(new Error(`${spec.name} exited while starting (code ${code}, signal ${signal})`));
        resolveExit();
        // Whoever waited for a slot may now start an instance in this one's place.
        for (const wake of svc.waiters.splice(0)) wake();
      });
    });
    inst.ready.catch(() => {}); // a start failure reaches whoever awaits `ready`; never unhandled
    return inst;
  }

  private reapIdle(): void {
    const now = Date.now();
    for (const svc of this.services.values()) {
      let running = [...svc.instances].filter((i) => i.state === 'ready' || i.state === 'starting').length;
      for (const inst of svc.instances) {
        if (running <= svc.spec.fn.minScale) break;
        if (inst.state !== 'ready' || inst.inflight > 0 || now - inst.lastActive < this.options.idleMs) continue;
        this.log.info('scaling down', { service: svc.spec.name, pid: inst.child.pid });
        running--;
        void this.terminate(inst);
      }
    }
  }

  private async terminate(inst: Instance, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (inst.state === 'stopped') return;
    inst.expectedExit = true;
    inst.state = 'stopping';
    inst.child.kill(signal);
    const kill = setTimeout(() => inst.child.kill('SIGKILL'), 10_000);
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

function deathResponse(service: string, exit: Exit): Response {
  const code = exitCause(exit.code, exit.signal);
  const how = exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
  const why = code === 'out_of_memory' ? 'ran out of memory' : code === 'killed' ? 'was killed' : 'died';
  return Response.json({ error: { code, message: `${service} (pid ${exit.pid}) ${why} mid-request (${how})`, retriable: true } }, { status: 502 });
}
