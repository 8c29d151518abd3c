// The eventing path alone, memory bus vs Kafka: a CloudEvent POSTed to the broker ingress →
// the bus → a trigger → a no-op function over HTTP → its reply event → the bus → a consumer.
// Events/s over the whole path, and the latency each hop adds (p50/p99): ingress (POST →
// 202, i.e. until the bus accepted it), delivery (202 → the function has it), reply (the
// function answered → the reply consumed from the bus).
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import pLimit from 'p-limit';
import { CloudEvent } from 'cloudevents';
import { binaryMessage, eventResponse, readEvent, type HippoEvent } from '../shared/cloudevents.ts';
import type { Bus } from '../eventing/bus.ts';
import { Dispatcher } from '../eventing/dispatcher.ts';
import { createIngress } from '../eventing/ingress.ts';
import { KafkaBus } from '../eventing/kafka-bus.ts';
import { MemoryBus } from '../eventing/memory-bus.ts';
import { kafkaDown, kafkaUp } from '../scripts/kafka.mjs';
import { freePort } from '../scripts/processes.mjs';

export interface EventsResult {
  events: number;
  concurrency: number;
  events_per_s: number;
  /** milliseconds */
  ingress_p50: number; ingress_p99: number;
  delivery_p50: number; delivery_p99: number;
  reply_p50: number; reply_p99: number;
  end_to_end_p50: number; end_to_end_p99: number;
}

const PING = 'dev.hippo.bench.ping';
const PONG = 'dev.hippo.bench.pong';

async function measure(bus: Bus, events: number, concurrency: number): Promise<EventsResult> {
  const t = new Map<string, { post: number; accepted?: number; delivered?: number; replied?: number; done?: number }>();
  const finished = new Map<string, () => void>();
  // The no-op function: takes a ping, answers a pong (Knative's reply contract).
  const fn = new Hono();
  fn.post('/', async (c) => {
    const ping = await readEvent(c.req.raw);
    const rec = t.get(ping.id)!;
    rec.delivered = performance.now();
    const pong = new CloudEvent({ type: PONG, source: '/bench/noop', id: randomUUID(), pingid: ping.id, partitionkey: ping.id, datacontenttype: 'application/json', data: {} });
    rec.replied = performance.now();
    return eventResponse(pong as HippoEvent);
  });
  const fnServer = await listen(fn.fetch);
  const ingress = createIngress((e) => bus.publish(e));
  const ingressServer = await listen(ingress.fetch);
  const dispatcher = new Dispatcher({
    bus,
    triggers: [{ name: 'bench-noop', filter: { type: PING }, subscriber: 'noop', delivery: { retry: 3, backoffPolicy: 'exponential', backoffDelayMs: 100, timeoutMs: 30_000, deadLetterSink: 'none' } }],
    deliver: (_service, request, timeoutMs) => fetch(new Request(`${fnServer.url}/`, request), { signal: AbortSignal.timeout(timeoutMs) }),
  });
  await dispatcher.start();
  await bus.subscribe('bench-sink', async (e) => {
    if (e.type !== PONG) return;
    const id = String(e.pingid);
    const rec = t.get(id);
    if (!rec || rec.done) return;
    rec.done = performance.now();
    finished.get(id)?.();
  });
  try {
    const limit = pLimit(concurrency);
    const fire = (n: number) => Promise.all(Array.from({ length: n }, () => limit(async () => {
      const id = randomUUID();
      const done = new Promise<void>((r) => finished.set(id, r));
      const rec = { post: performance.now() } as { post: number; accepted?: number };
      t.set(id, rec);
      const m = binaryMessage(new CloudEvent({ type: PING, source: '/bench', id, partitionkey: id, datacontenttype: 'application/json', data: {} }) as HippoEvent);
      const res = await fetch(`${ingressServer.url}/`, { method: 'POST', headers: m.headers, body: m.body });
      if (res.status !== 202) throw new Error(`ingress answered ${res.status}`);
      rec.accepted = performance.now();
      await done;
    })));
    // Warm-up (not counted): topics, producer, consumer groups and HTTP connections exist before the clock starts.
    await fire(Math.min(50, events));
    t.clear();
    const start = performance.now();
    await fire(events);
    const wall = (performance.now() - start) / 1000;
    const recs = [...t.values()];
    const q = (xs: number[], p: number) => round(xs.sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!);
    const hop = (f: (r: (typeof recs)[number]) => number) => recs.map(f);
    const ingressMs = hop((r) => r.accepted! - r.post);
    const deliveryMs = hop((r) => Math.max(0, r.delivered! - r.accepted!));
    const replyMs = hop((r) => r.done! - r.replied!);
    const e2e = hop((r) => r.done! - r.post);
    return {
      events, concurrency, events_per_s: round(events / wall),
      ingress_p50: q(ingressMs, 0.5), ingress_p99: q(ingressMs, 0.99),
      delivery_p50: q(deliveryMs, 0.5), delivery_p99: q(deliveryMs, 0.99),
      reply_p50: q(replyMs, 0.5), reply_p99: q(replyMs, 0.99),
      end_to_end_p50: q(e2e, 0.5), end_to_end_p99: q(e2e, 0.99),
    };
  } finally {
    await bus.close();
    fnServer.server.close();
    ingressServer.server.close();
  }
}

/** Both buses, the same load. Kafka is a broker of this run's own (free ports, a temp folder). */
export async function benchEvents(options: { events: number; concurrency: number; log: (line: string) => void }): Promise<{ memory: EventsResult; kafka: EventsResult }> {
  options.log(`events: ${options.events} through the memory bus…`);
  const memory = await measure(new MemoryBus(), options.events, options.concurrency);
  const dir = await mkdtemp(join(tmpdir(), 'hippo-bench-kafka-'));
  const kafka = { port: await freePort(), controllerPort: await freePort(), dir, quiet: true };
  try {
    const { brokers } = await kafkaUp(kafka);
    options.log(`events: ${options.events} through Kafka at ${brokers}…`);
    const bus = new KafkaBus({ brokers: [brokers], topic: `bench-${randomUUID()}` });
    const viaKafka = await measure(bus, options.events, options.concurrency);
    return { memory, kafka: viaKafka };
  } finally {
    await kafkaDown(kafka);
    await rm(dir, { recursive: true, force: true });
  }
}

async function listen(fetch: (req: Request) => Response | Promise<Response>): Promise<{ url: string; server: ServerType }> {
  return new Promise((resolve) => {
    const server = serve({ fetch, port: 0, hostname: '127.0.0.1' }, (info) => resolve({ url: `http://127.0.0.1:${info.port}`, server }));
  });
}

const round = (x: number) => Math.round(x * 100) / 100;
