import { timingSafeEqual } from 'node:crypto';
import { Hono, type Context, type ErrorHandler } from 'hono';
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

/** Equal secrets (tokens, MACs), compared in time independent of where they differ. */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
