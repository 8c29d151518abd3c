import { binaryMessage, eventFromResponse } from '../shared/cloudevents.ts';
import { formatBytes } from '../shared/config.ts';
import type { ObjectStore } from '../shared/object-store.ts';
import { stepRequestedEvent, type StepCompleted, type StepRequested } from '../eventing/catalog.ts';
import { stepService } from '../eventing/triggers.ts';
import { services } from '../functions/specs.ts';
import { ProcessRunner } from '../local/runner.ts';
import { timed } from './measure.ts';

/**
 * A step measured "through its function": its own process, started by the local runner as
 * the platform starts it, sent `step.requested` over HTTP, timed until `step.completed`.
 */
export interface StepProcess {
  /** Sends one request; resolves to the reply and the wall time. */
  request(req: Omit<StepRequested, 'step' | 'tier' | 'attempt' | 'runId'>): Promise<{ ms: number; done: StepCompleted }>;
  stop(): Promise<void>;
}

export async function startStepProcess(options: { step: string; store: ObjectStore & { url: string }; root: string; tierBytes: number }): Promise<StepProcess> {
  const service = stepService(options.step, 0);
  const runner = new ProcessRunner({
    services: services(1).filter((s) => s.name === service),
    root: options.root,
    idleMs: 3_600_000,
    startTimeoutMs: 60_000,
    env: {
      PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: process.env.TMPDIR,
      HIPPO_STORE: options.store.url, HIPPO_TIERS: formatBytes(options.tierBytes), HIPPO_LOG_LEVEL: 'warn',
    },
  });
  await runner.start();
  await runner.ensure(service);
  return {
    async request(req) {
      const m = binaryMessage(stepRequestedEvent('/bench', { ...req, runId: 'bench', step: options.step, tier: 0, attempt: 1 }));
      const { ms, value: res } = await timed(() =>
        runner.deliver(service, new Request(`http://${options.step}/`, { method: 'POST', headers: m.headers, body: m.body }), 3_600_000),
      );
      const reply = await eventFromResponse(res);
      if (!res.ok || !reply) throw new Error(`${options.step} answered ${res.status}: ${await res.text()}`);
      return { ms, done: reply.data as StepCompleted };
    },
    stop: () => runner.stop(),
  };
}
