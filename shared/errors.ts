/** One problem in an error's `details`: where it is, and what is wrong. */
export interface ErrorDetail {
  /** Where: a field path (`params.start`), or `file`/`row`/`column` for input files. */
  field?: string;
  file?: string;
  /** Data row of a CSV/Parquet file (1 = the first row after the header). */
  row?: number;
  /** Line of a JSON Lines file (1-based). */
  line?: number;
  column?: string;
  value?: unknown;
  message: string;
}

export interface ErrorBody {
  error: { code: string; message: string; details?: ErrorDetail[] };
}

/**
 * Hippo's error hierarchy. Every error that crosses an HTTP boundary is a HippoError, so
 * one `onError` handler can turn it into the JSON body of DESIGN §9:
 * `{"error":{"code":"invalid_params","message":"…","details":[…]}}`.
 */
export class HippoError extends Error {
  readonly code: string;
  readonly status: number;
  readonly retriable: boolean;
  /**
   * What exactly is wrong (field, file, row…); `details` in the JSON body. Not named
   * `details` here: test runners (uvu) treat an error's `details` as a printable diff string.
   */
  readonly problems?: ErrorDetail[];

  constructor(
    message: string,
    opts: { code: string; status: number; retriable?: boolean; details?: ErrorDetail[]; cause?: unknown },
  ) {
    super(message, { cause: opts.cause });
    this.name = new.target.name;
    this.code = opts.code;
    this.status = opts.status;
    this.retriable = opts.retriable ?? false;
    this.problems = opts.details;
  }

  toBody(): ErrorBody {
    return {
      error: { code: this.code, message: this.message, ...(this.problems?.length ? { details: this.problems } : {}) },
    };
  }
}

/** A request that does not match its schema: 400 at the API, 422 at a step. */
export class ValidationError extends HippoError {
  constructor(message: string, details: ErrorDetail[] = [], opts: { code?: string; status?: number; cause?: unknown } = {}) {
    super(message, { code: opts.code ?? 'invalid_params', status: opts.status ?? 400, details, cause: opts.cause });
  }
}

/** Bad input data (a vendor file, a lake part): non-retriable, 422. */
export class InputError extends HippoError {
  constructor(message: string, details: ErrorDetail[] = [], cause?: unknown) {
    super(message, { code: 'invalid_input', status: 422, details, cause });
  }
}

export class NotFoundError extends HippoError {
  constructor(message: string) {
    super(message, { code: 'not_found', status: 404 });
  }
}

export class ConflictError extends HippoError {
  constructor(message: string, code = 'conflict') {
    super(message, { code, status: 409 });
  }
}

export class UnauthorizedError extends HippoError {
  constructor(message = 'missing or wrong bearer token') {
    super(message, { code: 'unauthorized', status: 401 });
  }
}

/** A compare-and-swap write lost the race: re-read and re-apply. */
export class PreconditionFailedError extends HippoError {
  constructor(key: string) {
    super(`object ${key} changed since it was read`, { code: 'precondition_failed', status: 412, retriable: true });
  }
}

/** DuckDB ran out of memory: the retry function re-dispatches at a bigger tier (DESIGN §10). */
export class OutOfMemoryError extends HippoError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: 'out_of_memory', status: 507, retriable: true, cause });
  }
}

/** Something outside us failed and may work on a later try: 503. */
export class TransientError extends HippoError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: 'unavailable', status: 503, retriable: true, cause });
  }
}

export class ConfigError extends HippoError {
  constructor(message: string) {
    super(message, { code: 'invalid_config', status: 500 });
  }
}

/** Anything that is not already a HippoError becomes an `internal` 500 that keeps its cause. */
export function toHippoError(err: unknown): HippoError {
  if (err instanceof HippoError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new HippoError(message, { code: 'internal', status: 500, cause: err });
}
