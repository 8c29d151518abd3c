import type { StepRequested } from '../../eventing/catalog.ts';
import type { HippoEvent } from '../../shared/cloudevents.ts';

/**
 * What the dead-letter sink concludes about a step delivery that failed (DESIGN §10).
 * The error comes from Knative's extensions: `knativeerrorcode` (absent when there was no
 * HTTP response) and `knativeerrordata` (base64 of the start of the response body, which
 * for a Hippo step is its JSON error body).
 */
export interface FailedDelivery {
  status?: number;
  code: string;
  message: string;
  retriable: boolean;
}

export function describeFailure(event: HippoEvent): FailedDelivery {
  const status = event.knativeerrorcode ? Number(event.knativeerrorcode) : undefined;
  let body: { error?: { code?: string; message?: string } } | undefined;
  if (event.knativeerrordata) {
    const text = Buffer.from(event.knativeerrordata, 'base64').toString('utf8');
    try {
      body = JSON.parse(text);
    } catch {
      body = { error: { message: text.slice(0, 300) } };
    }
  }
  if (status === undefined) {
    return {
      code: 'worker_lost',
      message: `no response from ${event.knativeerrordest ?? 'the step'}: the process died or the delivery timed out`,
      retriable: true,
    };
  }
  return {
    status,
    code: body?.error?.code ?? (status === 507 ? 'out_of_memory' : status >= 500 ? 'step_error' : 'rejected'),
    message: body?.error?.message ?? `the step answered HTTP ${status}`,
    retriable: status >= 500,
  };
}

/** Which step instance a dead-lettered `step.requested` was for. */
export function stepOf(data: StepRequested): Pick<StepRequested, 'runId' | 'stepId' | 'attempt' | 'tier'> {
  return { runId: data.runId, stepId: data.stepId, attempt: data.attempt, tier: data.tier };
}

/**
 * The memory tier to try next (DESIGN §10): out of memory (507), a bad gateway (502, a worker
 * that fell over mid-answer) or no answer at all (the process died, or the delivery timed
 * out) moves the step one tier up; anything else, or the top tier, does not.
 */
export function nextTier(failure: FailedDelivery, tier: number, tiers: number): number | undefined {
  const escalate = failure.status === 507 || failure.status === 502 || failure.status === undefined;
  return escalate && tier + 1 < tiers ? tier + 1 : undefined;
}
