import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ValidationError } from '../../shared/errors.ts';
import { Hippo, type RunView, type ResultFormat } from '../../sdk/client.ts';
import { RunFailedError } from '../../sdk/errors.ts';
import { runToEnd, startEmbedded } from '../../local/embedded.ts';
import { context } from './context.ts';
import { pipelines } from '../../orchestration/pipelines.ts';
import { stepGroups } from '../../orchestration/run.ts';

interface RunOpts {
  params?: string;
  param: string[];
  asOf?: string;
  id?: string;
  out?: string;
  format: ResultFormat;
  url?: string;
  timeout: string;
  watch?: boolean;
  partitions?: number;
  /** commander's --no-reuse: false when given. */
  reuse?: boolean;
}

/**
 * `--params '{…}'` merged with each `--param k=v` (DESIGN §9b): for the pipeline's list params
 * the value is split on commas, for its booleans `true`/`false` become booleans — which params
 * those are is read off the pipeline's schema. An unknown pipeline's values stay strings (the
 * server names the pipeline it does not know).
 */
export function parseParams(json: string | undefined, pairs: string[], pipeline?: string): Record<string, unknown> {
  const types = (pipeline !== undefined && Object.hasOwn(pipelines, pipeline) ? pipelines[pipeline]!.paramTypes : undefined) ?? {};
  let params: Record<string, unknown> = {};
  if (json) {
    try {
      params = JSON.parse(json);
    } catch (err) {
      throw new ValidationError(`--params is not valid JSON: ${(err as Error).message}`, [{ field: 'params', message: 'invalid JSON' }]);
    }
    if (typeof params !== 'object' || params === null || Array.isArray(params)) {
      throw new ValidationError('--params must be a JSON object', [{ field: 'params', message: 'not an object' }]);
    }
  }
  for (const pair of pairs) {
    const i = pair.indexOf('=');
    if (i <= 0) throw new ValidationError(`--param "${pair}" must look like key=value`, [{ field: 'param', value: pair, message: 'not key=value' }]);
    const key = pair.slice(0, i);
    const value = pair.slice(i + 1);
    params[key] = typed(types[key], value);
  }
  return params;
}

function typed(type: string | undefined, value: string): unknown {
  if (type === 'array') return value.split(',').map((s) => s.trim()).filter(Boolean);
  if (type === 'boolean' && (value === 'true' || value === 'false')) return value === 'true';
  return value;
}

export async function runCommand(pipelineName: string, opts: RunOpts): Promise<void> {
  const params = parseParams(opts.params, opts.param, pipelineName);
  if (opts.url) return runRemote(pipelineName, params, opts);
  if (opts.watch) throw new ValidationError('--watch needs a server (--url): a standing run outlives this command', [{ field: 'watch', message: 'needs --url' }]);

  const { config, store } = context();
  const platform = await startEmbedded({ store, config });
  try {
    const run = await runToEnd(platform, { pipeline: pipelineName, params, asOf: opts.asOf, id: opts.id, partitions: opts.partitions, ...(opts.reuse === false ? { reuse: false } : {}) });
    if (run.status !== 'succeeded') {
      throw new RunFailedError(run.id, run.status, run.error?.step, run.error?.message ?? run.status, run.error?.code);
    }
    const res = await platform.runs.request(`/runs/${run.id}/result?format=${opts.format}`);
    await writeResult(res.body!, opts.out);
    process.stderr.write(`run ${run.id} succeeded: ${res.headers.get('x-hippo-rows')} rows${opts.out ? ` → ${opts.out}` : ''}\n`);
  } finally {
    await platform.close();
  }
}

async function runRemote(pipelineName: string, params: Record<string, unknown>, opts: RunOpts): Promise<void> {
  const hippo = new Hippo({ url: opts.url!, token: process.env.HIPPO_TOKEN });
  const { id } = await hippo.submit(pipelineName, params, { asOf: opts.asOf, id: opts.id, watch: opts.watch, partitions: opts.partitions, ...(opts.reuse === false ? { reuse: false } : {}) });
  process.stderr.write(`submitted ${opts.watch ? 'standing ' : ''}run ${id}${opts.watch ? ` (follow it: hippo watch ${id} --url ${opts.url})` : ''}\n`);
  const started = Date.now();
  const tty = process.stderr.isTTY;
  let last = '';
  const run = await hippo
    .wait(id, {
      timeoutMs: Number(opts.timeout) * 1000,
      onProgress: (r) => {
        const line = progressLine(r, Date.now() - started);
        if (line === last && !tty) return;
        last = line;
        process.stderr.write(tty ? `\r\x1b[K${line}` : `${line}\n`);
      },
    })
    .finally(() => tty && process.stderr.write('\n'));
  if (opts.out) await writeResult(await hippo.resultStream(id, opts.format), opts.out);
  process.stderr.write(`run ${id} succeeded: ${run.result?.rows} rows${opts.out ? ` → ${opts.out}` : ''}\n`);
}

/** `running · 1/3 steps · pit-join-fundamentals 5/8 partitions · 4.2 s`; an unpartitioned step shows its tier and attempt. */
export function progressLine(run: RunView, ms: number): string {
  const groups = stepGroups(run.steps);
  const done = groups.filter((g) => g.status === 'succeeded').length;
  const current = groups.find((g) => g.status === 'dispatched');
  let where = '';
  if (current && current.ids.length > 1) {
    where = ` · ${current.stepId} ${current.done}/${current.ids.length} partitions`;
  } else if (current) {
    const s = run.steps[current.ids[0]!]!;
    where = ` · ${current.stepId} (tier ${s.tier}, attempt ${s.attempt})`;
  }
  return `${run.status} · ${done}/${groups.length} steps${where} · ${(ms / 1000).toFixed(1)} s`;
}

async function writeResult(body: ReadableStream<Uint8Array>, out: string | undefined): Promise<void> {
  if (!out) {
    await body.cancel();
    return;
  }
  if (out === '-') {
    await pipeline(Readable.fromWeb(body as import('node:stream/web').ReadableStream), process.stdout);
    return;
  }
  await writeFile(out, ''); // fail early on an unwritable path, before streaming
  await pipeline(Readable.fromWeb(body as import('node:stream/web').ReadableStream), createWriteStream(out));
}

export async function statusCommand(id: string, opts: { url: string }): Promise<void> {
  const run = await new Hippo({ url: opts.url, token: process.env.HIPPO_TOKEN }).status(id);
  process.stdout.write(JSON.stringify(run, null, 2) + '\n');
}

export async function fetchCommand(id: string, opts: { url: string; out: string; format: ResultFormat }): Promise<void> {
  const hippo = new Hippo({ url: opts.url, token: process.env.HIPPO_TOKEN });
  await writeResult(await hippo.resultStream(id, opts.format), opts.out);
  process.stderr.write(`wrote ${opts.out}\n`);
}
