import type { HippoEvent } from '../shared/cloudevents.ts';

/** Handles one event; its promise settling acknowledges the event (see `Bus`). */
export type Handler = (event: HippoEvent) => Promise<void>;

/**
 * The event bus under the broker. The in-memory bus and the Kafka bus implement it; the
 * dispatcher and the ingress do not know which they have.
 *
 * Delivery is at-least-once per subscription group (one group per trigger, as Knative's
 * Kafka broker does): `publish` resolves once the event is durably accepted; a handler's
 * promise settling is the acknowledgement (the offset commit).
 */
export interface Bus {
  publish(event: HippoEvent): Promise<void>;
  subscribe(group: string, handler: Handler): Promise<void>;
  /** Stops taking events, waits for in-flight handlers. */
  close(): Promise<void>;
}

/** `type Emit`: how a function sends an event that is not a reply (the broker ingress, or a bus). */
export type Emit = (event: HippoEvent) => Promise<void>;
