import { Hono } from 'hono';
import {
  EventTypes,
  parseData,
  runRequestSchema,
  stepCompletedSchema,
  stepFailedSchema,
  datasetChangedSchema,
  type RunRequest,
} from '../../eventing/catalog.ts';
import { carriesEvent, readEvent } from '../../shared/cloudevents.ts';
import { ValidationError } from '../../shared/errors.ts';
import { limitBody } from '../../shared/http.ts';
import type { Logger } from '../../shared/log.ts';
import { submitted } from './api.ts';
import type { Coordinator, Run, StandingRuns } from '../../orchestration/index.ts';

export interface RunEventsDeps {
  /** Submits a run and counts it (the same as `POST /runs`). */
  submit: (req: RunRequest) => Promise<{ run: Run; created: boolean }>;
  coordinator: Pick<Coordinator, 'onStepCompleted' | 'onStepFailed'>;
  standing: Pick<StandingRuns, 'onDatasetChanged' | 'rerunDue'>;
  /** How long standing runs wait after a data change (the run domain's debounce). */
  debounceMs: number;
  log: Logger;
  /** Called with each event's type as it arrives (the `hippo_events_received_total` counter). */
  received?: (type: string) => void;
  /** HIPPO_MAX_BODY_BYTES: a larger event is refused (413). */
  maxBodyBytes?: number;
}

/**
 * `POST /`: CloudEvents in binary or structured mode, from clients (`run.requested`) and from
 * the broker's triggers (the steps' `step.completed` / `step.failed`, ingest's `dataset.changed`).
 * Errors are thrown as HippoErrors; the composing app's onError answers them.
 *
 * @example
 * app.route('/', createRunEvents({ submit, coordinator, standing, debounceMs: 10_000, log }));
 */
export function createRunEvents(deps: RunEventsDeps): Hono {
  const events = new Hono();

  events.post('/', limitBody(deps.maxBodyBytes), async (c) => {
    if (!carriesEvent(c.req.raw.headers)) {
      throw new ValidationError('POST / takes a CloudEvent (binary ce-* headers or application/cloudevents+json); use POST /runs for JSON', [], { code: 'invalid_event' });
    }
    const event = await readEvent(c.req.raw);
    deps.received?.(event.type);
    switch (event.type) {
      case EventTypes.runRequested: {
        // A run requested without an id takes the event's id: a redelivered event starts no second run.
        const req = parseData(event, runRequestSchema, 400);
        const { body, status } = submitted(await deps.submit({ ...req, id: req.id ?? event.id }));
        return c.json(body, status);
      }
      case EventTypes.stepCompleted:
        await deps.coordinator.onStepCompleted(parseData(event, stepCompletedSchema));
        return c.body(null, 202);
      case EventTypes.stepFailed:
        await deps.coordinator.onStepFailed(parseData(event, stepFailedSchema));
        return c.body(null, 202);
      case EventTypes.datasetChanged: {
        // Standing runs that read the dataset are due for a re-run after the debounce; the
        // timer here starts it promptly, the watchdog's tick if this instance is gone by then.
        if (await deps.standing.onDatasetChanged(parseData(event, datasetChangedSchema))) {
          setTimeout(() => void deps.standing.rerunDue().catch((err) => deps.log.warn('standing re-run failed', { err })), deps.debounceMs + 100).unref();
        }
        return c.body(null, 202);
      }
      default:
        throw new ValidationError(`runs does not handle ${event.type}`, [], { status: 422, code: 'wrong_event' });
    }
  });

  return events;
}
