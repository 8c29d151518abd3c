// Errors the SDK raises: each says what happened in words a researcher can act on.

/** The API refused a request: its HTTP status, error code and details (DESIGN §9). */
export class HippoHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The API's `details`: which field, file or row. */
    readonly problems?: unknown[],
  ) {
    super(message);
    this.name = 'HippoHttpError';
  }
}

export class RunFailedError extends Error {
  constructor(
    readonly runId: string,
    readonly status: string,
    readonly step: string | undefined,
    readonly reason: string,
    readonly code?: string,
  ) {
    super(`run ${runId} ${status}${step ? ` at step ${step}` : ''}: ${reason}`);
    this.name = 'RunFailedError';
  }
}

export class WaitTimeoutError extends Error {
  constructor(readonly runId: string, readonly timeoutMs: number, readonly lastStatus: string) {
    super(`run ${runId} still ${lastStatus} after ${Math.round(timeoutMs / 1000)} s (it keeps running; wait again or check status)`);
    this.name = 'WaitTimeoutError';
  }
}

export class ResultIntegrityError extends Error {
  constructor(readonly runId: string, readonly expected: string | undefined, readonly actual: string) {
    super(`result of run ${runId}: sha256 ${actual} does not match the server's ${expected ?? '(none sent)'} — the download was corrupted or cut short; fetch it again`);
    this.name = 'ResultIntegrityError';
  }
}
