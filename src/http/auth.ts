import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config.js';
import { looksLikeJwt } from '../lib/jwt.js';
import { AuthenticationFailedError, NotAuthenticatedError, PermissionDeniedError, ThrottledError } from '../lib/errors.js';
import { type AccessTarget, checkKeyAccess, checkKeySupported, type KeyCheckSubject, type RouteAccess, type RouteThrottle } from '../access/route-access.js';
import type { TeamRow } from '../db/schema/index.js';
import type { AuthService, KeySource } from '../modules/auth/index.js';
import type { Actor, OrganizationWithLevel, TeamAccess } from '../modules/identity/index.js';
import { CSRF_COOKIE, CSRF_HEADER, ensureCsrfCookie, sessionToken } from './session-cookies.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Every /api route declares this; 'public' routes run without credentials. */
    access?: RouteAccess | 'public';
  }
  interface FastifyRequest {
    actor: Actor | null;
    /** The recording a share link's token opened, on routes that take one (and then no actor). */
    sharedRecording: SharedRecording | null;
    teamAccess: TeamAccess | null;
    organizationAccess: OrganizationWithLevel | null;
  }
}

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const BEARER = /^Bearer\s+(\S.+)$/;

function lastValue(value: unknown): string | undefined {
  const v = Array.isArray(value) ? value.at(-1) : value;
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

/** The credential of an `Authorization: Bearer …` header, if there is one. */
export function bearerCredential(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization?.trim();
  return header ? BEARER.exec(header)?.[1]?.trim() : undefined;
}

/** PostHog tries one key only: the Authorization header, else the body field, else the query parameter. */
function presentedKey(request: FastifyRequest): { value: string; source: KeySource } | null {
  const bearer = bearerCredential(request);
  // pha_ tokens are OAuth access tokens, which this server does not issue.
  if (bearer && !bearer.startsWith('pha_')) return { value: bearer, source: 'Authorization header' };
  const fromBody = request.body && typeof request.body === 'object' ? lastValue((request.body as Record<string, unknown>).personal_api_key) : undefined;
  if (fromBody) return { value: fromBody, source: 'body' };
  const fromQuery = lastValue((request.query as Record<string, unknown> | undefined)?.personal_api_key);
  return fromQuery ? { value: fromQuery, source: 'query string' } : null;
}

function sameValue(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Django's CSRF rule as DRF's SessionAuthentication applies it to unsafe requests of session users. */
function checkCsrf(request: FastifyRequest, trustedOrigins: string[]): void {
  const origin = request.headers.origin;
  if (origin && !trustedOrigins.includes(origin) && origin !== `${request.protocol}://${request.host}`) {
    throw new PermissionDeniedError(`CSRF Failed: Origin checking failed - ${origin} does not match any trusted origins.`);
  }
  const cookie = request.cookies[CSRF_COOKIE];
  if (!cookie) throw new PermissionDeniedError('CSRF Failed: CSRF cookie not set.');
  const header = request.headers[CSRF_HEADER];
  if (typeof header !== 'string' || header === '') throw new PermissionDeniedError('CSRF Failed: CSRF token missing.');
  if (!sameValue(header, cookie)) throw new PermissionDeniedError("CSRF Failed: CSRF token from the 'X-Csrftoken' HTTP header incorrect.");
}

function paramOf(request: FastifyRequest, name: string): string {
  return String((request.params as Record<string, unknown>)[name] ?? '');
}

/** The recording of a live share link, and its team. */
export interface SharedRecording {
  team: TeamRow;
  recordingId: string;
}

export interface AuthPluginOptions {
  auth: AuthService;
  /** The recording a live share link's token, or an unlocked password share's JWT, opens; null for anything else. */
  sharedRecordingOf: (credential: { accessToken: string } | { jwt: string }) => Promise<SharedRecording | null>;
  config: Pick<Config, 'siteUrl' | 'rateLimit'>;
}

/**
 * Authentication and authorization for every route, in PostHog's order: credentials (401), then for keys the
 * route's scope support, the target team or organization (404), the key's organization policy, scoped teams and
 * organizations and scopes (403), then membership (403/404), then the per-key throttle (429).
 */
export const authPlugin = fp(
  async (app: FastifyInstance, { auth, config, sharedRecordingOf }: AuthPluginOptions) => {
    app.decorateRequest('actor', null);
    app.decorateRequest('sharedRecording', null);
    app.decorateRequest('teamAccess', null);
    app.decorateRequest('organizationAccess', null);

    const trustedOrigins = config.siteUrl ? [new URL(config.siteUrl).origin] : [];
    // The window's name is part of the key: a shared store keeps one counter per key, whatever the window.
    const window = (name: string, max: number, timeWindow: number) =>
      app.createRateLimit({ max, timeWindow, keyGenerator: (r: FastifyRequest) => `${name}:${throttleKey(r)}` });
    const windows = config.rateLimit.enabled
      ? [window('minute', config.rateLimit.burstPerMinute, 60_000), window('hour', config.rateLimit.sustainedPerHour, 3_600_000)]
      : [];

    async function authenticate(request: FastifyRequest): Promise<Actor | null> {
      const key = presentedKey(request);
      // An export job's internal credential: its user, for reading only. Anything else JWT-shaped falls through to
      // the key check, which refuses it.
      if (key?.source === 'Authorization header' && looksLikeJwt(key.value) && (request.method === 'GET' || request.method === 'HEAD')) {
        const internal = await auth.authenticateInternalToken(key.value);
        if (internal) return internal;
      }
      if (key) return auth.authenticateKey(key.value, key.source);
      const session = sessionToken(request);
      return session ? auth.authenticateSession(session) : null;
    }

    async function resolveTarget(actor: Actor, target: AccessTarget, request: FastifyRequest): Promise<KeyCheckSubject> {
      if (target.kind === 'team') {
        const access = await auth.resolveTeam(actor, target.param === null ? '@current' : paramOf(request, target.param));
        request.teamAccess = access;
        return { team: access.team, organization: access.organization, membershipLevel: access.membershipLevel };
      }
      if (target.kind === 'organization') {
        const organization = await auth.resolveOrganization(actor, target.param === null ? null : paramOf(request, target.param));
        request.organizationAccess = organization;
        return { team: null, organization, membershipLevel: organization.membershipLevel };
      }
      return { team: null, organization: null, membershipLevel: null };
    }

    const routeWindows = new Map<string, ReturnType<typeof window>[]>();
    const windowsOf = (throttle: RouteThrottle | undefined) => {
      if (!throttle || !config.rateLimit.enabled) return [];
      let made = routeWindows.get(throttle.name);
      if (!made) {
        made = [window(`${throttle.name}:minute`, throttle.burstPerMinute, 60_000), window(`${throttle.name}:hour`, throttle.sustainedPerHour, 3_600_000)];
        routeWindows.set(throttle.name, made);
      }
      return made;
    };

    async function throttle(request: FastifyRequest, own: RouteThrottle | undefined): Promise<void> {
      for (const window of [...windows, ...windowsOf(own)]) {
        const result = await window(request);
        if (!result.isAllowed && result.isExceeded) throw new ThrottledError(result.ttlInSeconds);
      }
    }

    /** The link's own recording in its own team, and nothing else, for a share credential. */
    function openShare(request: FastifyRequest, shared: SharedRecording, target: AccessTarget): void {
      const team = target.kind === 'team' ? (target.param === null ? '@current' : paramOf(request, target.param)) : '';
      if ((team !== String(shared.team.id) && team !== '@current') || paramOf(request, 'session_id') !== shared.recordingId) {
        throw new PermissionDeniedError('You do not have permission to perform this action.');
      }
      request.sharedRecording = shared;
    }

    /**
     * PostHog's two sharing authenticators, GET only: a JWT-shaped Bearer credential is an unlocked password share's
     * (when it is not, the personal API key check that follows refuses it); `?sharing_access_token=` is a link's
     * token, used when no other credential is presented. Answers whether the request was opened.
     */
    async function shareAuthentication(request: FastifyRequest, target: AccessTarget): Promise<boolean> {
      const readOnly = request.method === 'GET' || request.method === 'HEAD';
      const bearer = presentedKey(request);
      if (bearer?.source === 'Authorization header' && looksLikeJwt(bearer.value)) {
        const shared = readOnly ? await sharedRecordingOf({ jwt: bearer.value }) : null;
        if (shared) openShare(request, shared, target);
        return shared !== null;
      }
      const accessToken = lastValue((request.query as Record<string, unknown> | undefined)?.sharing_access_token);
      if (!accessToken || bearer || sessionToken(request)) return false;
      if (!readOnly) throw new AuthenticationFailedError('Sharing access token can only be used for GET requests.');
      const shared = await sharedRecordingOf({ accessToken });
      if (!shared) throw new AuthenticationFailedError('Sharing access token is invalid.');
      openShare(request, shared, target);
      return true;
    }

    app.addHook('preValidation', async (request, reply) => {
      const access = request.routeOptions.config.access;
      if (access === undefined || access === 'public') return;

      if (access.sharedRecording && (await shareAuthentication(request, access.target))) return;

      const actor = await authenticate(request);
      if (!actor) throw new NotAuthenticatedError();
      request.actor = actor;

      if (actor.session) {
        if (UNSAFE_METHODS.has(request.method)) checkCsrf(request, trustedOrigins);
        else ensureCsrfCookie(request, reply);
        if (access.recentAuthentication && UNSAFE_METHODS.has(request.method) && !auth.isRecentlyAuthenticated(actor)) {
          throw new PermissionDeniedError('This action requires you to be recently authenticated.');
        }
      }

      if (actor.key) checkKeySupported(actor.key, access.scope);
      const subject = await resolveTarget(actor, access.target, request);
      if (actor.key) checkKeyAccess(actor.key, access.scope, access.target, subject);
      if (access.target.kind === 'team' && subject.membershipLevel === null) {
        throw new PermissionDeniedError("You don't have access to the project.");
      }

      if (actor.key) await throttle(request, access.throttle);
    });
  },
  { name: 'auth', dependencies: ['@fastify/cookie', '@fastify/rate-limit'] },
);

function throttleKey(request: FastifyRequest): string {
  return request.actor?.key?.secureValue ?? request.ip;
}
