import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** Django's cookie names as PostHog configures them; the web app reads the CSRF cookie and echoes it in X-CSRFToken. */
export const SESSION_COOKIE = 'sessionid';
export const CSRF_COOKIE = 'posthog_csrftoken';
export const CSRF_HEADER = 'x-csrftoken';

export interface CookieSettings {
  maxAgeSeconds: number;
  secure: boolean;
}

const newCsrfToken = (): string => randomBytes(32).toString('base64url');

/** The session token from the signed session cookie, or null when it is missing or its signature is wrong. */
export function sessionToken(request: FastifyRequest): string | null {
  const raw = request.cookies[SESSION_COOKIE];
  if (!raw) return null;
  const unsigned = request.unsignCookie(raw);
  return unsigned.valid ? unsigned.value : null;
}

export function setSessionCookies(reply: FastifyReply, token: string, settings: CookieSettings): void {
  const common = { path: '/', sameSite: 'lax' as const, secure: settings.secure, maxAge: settings.maxAgeSeconds };
  reply.setCookie(SESSION_COOKIE, token, { ...common, httpOnly: true, signed: true });
  reply.setCookie(CSRF_COOKIE, newCsrfToken(), { ...common, httpOnly: false });
}

export function clearSessionCookies(reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, { path: '/' });
}

/** Session callers always hold a CSRF cookie, as Django's get_token ensures for PostHog's pages. */
export function ensureCsrfCookie(request: FastifyRequest, reply: FastifyReply): void {
  if (request.cookies[CSRF_COOKIE]) return;
  reply.setCookie(CSRF_COOKIE, newCsrfToken(), { path: '/', sameSite: 'lax', secure: request.protocol === 'https' });
}
