import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { bearerCredential } from '../../http/auth.js';
import { prefersHtml } from '../../http/negotiation.js';
import type { RoutePlugin } from '../../http/route.js';
import { ErrorSchema } from '../../http/schemas.js';
import { NotFoundError, ThrottledError } from '../../lib/errors.js';
import { looksLikeJwt } from '../../lib/jwt.js';
import { PLAYER_ASSETS } from './player-assets.js';
import { recordingPlayerPage } from './player-page.js';
import { contentSecurityPolicy, notFoundPage, unlockPage } from './public-pages.js';
import { SHARE_TOKEN_TTL_SECONDS, type SharingService } from './service.js';

/** Answers a /static/<file> that is not one of the player's (the PostHog web app's files, when Burrow serves it). */
export type StaticFallback = (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>;

/** PostHog's cookie of an unlocked password share, scoped to the share's path. */
const SHARE_COOKIE = 'posthog_sharing_token';
/** Password attempts per link and client address in a minute, before 429s. */
const UNLOCK_ATTEMPTS_PER_MINUTE = 10;

const TokenParams = z.object({ token: z.string().max(420) });
const UnlockBody = z.looseObject({ password: z.unknown().optional() });
const PAGES = [
  { prefix: '/shared', type: 'scene' as const },
  { prefix: '/embedded', type: 'embed' as const },
];

/** The JWT of an unlock: the Bearer header's (API clients) or the share path's cookie (browsers). */
function unlockJwt(request: FastifyRequest): string | undefined {
  const bearer = bearerCredential(request);
  if (bearer && looksLikeJwt(bearer)) return bearer;
  return request.cookies[SHARE_COOKIE];
}

/** A link's path without an extension (/shared/<token>.json -> /shared/<token>), which the unlock cookie is scoped to. */
const pagePath = (request: FastifyRequest) => request.url.split('?')[0]!.replace(/\.json$/, '');

/**
 * The public pages of share links (session_recordings.md §10.4 and §10.5): /shared/<token> and /embedded/<token> play
 * the recording; <token>.json answers the page's data. An unknown, turned-off or expired link is a 404 page; a
 * password-protected one shows its unlock form until a POST of a right password.
 */
export const sharingPublicRoutes =
  (sharing: SharingService, staticFallback?: StaticFallback): RoutePlugin =>
  async (app) => {
    const tags = ['sharing'];
    const unlockAttempts = app.createRateLimit({
      max: UNLOCK_ATTEMPTS_PER_MINUTE,
      timeWindow: 60_000,
      keyGenerator: (request: FastifyRequest) => `share-unlock:${(request.params as { token: string }).token}:${request.ip}`,
    });

    const html = (reply: FastifyReply, status: number, body: string, csp: { embedded: boolean; remoteAssets: boolean }) =>
      reply.code(status).header('content-security-policy', contentSecurityPolicy(csp)).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(body);

    for (const { prefix, type } of PAGES) {
      const embedded = type === 'embed';
      const name = embedded ? 'embedded' : 'shared';

      app.get(
        `${prefix}/:token`,
        {
          config: { access: 'public' },
          schema: {
            operationId: `${name}_recording_page`,
            tags,
            summary: `The ${embedded ? 'iframe page' : 'full page'} of a recording's share link; <token>.json answers its data`,
            params: TokenParams,
            response: {
              200: z.union([z.string().meta({ description: 'text/html' }), z.record(z.string(), z.unknown())]),
              401: z.object({ error: z.string() }),
              404: z.union([z.string().meta({ description: 'text/html, for browsers' }), ErrorSchema]),
            },
          },
        },
        async (request, reply) => {
          // Browsers get pages; API clients (no text/html in Accept) and <token>.json get JSON.
          const json = request.params.token.endsWith('.json') || !prefersHtml(request.headers.accept);
          const page = await sharing.page(request.params.token.replace(/\.json$/, ''), type, unlockJwt(request));
          if (page === null) {
            if (json) throw new NotFoundError();
            return html(reply, 404, notFoundPage(), { embedded, remoteAssets: false });
          }
          if (page === 'password') return json ? reply.code(401).send({ error: 'Password required' }) : html(reply, 200, unlockPage(false), { embedded, remoteAssets: false });
          if (json) return reply.header('cache-control', 'no-store').send(page.data);
          return html(reply, 200, recordingPlayerPage(page.data, page.source), { embedded, remoteAssets: page.remoteAssets });
        },
      );

      app.post(
        `${prefix}/:token`,
        {
          config: { access: 'public' },
          schema: {
            operationId: `${name}_recording_unlock`,
            tags,
            summary: "Unlock a password-protected link: a JWT for 24 hours, also set as the link path's HttpOnly cookie",
            description: 'A form post (the unlock page) is redirected back to the page instead.',
            params: TokenParams,
            body: UnlockBody,
            response: {
              200: z.object({ shareToken: z.string() }),
              303: z.null(),
              401: z.union([z.object({ error: z.string() }), z.string().meta({ description: 'text/html, for a form post' })]),
              404: z.union([z.string().meta({ description: 'text/html, for browsers' }), ErrorSchema]),
              429: ErrorSchema,
            },
          },
        },
        async (request, reply) => {
          const limit = await unlockAttempts(request);
          if (!limit.isAllowed && limit.isExceeded) throw new ThrottledError(limit.ttlInSeconds);
          const form = request.headers['content-type']?.startsWith('application/x-www-form-urlencoded') ?? false;
          const password = Array.isArray(request.body?.password) ? request.body.password.at(-1) : request.body?.password;
          const result = await sharing.unlock(request.params.token.replace(/\.json$/, ''), password, { ip: request.ip });
          if (result === null) {
            if (!form) throw new NotFoundError();
            return html(reply, 404, notFoundPage(), { embedded, remoteAssets: false });
          }
          if (result === 'incorrect') {
            return form ? html(reply, 401, unlockPage(true), { embedded, remoteAssets: false }) : reply.code(401).send({ error: 'Incorrect password' });
          }
          const path = pagePath(request);
          reply.setCookie(SHARE_COOKIE, result.shareToken, { maxAge: SHARE_TOKEN_TTL_SECONDS, path, httpOnly: true, secure: request.protocol === 'https', sameSite: 'lax' });
          return form ? reply.code(303).header('location', path).send(null) : reply.send(result);
        },
      );
    }

    app.get(
      '/static/:file',
      {
        config: { access: 'public' },
        schema: {
          operationId: 'player_asset',
          tags,
          summary: "The player's files (rrweb-player and Burrow's page script), and posthog-js's own (array.js and the scripts it loads beside it)",
          params: z.object({ file: z.string() }),
          response: { 200: z.string().meta({ description: 'application/javascript or text/css; posthog-js files with access-control-allow-origin *' }), 404: ErrorSchema },
        },
      },
      async (request, reply) => {
        const asset = Object.hasOwn(PLAYER_ASSETS, request.params.file) ? PLAYER_ASSETS[request.params.file] : undefined;
        if (!asset && staticFallback) return staticFallback(request, reply);
        if (!asset) throw new NotFoundError();
        return reply.type(asset.type).header('cache-control', 'public, max-age=3600').header('x-content-type-options', 'nosniff').send(asset.body);
      },
    );
  };
