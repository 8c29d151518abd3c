// Fault drills (DESIGN §10): `HIPPO_CHAOS` makes step processes fail for real, so operators
// can watch the platform recover. Rules are comma-separated `<fault>:<step>:<attempt>`:
//
// - `oom:pit-join:1`  — on attempt 1 the process allocates until its tier's heap limit kills it;
// - `kill:export:1`   — the process SIGKILLs itself mid-request;
// - `hang:delisting-adjust:*` — never answers (`*`: every attempt).
//
// - `oom:pit-join#3:1` — only partition 3 of a fanned-out pit-join (DESIGN §14), on attempt 1.
//
// A fourth field makes a rule random: `kill:*:1:5%` kills 5 % of first attempts of any step.
// The draw is a hash of run, step and attempt, so a drill is reproducible and a re-dispatched
// attempt draws again.
//
// Off unless set. Never set it in production.
import { createHash } from 'node:crypto';
import { ConfigError } from '../shared/errors.ts';

/** What a rule does to a step process: run out of memory, be killed, or hang. */
export type Fault = 'oom' | 'kill' | 'hang';

export interface ChaosRule {
  fault: Fault;
  /** undefined = every step */
  step?: string;
  /** Only this partition of a fanned-out step (`<step>#<index>`); undefined = any, or none. */
  partition?: number;
  /** undefined = every attempt */
  attempt?: number;
  /** Share of matching requests that get the fault, 0–1 (1 unless a `%` is given). */
  share: number;
}

export function parseChaos(spec: string | undefined): ChaosRule[] {
  if (!spec?.trim()) return [];
  return spec.split(',').map((raw) => {
    const [fault, target, attempt, share, ...rest] = raw.trim().split(':');
    const pct = share === undefined ? 100 : /^(\d+(?:\.\d+)?)%$/.exec(share)?.[1];
    const [, step, partition] = /^([^#]+)(?:#(\d+))?$/.exec(target ?? '') ?? [];
    if (
      !['oom', 'kill', 'hang'].includes(fault ?? '') || !step || (step === '*' && partition !== undefined) || !attempt ||
      !(attempt === '*' || /^[1-9]\d*$/.test(attempt)) || pct === undefined || Number(pct) > 100 || rest.length
    ) {
      throw new ConfigError(`HIPPO_CHAOS=${spec}: "${raw}" is not <oom|kill|hang>:<step[#partition]|*>:<attempt|*>[:<percent>%]`);
    }
    return {
      fault: fault as Fault,
      step: step === '*' ? undefined : step,
      ...(partition !== undefined ? { partition: Number(partition) } : {}),
      attempt: attempt === '*' ? undefined : Number(attempt),
      share: Number(pct) / 100,
    };
  });
}

/** The fault to inject for this request, if any: the first rule that matches and draws it. */
export function faultFor(
  rules: readonly ChaosRule[],
  req: { step: string; runId: string; stepId: string; attempt: number; partition?: number },
): Fault | undefined {
  return rules.find(
    (r) =>
      (r.step === undefined || r.step === req.step) &&
      (r.partition === undefined || r.partition === req.partition) &&
      (r.attempt === undefined || r.attempt === req.attempt) &&
      (r.share >= 1 || draw(`${r.fault}/${req.runId}/${req.stepId}/${req.attempt}`) < r.share),
  )?.fault;
}

/** A uniform number in [0, 1) from a string: the same string, the same draw. */
function draw(key: string): number {
  return createHash('sha256').update(key).digest().readUInt32BE(0) / 2 ** 32;
}

/** Injects the fault: none of these return normally (except a hang, which never returns). */
export async function inject(fault: Fault): Promise<never> {
  if (fault === 'kill') process.kill(process.pid, 'SIGKILL');
  if (fault === 'oom') {
    // Real memory on the V8 heap (Buffers would live outside it) until the heap limit of the
    // process's tier aborts it, as a container's memory limit would.
    const hog: number[][] = [];
    for (;;) {
      hog.push(new Array(1 << 20).fill(hog.length));
      if (hog.length % 64 === 0) await new Promise((r) => setImmediate(r));
    }
  }
  return new Promise<never>(() => {});
}
