import { binaryMessage } from '../shared/cloudevents.ts';
import { HippoError } from '../shared/errors.ts';
import type { Emit } from './bus.ts';
import { isRetriableStatus } from './retriable.ts';

export interface HttpEmitOptions {
  /** How long the broker may take to answer; after that the event counts as not sent (retriable). */
  timeoutMs?: number;
  /** What sends the request (a test's, or one with a proxy). */
  fetch?: typeof fetch;
}

/** A broker ingress answers in milliseconds: 30 s without an answer means it is in trouble. */
export const httpEmitDefaults = { timeoutMs: 30_000, fetch: globalThis.fetch } satisfies Required<HttpEmitOptions>;

/** How much of a refusal's body goes into the error message. */
const BODY_IN_MESSAGE = 300;

/**
 * An `Emit` that POSTs each event to a broker ingress (`K_SINK`) in binary mode: how functions
 * and sources send events that are not replies. Any 2xx is accepted (Knative data plane: the
 * body is not a reply). Otherwise it throws a `HippoError` sorted by Knative's delivery rule: a
 * retriable answer (5xx, 404, 408, 409, 429), no answer within `timeoutMs`, or a network error
 * is a retriable 503 `unavailable`; any other 4xx is a `refused` error with the broker's
 * status, and the message names the status and the start of the response body.
 *
 * ```ts
 * const emit = httpEmit(config.K_SINK, { timeoutMs: 10_000 });
 * await emit(makeEvent(EventTypes.runRequested, '/api', { pipeline: 'equity-panel', params: {} }));
 * ```
 */
export function httpEmit(sink: string, options: HttpEmitOptions = {}): Emit {
  const { timeoutMs, fetch: send } = { ...httpEmitDefaults, ...options };
  return async (event) => {
    const m = binaryMessage(event);
    let res: Response;
    try {
      res = await send(sink, { method: 'POST', headers: m.headers, body: m.body, signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      const why = (err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : reasonOf(err as Error);
      throw new HippoError(`broker at ${sink} did not take event ${event.id}: ${why}`, { code: 'unavailable', status: 503, retriable: true, cause: err });
    }
    if (res.ok) {
      await res.body?.cancel();
      return;
    }
    // A body cut off (the timeout, a reset) still leaves the status to decide by.
    const text = await res.text().catch(() => '');
    const retriable = isRetriableStatus(res.status);
    throw new HippoError(`broker at ${sink} refused event ${event.id}: ${res.status} ${text.slice(0, BODY_IN_MESSAGE)}`, {
      code: retriable ? 'unavailable' : 'refused',
      status: retriable ? 503 : res.status,
      retriable,
    });
  };
}

/** fetch's own message is only "fetch failed": what failed is in its cause (ECONNREFUSED …). */
function reasonOf(err: Error): string {
  const cause = err.cause instanceof Error ? err.cause.message : undefined;
  return cause ? `${err.message}: ${cause}` : err.message;
}
