import { HippoHttpError, RunFailedError, WaitTimeoutError } from './errors.ts';

/**
 * The Hippo client: submit a pipeline run, follow it, fetch its result.
 *
 * @example
 * const hippo = new Hippo({ url: 'http://localhost:8080' });
 * const { id } = await hippo.submit('equity-panel', { start: '2010-01-04', end: '2010-12-31' });
 * await hippo.wait(id);
 * const bytes = await hippo.resultBytes(id); // Arrow IPC stream
 */
export interface HippoOptions {
  url: string;
  token?: string;
  fetch?: typeof fetch;
}

export interface RunView {
  id: string;
  pipeline: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  asOf: string;
  params: Record<string, unknown>;
  steps: Record<string, { step: string; status: string; attempt: number; tier: number; error?: { code: string; message: string } }>;
  result?: { rows: number; bytes: number; sha256: string };
  error?: { code: string; message: string; step?: string; stepId?: string };
}

export interface WaitOptions {
  timeoutMs?: number;
  pollMs?: number;
  onProgress?: (run: RunView) => void;
}

export type ResultFormat = 'arrow' | 'parquet' | 'csv';

export class Hippo {
  private readonly base: string;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: HippoOptions) {
    this.base = options.url.replace(/\/+$/, '');
    this.fetchImpl = options.fetch ?? fetch;
  }

  async submit(pipeline: string, params: Record<string, unknown>, opts: { asOf?: string; id?: string } = {}): Promise<{ id: string; status: string }> {
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
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    let res: Response;
    try {
      res = await this.fetchImpl(this.base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (err) {
      throw new HippoHttpError(0, 'unreachable', `cannot reach Hippo at ${this.base} (${(err as Error).cause ? ((err as Error).cause as Error).message : (err as Error).message}) — is it running (npm start)?`);
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
