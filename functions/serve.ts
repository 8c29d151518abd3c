import { serve, type ServerType } from '@hono/node-server';
import type { Hono } from 'hono';
import type { Logger } from '../shared/log.ts';

/**
 * Starts a function's Hono app on `port` and wires the lifecycle Knative expects
 * (DESIGN §11): on SIGTERM stop accepting, let in-flight requests finish, then exit. Under
 * the local runner the parent holds an IPC channel; when it goes away (even killed), the
 * function exits too, so nothing is left running.
 */
export function serveFunction(app: Hono, options: { port: number; host?: string; name: string; log: Logger; onClose?: () => Promise<void> }): ServerType {
  const started = performance.now();
  const server = serve({ fetch: app.fetch, port: options.port, hostname: options.host ?? '127.0.0.1' }, (info) => {
    options.log.info('ready', { fn: options.name, port: info.port, startMs: Math.round(performance.now() - started), uptimeMs: Math.round(process.uptime() * 1000) });
    // The parent may be gone already (killed while this one started): then there is no one to tell.
    if (process.connected) process.send?.({ ready: true, port: info.port });
  });
  let stopping = false;
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    options.log.info('stopping', { fn: options.name, why });
    server.close(async () => {
      await options.onClose?.();
      process.exit(0);
    });
    // A kept-alive connection that goes idle once its answer is out would hold the close
    // open for its keep-alive time: close those as they go idle.
    const http = server as unknown as { closeIdleConnections?: () => void };
    setInterval(() => http.closeIdleConnections?.(), 100).unref();
    // In-flight work gets a grace period, then the process goes regardless.
    setTimeout(() => process.exit(0), 30_000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('disconnect', () => stop('parent gone'));
  // Started by a parent that has died meanwhile (its 'disconnect' came before the listener
  // above existed): nobody will ever send work here, so go too.
  if (typeof process.send === 'function' && !process.connected) stop('parent gone before start');
  return server;
}
