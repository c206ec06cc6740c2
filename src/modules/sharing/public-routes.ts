import { z } from 'zod';
import { prefersHtml } from '../../http/negotiation.js';
import type { RoutePlugin } from '../../http/route.js';
import { ErrorSchema } from '../../http/schemas.js';
import { NotFoundError } from '../../lib/errors.js';
import { PLAYER_ASSETS } from './player-assets.js';
import { recordingPlayerPage } from './player-page.js';
import { contentSecurityPolicy, notFoundPage, passwordProtectedPage } from './public-pages.js';
import type { SharingService } from './service.js';

const TokenParams = z.object({ token: z.string().max(420) });
const PAGES = [
  { prefix: '/shared', type: 'scene' as const },
  { prefix: '/embedded', type: 'embed' as const },
];

/**
 * The public pages of share links (session_recordings.md §10.4): /shared/<token> and /embedded/<token> play the
 * recording; <token>.json answers the page's data. An unknown, turned-off or expired link is a 404 page.
 */
export const sharingPublicRoutes =
  (sharing: SharingService): RoutePlugin =>
  async (app) => {
    const tags = ['sharing'];
    for (const { prefix, type } of PAGES) {
      app.get(
        `${prefix}/:token`,
        {
          config: { access: 'public' },
          schema: {
            operationId: `${type === 'scene' ? 'shared' : 'embedded'}_recording_page`,
            tags,
            summary: `The ${type === 'scene' ? 'full page' : 'iframe page'} of a recording's share link; <token>.json answers its data`,
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
          const token = request.params.token.replace(/\.json$/, '');
          const shared = await sharing.exportedRecording(token, type);
          const html = (status: 200 | 404, body: string) =>
            reply.code(status).header('content-security-policy', contentSecurityPolicy(type === 'embed')).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(body);
          if (shared === null) {
            if (json) throw new NotFoundError();
            return html(404, notFoundPage());
          }
          if (shared === 'password') return json ? reply.code(401).send({ error: 'Password required' }) : html(200, passwordProtectedPage());
          return json ? reply.header('cache-control', 'no-store').send(shared) : html(200, recordingPlayerPage(shared, sharing.playerSource(shared)));
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
          summary: "The share pages' player (rrweb-player) and its script",
          params: z.object({ file: z.string() }),
          response: { 200: z.string().meta({ description: 'application/javascript or text/css' }), 404: ErrorSchema },
        },
      },
      async (request, reply) => {
        const asset = Object.hasOwn(PLAYER_ASSETS, request.params.file) ? PLAYER_ASSETS[request.params.file] : undefined;
        if (!asset) throw new NotFoundError();
        return reply.type(asset.type).header('cache-control', 'public, max-age=3600').header('x-content-type-options', 'nosniff').send(asset.body);
      },
    );
  };
