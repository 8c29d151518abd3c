import type { Hono } from 'hono';
import { EventTypes, makeEvent, parseData, stepRequestedSchema, type StepFailed } from '../../eventing/catalog.ts';
import { eventResponse, readEvent } from '../../shared/cloudevents.ts';
import { functionApp } from '../../shared/http.ts';
import type { Logger } from '../../shared/log.ts';
import { describeFailure, nextTier, stepOf } from './decide.ts';

export interface RetryDeps {
  log?: Logger;
  /** How many memory tiers each step has (HIPPO_TIERS): the top one is the last chance. */
  tiers?: number;
}

/**
 * `retry`, the dead-letter sink of every trigger. A dead-lettered `step.requested` becomes
 * `step.failed` (the reply goes back through the broker to the coordinator), so a step the
 * broker gave up on fails its run with a reason instead of leaving it waiting.
 *
 * Out of memory, a 502 or a lost worker below the top tier is not the end: the `step.failed`
 * carries `nextTier`, and the coordinator records the failed attempt and dispatches the
 * step again one tier up (DESIGN §10). At the top tier, or for a 4xx, the step fails.
 */
export function createApp(deps: RetryDeps = {}): Hono {
  const { app, log } = functionApp('retry', deps.log);
  app.post('/', async (c) => {
    const event = await readEvent(c.req.raw);
    const failure = describeFailure(event);
    if (event.type !== EventTypes.stepRequested) {
      // Coordinator events that could not be delivered: nothing to re-run; say so loudly.
      log.error('dead letter', { type: event.type, id: event.id, runid: event.runid, dest: event.knativeerrordest, ...failure });
      return c.body(null, 202);
    }
    const req = parseData(event, stepRequestedSchema);
    const up = nextTier(failure, req.tier, deps.tiers ?? 1);
    const data: StepFailed = {
      ...stepOf(req),
      error: { code: failure.code, message: failure.message, retriable: failure.retriable, ...(up !== undefined ? { nextTier: up } : {}) },
    };
    if (up !== undefined) log.warn('step failed; retrying one memory tier up', { runid: req.runId, stepid: req.stepId, tier: up, ...failure });
    else log.warn('step failed permanently', { runid: req.runId, stepid: req.stepId, ...failure });
    return eventResponse(
      makeEvent(EventTypes.stepFailed, '/hippo/retry', data, {
        runid: req.runId, step: req.step, stepid: req.stepId, tier: String(req.tier), attempt: String(req.attempt),
      }),
    );
  });
  return app;
}
