import { ConfigError } from '../shared/errors.ts';

/**
 * Fault drills (DESIGN §10): `HIPPO_CHAOS` makes step processes fail for real, so operators
 * can watch the platform recover. Rules are comma-separated `<fault>:<step>:<attempt>`:
 *
 * - `oom:pit-join:1`  — on attempt 1 the process allocates until its tier's heap limit kills it;
 * - `kill:export:1`   — the process SIGKILLs itself mid-request;
 * - `hang:delisting-adjust:*` — never answers (`*`: every attempt).
 *
 * Off unless set. Never set it in production.
 */
export type Fault = 'oom' | 'kill' | 'hang';

export interface ChaosRule {
  fault: Fault;
  step: string;
  /** undefined = every attempt */
  attempt?: number;
}

export function parseChaos(spec: string | undefined): ChaosRule[] {
  if (!spec?.trim()) return [];
  return spec.split(',').map((raw) => {
    const [fault, step, attempt] = raw.trim().split(':');
    if (!['oom', 'kill', 'hang'].includes(fault ?? '') || !step || !attempt || !(attempt === '*' || /^[1-9]\d*$/.test(attempt))) {
      throw new ConfigError(`HIPPO_CHAOS=${spec}: "${raw}" is not <oom|kill|hang>:<step>:<attempt|*>`);
    }
    return { fault: fault as Fault, step, attempt: attempt === '*' ? undefined : Number(attempt) };
  });
}

/** The fault to inject for this request, if any. */
export function faultFor(rules: readonly ChaosRule[], step: string, attempt: number): Fault | undefined {
  return rules.find((r) => r.step === step && (r.attempt === undefined || r.attempt === attempt))?.fault;
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
