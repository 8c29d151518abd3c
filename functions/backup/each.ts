import type { LimitFunction } from 'p-limit';

/**
 * `fn` for every item, `limit` at a time; on the first failure nothing more is started (no
 * writes after an error is reported).
 * @example await each(pLimit(8), objects, (o) => target.delete(o.key));
 */
export async function each<T>(limit: LimitFunction, items: readonly T[], fn: (item: T) => Promise<unknown>): Promise<void> {
  try {
    await Promise.all(items.map((item) => limit(() => fn(item))));
  } catch (err) {
    limit.clearQueue();
    throw err;
  }
}
