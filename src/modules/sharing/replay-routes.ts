import { z } from 'zod';
import type { RoutePlugin } from '../../http/route.js';
import { teamOf } from '../../http/route.js';
import { ErrorSchema } from '../../http/schemas.js';
import { NotFoundError } from '../../lib/errors.js';
import { recordingPlayerPage } from './player-page.js';
import { contentSecurityPolicy } from './public-pages.js';
import type { SharingService } from './service.js';

const ReplayParams = z.object({ session_id: z.string().max(200) });
const HtmlPage = z.string().meta({ description: 'text/html' });

/**
 * The player for signed-in users, at the path of PostHog's web app (/project/<id>/replay/<session_id>, the recording
 * JSON's player_url); /replay/<session_id> opens it in the user's current project. Session cookies only: the page's
 * player reads the snapshots with the same session. When Burrow serves PostHog's web app, that app owns these paths
 * (and plays player_url itself), so this player moves under `basePath` (/burrow).
 */
export const replayRoutes =
  (sharing: SharingService, basePath = ''): RoutePlugin =>
  async (app) => {
    const tags = ['session_recordings'];

    app.get(
      `${basePath}/project/:team_id/replay/:session_id`,
      {
        config: { access: { scope: 'sessions-only', target: { kind: 'team', param: 'team_id' } } },
        schema: {
          operationId: 'recording_player_page',
          tags,
          summary: "A recording's player page, for a signed-in user of its project (?t=<seconds> starts there)",
          params: ReplayParams.extend({ team_id: z.string() }),
          response: { 200: HtmlPage, 404: ErrorSchema },
        },
      },
      async (request, reply) => {
        const page = await sharing.replayPage(teamOf(request).team, request.params.session_id);
        if (!page) throw new NotFoundError('Recording not found');
        return reply
          .header('content-security-policy', contentSecurityPolicy({ embedded: false, remoteAssets: page.remoteAssets }))
          .header('cache-control', 'no-store')
          .type('text/html; charset=utf-8')
          .send(recordingPlayerPage(page.data, page.source));
      },
    );

    app.get(
      `${basePath}/replay/:session_id`,
      {
        config: { access: 'public' },
        schema: {
          operationId: 'recording_player_redirect',
          tags,
          summary: "Redirects to the recording's player in the signed-in user's current project",
          params: ReplayParams,
          response: { 302: z.null() },
        },
      },
      async (request, reply) => {
        const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
        return reply.redirect(`${basePath}/project/@current/replay/${encodeURIComponent(request.params.session_id)}${query}`, 302);
      },
    );
  };
