import { ConflictError, PreconditionFailedError } from '../../shared/errors.ts';
import type { ObjectStore } from '../../shared/object-store.ts';

export const LEASE_KEY = 'backups/lease.json';

/**
 * One backup at a time per backup store: `backups/lease.json`, created if absent and
 * renewed by compare-and-swap while the backup runs; a lease past its expiry belonged to a
 * process that died and is taken over.
 * @example const lease = await Lease.acquire(target, id, 60 * 60_000, () => new Date());
 */
export class Lease {
  private renewing?: Promise<void>;

  private constructor(
    private readonly store: ObjectStore,
    private readonly id: string,
    private readonly ttlMs: number,
    private readonly now: () => Date,
    private etag: string,
    private renewAt: number,
  ) {}

  static async acquire(store: ObjectStore, id: string, ttlMs: number, now: () => Date): Promise<Lease> {
    const body = () => JSON.stringify({ id, expiresAt: new Date(now().getTime() + ttlMs).toISOString() });
    const lease = (etag: string) => new Lease(store, id, ttlMs, now, etag, now().getTime() + ttlMs / 2);
    try {
      return lease((await store.put(LEASE_KEY, body(), { ifNoneMatch: '*', contentType: 'application/json' })).etag);
    } catch (err) {
      if (!(err instanceof PreconditionFailedError)) throw err;
    }
    const current = await store.get(LEASE_KEY);
    if (current) {
      const held = parseLease(current.body);
      if (held && Date.parse(held.expiresAt) > now().getTime()) {
        throw new ConflictError(`backup ${held.id} is in progress in ${store.url} (its lease runs to ${held.expiresAt})`, 'backup_in_progress');
      }
    }
    try {
      const cas = current ? { ifMatch: current.etag } : { ifNoneMatch: '*' as const };
      return lease((await store.put(LEASE_KEY, body(), { ...cas, contentType: 'application/json' })).etag);
    } catch (err) {
      if (err instanceof PreconditionFailedError) throw new ConflictError(`another backup took the lease of ${store.url} first`, 'backup_in_progress');
      throw err;
    }
  }

  /** Extends the lease once half of it has passed; fails if another backup took it over. */
  renewIfDue(): Promise<void> {
    if (this.now().getTime() < this.renewAt) return Promise.resolve();
    this.renewing ??= this.renew().finally(() => (this.renewing = undefined));
    return this.renewing;
  }

  /** Fails unless the lease is still this backup's. */
  async check(): Promise<void> {
    const current = await this.store.head(LEASE_KEY);
    if (current?.etag !== this.etag) throw this.lost();
  }

  async release(): Promise<void> {
    const current = await this.store.head(LEASE_KEY).catch(() => undefined);
    if (current?.etag === this.etag) await this.store.delete(LEASE_KEY);
  }

  private async renew(): Promise<void> {
    const body = JSON.stringify({ id: this.id, expiresAt: new Date(this.now().getTime() + this.ttlMs).toISOString() });
    try {
      this.etag = (await this.store.put(LEASE_KEY, body, { ifMatch: this.etag, contentType: 'application/json' })).etag;
      this.renewAt = this.now().getTime() + this.ttlMs / 2;
    } catch (err) {
      if (err instanceof PreconditionFailedError) throw this.lost();
      throw err;
    }
  }

  private lost(): ConflictError {
    return new ConflictError(`backup ${this.id} lost its lease of ${this.store.url} (it ran past it and another backup took over)`, 'backup_lease_lost');
  }
}

function parseLease(body: Uint8Array): { id: string; expiresAt: string } | undefined {
  try {
    const v = JSON.parse(new TextDecoder().decode(body)) as { id?: unknown; expiresAt?: unknown };
    return typeof v.id === 'string' && typeof v.expiresAt === 'string' ? { id: v.id, expiresAt: v.expiresAt } : undefined;
  } catch {
    return undefined; // unreadable: treated as expired
  }
}
