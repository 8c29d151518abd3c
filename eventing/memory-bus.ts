import type { HippoEvent } from '../shared/cloudevents.ts';
import type { Logger } from '../shared/log.ts';
import { silentLogger } from '../shared/log.ts';
import type { Bus, Handler } from './bus.ts';

/**
 * The embedded default bus: every subscription group sees every event, handlers run
 * concurrently. Nothing is durable — a crash of the process that holds it loses queued
 * events, which is why production uses Kafka.
 */
export class MemoryBus implements Bus {
  private readonly groups = new Map<string, Handler>();
  private readonly inflight = new Set<Promise<void>>();
  private closed = false;

  constructor(private readonly log: Logger = silentLogger) {}

  async publish(event: HippoEvent): Promise<void> {
    if (this.closed) throw new Error('bus is closed');
    for (const [group, handler] of this.groups) {
      const p = Promise.resolve()
        .then(() => handler(event))
        .catch((err) => this.log.error('handler failed', { group, type: event.type, id: event.id, err }))
        .finally(() => this.inflight.delete(p));
      this.inflight.add(p);
    }
  }

  async subscribe(group: string, handler: Handler): Promise<void> {
    if (this.groups.has(group)) throw new Error(`group ${group} already subscribed`);
    this.groups.set(group, handler);
  }

  /** Resolves when no handler is running (handlers may publish more; waits for those too). */
  async idle(): Promise<void> {
    while (this.inflight.size) await Promise.allSettled([...this.inflight]);
  }

  async close(): Promise<void> {
    await this.idle();
    this.closed = true;
  }
}
