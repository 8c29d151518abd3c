import { createHash } from 'node:crypto';
import type { Table } from 'apache-arrow';
import { HTTP, type CloudEventV1 } from 'cloudevents';
import { readArrow } from '../shared/arrow-codec.ts';
import { HippoHttpError, ResultIntegrityError, RunFailedError, WaitTimeoutError } from './errors.ts';

/** Where the client finds Hippo, and how it authenticates. */
export interface HippoOptions {
  /** The runs API, e.g. `http://localhost:8080`. */
  url: string;
  /** Sent as `Authorization: Bearer <token>` (the server's `HIPPO_TOKEN`). */
  token?: string;
  /** Where `emit` posts CloudEvents: the broker ingress (`npm start`: `http://localhost:8081`). Default: `url`, whose `POST /` takes `run.requested`. */
  ingressUrl?: string;
  fetch?: typeof fetch;
}

export interface SubmitOptions {
  /** Only data recorded by this instant (default: the request time, recorded on the run). */
  asOf?: string;
  /** A run id of your choosing: submitting it again returns the same run (idempotent). */
  id?: string;
  /** A standing run: run again (a new run, asOf = then) whenever a dataset it read changes. Follow it with `watch`. */
  watch?: boolean;
  /** Fan-out: split each partitionable step into this many invocations (1–1024; the result's bytes do not change). */
  partitions?: number;
  /** false: always compute, never take or join another run's result (default: reuse when the request and the data it sees are the same). */
  reuse?: boolean;
}

export interface WatchOptions {
  /** Stops following (the promise resolves). */
  signal?: AbortSignal;
  /** How often to look for the next run of the chain, ms (default 1000). */
  pollMs?: number;
  /** A run of the chain that failed (the chain goes on); default: ignored. */
  onFailure?: (error: RunFailedError, run: RunView) => void | Promise<void>;
}

/** A pipeline as a function: params in, the result Table out (submit → wait → result). */
export type RemotePipeline = (params: Record<string, unknown>, options?: SubmitOptions & WaitOptions) => Promise<Table>;

export interface RunView {
  id: string;
  pipeline: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  asOf: string;
  params: Record<string, unknown>;
  steps: Record<string, {
    step: string;
    status: string;
    attempt: number;
    tier: number;
    /** Which partition of a fanned-out step this entry is. */
    partition?: { index: number; count: number };
    error?: { code: string; message: string };
    /** Every dispatch of the step: which memory tier, how it ended. */
    attempts: { attempt: number; tier: number; status: string; error?: { code: string; message: string }; dispatchedAt: string; finishedAt?: string }[];
  }>;
  result?: { rows: number; bytes: number; sha256: string };
  error?: { code: string; message: string; step?: string; stepId?: string };
  /** How many partitions each fanned-out step was split into (absent: 1). */
  partitions?: number;
  /** The run whose result this run took (or whose computation it joined while it ran): no step of its own ran. */
  reusedFrom?: string;
  coalesced?: boolean;
  /** Standing runs: whether this run is watched, and its neighbours in the chain. */
  watch?: boolean;
  previousRunId?: string;
  nextRunId?: string;
}

export interface WaitOptions {
  timeoutMs?: number;
  pollMs?: number;
  onProgress?: (run: RunView) => void;
}

export type ResultFormat = 'arrow' | 'parquet' | 'csv';

/**
 * The Hippo client: submit a pipeline run, follow it, fetch its result as an Arrow Table.
 *
 * @example
 * const hippo = new Hippo({ url: 'http://localhost:8080' });
 * const { id } = await hippo.submit('equity-panel', { start: '2010-01-04', end: '2010-12-31' });
 * await hippo.wait(id, { onProgress: (run) => console.log(run.status) });
 * const table = await hippo.result(id); // apache-arrow Table, sha256 checked
 *
 * // or in one call, RPC style:
 * const panel = hippo.remote('equity-panel');
 * const t = await panel({ start: '2010-01-04', end: '2010-12-31', fields: ['eps'] });
 */
export class Hippo {
  private readonly base: string;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: HippoOptions) {
    this.base = options.url.replace(/\/+$/, '');
    this.fetchImpl = options.fetch ?? fetch;
  }

  async submit(pipeline: string, params: Record<string, unknown>, opts: SubmitOptions = {}): Promise<{ id: string; status: string }> {
    return this.json('POST', '/runs', { pipeline, params, ...opts });
  }

  async status(id: string): Promise<RunView> {
    return this.json('GET', `/runs/${encodeURIComponent(id)}`);
  }

  /** Waits until the run ends. Never forever: a failed run throws RunFailedError, a timeout WaitTimeoutError. */
  async wait(id: string, opts: WaitOptions = {}): Promise<RunView> {
    const deadline = Date.now() + (opts.timeoutMs ?? 30 * 60_000);
    let delay = opts.pollMs ?? 100;
    for (;;) {
      const run = await this.status(id);
      opts.onProgress?.(run);
      if (run.status === 'succeeded') return run;
      if (run.status === 'failed' || run.status === 'cancelled') {
        throw new RunFailedError(id, run.status, run.error?.step, run.error?.message ?? run.status, run.error?.code);
      }
      if (Date.now() >= deadline) throw new WaitTimeoutError(id, opts.timeoutMs ?? 30 * 60_000, run.status);
      await new Promise((r) => setTimeout(r, Math.min(delay, Math.max(0, deadline - Date.now()))));
      delay = Math.min(delay * 1.5, 2000);
    }
  }

  /**
   * The result as an apache-arrow Table. The bytes are checked against the sha256 the server
   * recorded when it wrote them (the response's ETag): a mismatch is a ResultIntegrityError.
   */
  async result(id: string): Promise<Table> {
    const res = await this.request('GET', `/runs/${encodeURIComponent(id)}/result?format=arrow`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    const expected = res.headers.get('etag')?.replace(/^W\//, '').replace(/"/g, '') ?? (await this.status(id)).result?.sha256;
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (!expected || expected !== actual) throw new ResultIntegrityError(id, expected, actual);
    return readArrow(bytes);
  }

  /**
   * Follows a standing run: calls `onResult` with each run's Table as it succeeds — this one,
   * then every re-run a data change starts — until `signal` aborts or the chain is unwatched
   * (`DELETE /runs/:id/watch`). Resolves with the id of the last run seen.
   */
  async watch(id: string, onResult: (table: Table, run: RunView) => void | Promise<void>, opts: WatchOptions = {}): Promise<string> {
    const pollMs = opts.pollMs ?? 1000;
    const sleep = (ms: number) =>
      new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          opts.signal?.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, ms);
        opts.signal?.addEventListener('abort', done, { once: true });
      });
    // A head names its next run a moment before that run is submitted: a 404 for the next run
    // means "not yet", not "gone" (for the run asked for, it is an error as usual).
    const statusOf = async (runId: string, following: boolean): Promise<RunView> => {
      for (;;) {
        try {
          return await this.status(runId);
        } catch (err) {
          if (!following || !(err instanceof HippoHttpError) || err.status !== 404 || opts.signal?.aborted) throw err;
          await sleep(pollMs);
        }
      }
    };
    for (let current = id; ; ) {
      let run = await statusOf(current, current !== id);
      while (!['succeeded', 'failed', 'cancelled'].includes(run.status) && !opts.signal?.aborted) {
        await sleep(pollMs);
        run = await this.status(current);
      }
      if (opts.signal?.aborted) return current;
      if (run.status === 'succeeded') await onResult(await this.result(current), run);
      else await opts.onFailure?.(new RunFailedError(current, run.status, run.error?.step, run.error?.message ?? run.status, run.error?.code), run);
      // The next run of the chain appears when a dataset the run read changes.
      while (!run.nextRunId && run.watch && !opts.signal?.aborted) {
        await sleep(pollMs);
        run = await this.status(current);
      }
      if (!run.nextRunId) return current;
      current = run.nextRunId;
    }
  }

  /** `pipeline` as a function: each call submits a run, waits for it and returns its Table. */
  remote(pipeline: string): RemotePipeline {
    return async (params, options = {}) => {
      const { asOf, id, watch: _watch, partitions, reuse, ...wait } = options;
      const run = await this.submit(pipeline, params, { asOf, id, partitions, reuse });
      await this.wait(run.id, wait);
      return this.result(run.id);
    };
  }

  /**
   * Sends a CloudEvent (binary mode) to the broker ingress — e.g. `dev.hippo.run.requested`
   * with the run's id as the event id. Resolves once the ingress accepted it.
   */
  async emit(event: CloudEventV1<unknown>): Promise<void> {
    const m = HTTP.binary(event);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(m.headers)) if (v !== undefined) headers[k] = String(v);
    const body = typeof m.body === 'string' ? m.body : JSON.stringify(m.body ?? null);
    await this.send('POST', (this.options.ingressUrl ?? this.base).replace(/\/+$/, '') + '/', headers, body);
  }

  /** The result as a byte stream in the requested format. */
  async resultStream(id: string, format: ResultFormat = 'arrow'): Promise<ReadableStream<Uint8Array>> {
    const res = await this.request('GET', `/runs/${encodeURIComponent(id)}/result?format=${format}`);
    return res.body!;
  }

  async resultBytes(id: string, format: ResultFormat = 'arrow'): Promise<Uint8Array> {
    const res = await this.request('GET', `/runs/${encodeURIComponent(id)}/result?format=${format}`);
    return new Uint8Array(await res.arrayBuffer());
  }

  private async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.request(method, path, body);
    return (await res.json()) as T;
  }

  private async request(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    return this.send(method, this.base + path, headers, body === undefined ? undefined : JSON.stringify(body));
  }

  private async send(method: string, url: string, headers: Record<string, string>, body?: string): Promise<Response> {
    const path = new URL(url).pathname;
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    let res: Response;
    try {
      res = await this.fetchImpl(url, { method, headers, body });
    } catch (err) {
      throw new HippoHttpError(0, 'unreachable', `cannot reach Hippo at ${new URL(url).origin} (${(err as Error).cause ? ((err as Error).cause as Error).message : (err as Error).message}) — is it running (npm start)?`);
    }
    if (!res.ok) {
      const text = await res.text();
      let err: { error?: { code?: string; message?: string; details?: unknown[] } } = {};
      try {
        err = JSON.parse(text);
      } catch {
        /* not a Hippo error body */
      }
      throw new HippoHttpError(res.status, err.error?.code ?? 'http_error', err.error?.message ?? `${method} ${path}: HTTP ${res.status} ${text.slice(0, 200)}`, err.error?.details);
    }
    return res;
  }
}
