import type { Hono } from 'hono';
import { readEvent } from '../shared/cloudevents.ts';
import { functionApp, limitBody } from '../shared/http.ts';
import type { Emit } from './bus.ts';

/**
 * The broker ingress (Knative's `POST /` on the broker URL): takes a CloudEvent in binary
 * or structured mode and answers 202 once the bus has accepted it. Locally it stands in front
 * of the memory or Kafka bus; what sends to it (or to Knative's) is `httpEmit` (http-emit.ts).
 * An event larger than `maxBodyBytes` (HIPPO_MAX_BODY_BYTES) is a 413 and never reaches the
 * bus — as Kafka refuses a record over its `message.max.bytes` (about 1 MiB by default).
 */
export function createIngress(publish: Emit, maxBodyBytes?: number): Hono {
  const { app } = functionApp('broker');
  app.post('/', limitBody(maxBodyBytes), async (c) => {
    const event = await readEvent(c.req.raw);
    await publish(event);
    return c.body(null, 202);
  });
  return app;
}
