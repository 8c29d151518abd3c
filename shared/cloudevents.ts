import { CloudEvent, HTTP, type CloudEventV1 } from 'cloudevents';
import { ValidationError } from './errors.ts';

/** Extension attributes Hippo puts on its events (DESIGN §3). */
export interface HippoExtensions {
  runid?: string;
  step?: string;
  stepid?: string;
  tier?: string;
  attempt?: string;
  partitionkey?: string;
  traceparent?: string;
  knativeerrordest?: string;
  knativeerrorcode?: string;
  knativeerrordata?: string;
}

export type HippoEvent<T = unknown> = CloudEvent<T> & HippoExtensions;

/** Headers of a web `Request`/`Response` as the plain object the cloudevents SDK expects. */
function headerObject(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((v, k) => (out[k.toLowerCase()] = v));
  return out;
}

/** True when the message carries a CloudEvent (binary `ce-*` headers or structured content type). */
export function carriesEvent(headers: Headers): boolean {
  return headers.has('ce-id') || (headers.get('content-type') ?? '').startsWith('application/cloudevents+json');
}

/**
 * Reads a CloudEvent from an HTTP message in binary or structured mode, through the SDK's
 * binding (STYLE 8). A message that is not a valid CloudEvent is a 400 `invalid_event`.
 */
export async function readEvent(message: { headers: Headers; text(): Promise<string> }): Promise<HippoEvent> {
  const body = await message.text();
  try {
    const event = HTTP.toEvent({ headers: headerObject(message.headers), body });
    if (Array.isArray(event)) throw new Error('batched CloudEvents are not accepted');
    return event as HippoEvent;
  } catch (err) {
    throw new ValidationError(`not a valid CloudEvent: ${(err as Error).message}`, [], { code: 'invalid_event', cause: err });
  }
}

/** Binary-mode HTTP message of an event (the Knative data plane's format). */
export function binaryMessage(event: CloudEventV1<unknown>): { headers: Record<string, string>; body: string } {
  const m = HTTP.binary(event);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.headers)) if (v !== undefined) headers[k] = String(v);
  return { headers, body: typeof m.body === 'string' ? m.body : JSON.stringify(m.body ?? null) };
}

/** A `Response` carrying `event` in binary mode: the Knative reply contract. */
export function eventResponse(event: CloudEventV1<unknown>, status = 200): Response {
  const m = binaryMessage(event);
  return new Response(m.body, { status, headers: m.headers });
}

/** The event in a 2xx reply, if there is one (a reply with no `ce-id` carries none). */
export async function eventFromResponse(res: Response): Promise<HippoEvent | undefined> {
  if (!carriesEvent(res.headers)) return undefined;
  return readEvent(res);
}
