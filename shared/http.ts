import { Hono, type Context, type ErrorHandler, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { DEFAULT_MAX_BODY_BYTES } from './config.ts';
import { HippoError, toHippoError } from './errors.ts';
import { silentLogger, type Logger } from './log.ts';

/**
 * The one place errors become HTTP responses: a HippoError's status and JSON body
 * (DESIGN §9); anything else is an `internal` 500 that is logged with its stack.
 */
export function errorHandler(log?: Logger): ErrorHandler {
  return (err: Error, c: Context) => {
    const e = err instanceof HippoError ? err : toHippoError(err);
    if (e.status >= 500) log?.error(e.message, { code: e.code, status: e.status, stack: (e.cause as Error)?.stack ?? e.stack });
    else log?.debug(e.message, { code: e.code, status: e.status });
    return c.json(e.toBody(), e.status as 400);
  };
}

/** Knative Functions' health endpoints. */
export function addHealth(app: Hono, ready: () => boolean = () => true): void {
  app.get('/health/liveness', (c) => c.json({ ok: true }));
  app.get('/health/readiness', (c) => (ready() ? c.json({ ok: true }) : c.json({ ok: false }, 503)));
}

/** A function's Hono app with the parts every function has: health endpoints and the one error handler. */
export function functionApp(name: string, baseLog?: Logger): { app: Hono; log: Logger } {
  const log = (baseLog ?? silentLogger).child({ fn: name });
  const app = new Hono();
  app.onError(errorHandler(log));
  addHealth(app);
  return { app, log };
}

/**
 * Hono's own middleware (bearerAuth, csrf) refuses a request by throwing an HTTPException with
 * a plain-text response; this turns that refusal into `error(c)`, so the one onError above
 * answers with the JSON error body of DESIGN §9. Errors after the middleware let the request
 * through are not its refusals and pass untouched.
 *
 * @example
 * app.use('/runs/*', refuseWith(bearerAuth({ token }), () => new UnauthorizedError()));
 */
export function refuseWith(middleware: MiddlewareHandler, error: (c: Context) => HippoError): MiddlewareHandler {
  return async (c, next) => {
    let passed = false;
    try {
      await middleware(c, () => {
        passed = true;
        return next();
      });
    } catch (err) {
      if (passed || !(err instanceof HTTPException)) throw err;
      throw error(c);
    }
  };
}

/**
 * Hono's bodyLimit with the §9 answer to a body over `maxBytes` (HIPPO_MAX_BODY_BYTES): 413
 * `payload_too_large`, naming the limit. The handler after it never sees such a body.
 *
 * @example
 * app.post('/runs', limitBody(1 << 20), handler);
 */
export function limitBody(maxBytes = DEFAULT_MAX_BODY_BYTES): MiddlewareHandler {
  return bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new HippoError(`the request body is larger than the limit of ${maxBytes} bytes (HIPPO_MAX_BODY_BYTES)`, { code: 'payload_too_large', status: 413 });
    },
  });
}
