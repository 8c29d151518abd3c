// How a browser proves it knows `HIPPO_TOKEN`. A navigation cannot send `Authorization`, so the
// token is given once — `?token=` on any dashboard URL, or the sign-in form (POST, so it stays
// out of the address bar and history) — and the dashboard answers with a session cookie:
// HttpOnly (no script reads it), SameSite=Strict (no other site's form or link carries it),
// Secure over HTTPS. The cookie holds an HMAC of a fixed label under the token, not the token,
// so a leaked cookie does not open the JSON API; changing HIPPO_TOKEN ends every session.
// `Authorization: Bearer <token>` works too (curl, scripts).
import { createHmac } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { timingSafeEqual } from 'hono/utils/buffer';

/** The session cookie's name. */
export const SESSION_COOKIE = 'hippo_dashboard';
/** A session lasts a working day; then the token is asked for again. */
export const SESSION_SECONDS = 12 * 60 * 60;

/** HMAC-SHA256 of the session label under `token`, base64url: the cookie's value. */
function sessionValue(token: string): string {
  return createHmac('sha256', token).update('hippo dashboard session v1').digest('base64url');
}

/** Where to go after signing in: a path on this site only (`//evil.example` is another site). */
export function localPath(next: string | undefined): string {
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/';
}

/** The request's URL, path and query, without `token`. */
export function withoutToken(c: Context): string {
  const url = new URL(c.req.url);
  url.searchParams.delete('token');
  return `${url.pathname}${url.search}`;
}

export interface DashboardAuth {
  /** Middleware: lets a request with the token (cookie, bearer or `?token=`) through; else `refuse`. */
  require: (refuse: (c: Context, reason: 'missing' | 'wrong') => Response | Promise<Response>) => MiddlewareHandler;
  /** Checks a token typed into the sign-in form; on success sets the session cookie. */
  signIn: (c: Context, token: string) => Promise<boolean>;
  signOut: (c: Context) => void;
  enabled: boolean;
}

/** The dashboard's guard for `token` (HIPPO_TOKEN); with no token every request passes, as at /runs. */
export function dashboardAuth(token: string | undefined): DashboardAuth {
  const expected = token ? sessionValue(token) : undefined;
  const valid = async (candidate: string | undefined) => !!expected && !!candidate && timingSafeEqual(sessionValue(candidate), expected);
  const startSession = (c: Context) =>
    setCookie(c, SESSION_COOKIE, expected!, {
      path: '/', httpOnly: true, sameSite: 'Strict', maxAge: SESSION_SECONDS,
      secure: new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https',
    });
  return {
    enabled: !!token,
    require: (refuse) => async (c, next) => {
      if (!expected) return next();
      const given = c.req.query('token');
      if (given !== undefined) {
        if (!(await valid(given))) return refuse(c, 'wrong');
        startSession(c);
        // The token leaves the address bar at once: the next URL, the history and any link lack it.
        return c.redirect(withoutToken(c), 303);
      }
      const bearer = /^Bearer (.+)$/.exec(c.req.header('authorization') ?? '')?.[1];
      if (bearer !== undefined) return (await valid(bearer)) ? next() : refuse(c, 'wrong');
      const cookie = getCookie(c, SESSION_COOKIE);
      if (cookie && (await timingSafeEqual(cookie, expected))) return next();
      return refuse(c, 'missing');
    },
    signIn: async (c, candidate) => {
      if (!(await valid(candidate))) return false;
      startSession(c);
      return true;
    },
    signOut: (c) => deleteCookie(c, SESSION_COOKIE, { path: '/' }),
  };
}
