import type { Hono } from 'hono';
import { binaryMessage, readEvent } from '../shared/cloudevents.ts';
import { HippoError } from '../shared/errors.ts';
import { functionApp } from '../shared/http.ts';
import type { Emit } from './bus.ts';

/**
 * The broker ingress (Knative's `POST /` on the broker URL): takes a CloudEvent in binary
 * or structured mode and answers 202 once the bus has accepted it.
 */
export function createIngress(publish: Emit): Hono {
  const { app } = functionApp('broker');
  app.post('/', async (c) => {
    const event = await readEvent(c.req.raw);
    await publish(event);
    return c.body(null, 202);
  });
  return app;
}

/** An `Emit` that POSTs to a broker ingress (`K_SINK`) in binary mode: how functions send events. */
export function httpEmit(sink: string, fetchImpl: typeof fetch = fetch): Emit {
  return async (event) => {
    const m = binaryMessage(event);
    const res = await fetchImpl(sink, { method: 'POST', headers: m.headers, body: m.body });
    if (res.status !== 202 && !(res.status >= 200 && res.status < 300)) {
      const text = await res.text();
      throw new HippoError(`broker at ${sink} refused event ${event.type}: ${res.status} ${text.slice(0, 200)}`, {
        code: 'unavailable', status: 503, retriable: true,
      });
    }
    await res.body?.cancel();
  };
}
