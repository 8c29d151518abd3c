import { binaryMessage, eventFromResponse, type HippoEvent } from '../shared/cloudevents.ts';
import type { Logger } from '../shared/log.ts';
import { silentLogger } from '../shared/log.ts';
import type { Bus } from './bus.ts';
import { isRetriableStatus } from './retriable.ts';
import { matches, type Trigger } from './triggers.ts';

/**
 * Sends one HTTP request to a Service and returns its response, giving up after
 * `timeoutMs` of processing (a rejected promise). Locally this starts the Service's process
 * if it is scaled to zero and waits for a free slot first — the timeout counts from when
 * the request is sent, as Knative's does; in-process it calls the Hono app directly.
 */
export type Deliver = (service: string, request: Request, timeoutMs: number) => Promise<Response>;

/** Rejects with a `TimeoutError` when `promise` has not settled after `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DOMException(`timed out after ${ms} ms`, 'TimeoutError')), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export interface DispatcherOptions {
  bus: Bus;
  triggers: Trigger[];
  deliver: Deliver;
  log?: Logger;
  /** Scales every backoff (tests pass a small factor instead of checking NODE_ENV). */
  backoffScale?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** Knative puts at most this much of the failed response's body in `knativeerrordata`. */
const ERROR_DATA_LIMIT = 1024;

export interface DeliveryOutcome {
  status?: number;
  body?: Uint8Array;
  error?: string;
}

/**
 * The broker's dispatcher: one subscription group per trigger; each event that passes the
 * trigger's filter is POSTed to the subscriber in binary mode with Knative's semantics —
 * retry 5xx/404/408/409/429 and connection errors with exponential backoff, send other 4xx
 * and exhausted events to the dead-letter sink with `knativeerror*` extensions, and publish
 * a 2xx reply's CloudEvent back to the bus.
 */
export class Dispatcher {
  private readonly log: Logger;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: DispatcherOptions) {
    this.log = options.log ?? silentLogger;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  async start(): Promise<void> {
    for (const trigger of this.options.triggers) {
      await this.options.bus.subscribe(trigger.name, async (event) => {
        if (matches(trigger.filter, event as unknown as Record<string, unknown>)) await this.dispatch(trigger, event);
      });
    }
  }

  /** Delivers until success, dead-letter, or (dead-letter failed) a logged loss. Never throws. */
  async dispatch(trigger: Trigger, event: HippoEvent): Promise<void> {
    const { delivery } = trigger;
    let last: DeliveryOutcome = {};
    for (let attempt = 0; attempt <= delivery.retry; attempt++) {
      if (attempt > 0) {
        const delay = delivery.backoffDelayMs * 2 ** (attempt - 1) * (this.options.backoffScale ?? 1);
        await this.sleep(delay);
      }
      last = await this.send(trigger.subscriber, event, delivery.timeoutMs);
      if (last.status !== undefined && last.status >= 200 && last.status < 300) return;
      const retriable = last.status === undefined || isRetriableStatus(last.status);
      this.log.warn('delivery failed', {
        trigger: trigger.name, subscriber: trigger.subscriber, type: event.type, id: event.id,
        runid: event.runid, status: last.status, error: last.error, attempt: attempt + 1, retriable,
      });
      if (!retriable) break;
    }
    await this.deadLetter(trigger, event, last);
  }

  private async send(service: string, event: HippoEvent, timeoutMs: number): Promise<DeliveryOutcome> {
    const m = binaryMessage(event);
    try {
      const res = await this.options.deliver(
        service,
        new Request(`http://${service}/`, { method: 'POST', headers: m.headers, body: m.body }),
        timeoutMs,
      );
      if (res.status >= 200 && res.status < 300) {
        // Knative data plane: a 2xx reply carrying a CloudEvent is published back to the broker.
        const reply = await eventFromResponse(res);
        if (reply) await this.options.bus.publish(reply);
        else await res.body?.cancel();
        return { status: res.status };
      }
      const body = new Uint8Array(await res.arrayBuffer());
      return { status: res.status, body };
    } catch (err) {
      const name = (err as Error).name;
      return { error: name === 'TimeoutError' || name === 'AbortError' ? `timed out after ${timeoutMs} ms` : (err as Error).message };
    }
  }

  private async deadLetter(trigger: Trigger, event: HippoEvent, outcome: DeliveryOutcome): Promise<void> {
    const sink = trigger.delivery.deadLetterSink;
    const ext: Record<string, string> = { knativeerrordest: `http://${trigger.subscriber}/` };
    // No code when there was no HTTP response (the process died, or timed out): Knative does the same.
    if (outcome.status !== undefined) ext.knativeerrorcode = String(outcome.status);
    if (outcome.body?.length) ext.knativeerrordata = Buffer.from(outcome.body.subarray(0, ERROR_DATA_LIMIT)).toString('base64');
    const dead = event.cloneWith(ext) as HippoEvent;
    for (let attempt = 0; attempt <= trigger.delivery.retry; attempt++) {
      if (attempt > 0) await this.sleep(trigger.delivery.backoffDelayMs * 2 ** (attempt - 1) * (this.options.backoffScale ?? 1));
      const res = await this.send(sink, dead, trigger.delivery.timeoutMs);
      if (res.status !== undefined && res.status >= 200 && res.status < 300) {
        this.log.info('dead-lettered', { trigger: trigger.name, type: event.type, id: event.id, runid: event.runid, code: outcome.status });
        return;
      }
    }
    this.log.error('event lost: dead-letter sink failed', { trigger: trigger.name, type: event.type, id: event.id, runid: event.runid });
  }
}
