import { createHash } from 'node:crypto';
import { PreconditionFailedError } from '../shared/errors.ts';
import type { ObjectStore } from '../shared/object-store.ts';

/**
 * What a run's steps would read (DESIGN §14, reuse): per dataset the pipeline reads, the lake
 * parts recorded by its `asOf` — a part whose rows are not all recorded by then (a vendor
 * history) as `<key>@<latest recorded_at it shows>`. Not the `asOf` instant: two runs whose
 * `asOf`s see the same parts and rows see the same data, and a part recorded between them
 * makes them differ.
 */
export type LakeState = Record<string, string[]>;

/**
 * The reuse key: one computation per pipeline, normalized params (the pipeline's own, defaults
 * filled) and visible lake state. The number of partitions is not in it (the result's bytes do
 * not depend on it), nor the `asOf` instant.
 */
export function reuseKey(pipeline: string, params: Record<string, unknown>, lake: LakeState): string {
  const datasets = Object.keys(lake).sort();
  const canonical = JSON.stringify({ pipeline, params: sortedKeys(params), lake: datasets.map((d) => [d, [...lake[d]!].sort()]) });
  return createHash('sha256').update(canonical).digest('hex');
}

function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortedKeys((value as Record<string, unknown>)[k])]));
  }
  return value;
}

const indexKey = (key: string) => `reuse/${key}.json`;

/**
 * Which run computes (or computed) each reuse key: `reuse/<key>.json` = `{ runId }`, claimed by
 * a conditional create, so of two runs functions claiming one key in the same millisecond
 * exactly one wins (the store's compare-and-swap, not process memory).
 */
export class ReuseIndex {
  constructor(private readonly store: ObjectStore) {}

  async get(key: string): Promise<{ runId: string; etag: string } | undefined> {
    const o = await this.store.get(indexKey(key));
    return o ? { runId: (JSON.parse(Buffer.from(o.body).toString('utf8')) as { runId: string }).runId, etag: o.etag } : undefined;
  }

  /** Claims `key` for `runId`: true if it was free (or still held by `etag`, a computation that failed), false if another run got it first. */
  async claim(key: string, runId: string, etag?: string): Promise<boolean> {
    try {
      await this.store.put(indexKey(key), JSON.stringify({ runId }), etag ? { ifMatch: etag } : { ifNoneMatch: '*' });
      return true;
    } catch (err) {
      if (err instanceof PreconditionFailedError) return false;
      throw err;
    }
  }
}
