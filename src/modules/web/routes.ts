import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { RouteAccess } from '../../access/route-access.js';
import { prefersHtml } from '../../http/negotiation.js';
import { actorOf, type RoutePlugin } from '../../http/route.js';
import { ErrorSchema } from '../../http/schemas.js';
import { ensureCsrfCookie } from '../../http/session-cookies.js';
import { AuthenticationFailedError, NotAuthenticatedError, NotFoundError } from '../../lib/errors.js';
import { WEB_ASSETS } from './assets.js';
import { exportsPage } from './pages/exports.js';
import { heatmapPage, heatmapsPage } from './pages/heatmaps.js';
import { homePage } from './pages/home.js';
import { loginPage } from './pages/login.js';
import { replayPage } from './pages/replay.js';
import { subscriptionsPage } from './pages/subscriptions.js';
import type { WebPaths } from './paths.js';

const HtmlPage = z.string().meta({ description: 'text/html' });
const Redirect = z.null().meta({ description: 'Not signed in: to the sign-in page, with this page as next' });
/** Signed-in browser sessions only; the pages themselves read everything through the API with that session. */
const signedIn: RouteAccess = { scope: 'sessions-only', target: { kind: 'user' } };
const tags = ['web'];

/**
 * Only Burrow's own script and style run or load; the pages show images of this server only (screenshots, overlays,
 * thumbnails) and post forms to it; no page may be framed.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

function sendPage(reply: FastifyReply, html: string): FastifyReply {
  return reply
    .header('content-security-policy', CONTENT_SECURITY_POLICY)
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'same-origin')
    .header('x-content-type-options', 'nosniff')
    .type('text/html; charset=utf-8')
    .send(html);
}

const userOf = (request: FastifyRequest) => actorOf(request).user.email;

export interface WebRouteOptions {
  paths: WebPaths;
  /** The api_host of the posthog-js snippet: SITE_URL, or http://localhost:PORT. */
  apiHost: string;
  version: string;
}

/**
 * Burrow's own pages for people: sign-in, home (project, snippet, personal API keys), heatmaps, replay, exports and
 * subscriptions, under the base path, with their style sheet and script. A visit without a session is sent to the
 * sign-in page, which comes back to the page afterwards.
 */
export const webRoutes =
  ({ paths, apiHost, version }: WebRouteOptions): RoutePlugin =>
  async (app) => {
    app.setErrorHandler((error, request, reply) => {
      if (error instanceof NotAuthenticatedError || error instanceof AuthenticationFailedError) {
        return reply.header('cache-control', 'no-store').redirect(`${paths.login}?next=${encodeURIComponent(request.url)}`, 302);
      }
      throw error;
    });

    app.get(
      paths.login,
      {
        config: { access: 'public' },
        schema: {
          operationId: 'web_login_page',
          tags,
          summary: 'The sign-in page (a browser session through POST /api/login/), then on to next',
          querystring: z.object({ next: z.string().max(2000).optional().meta({ description: 'A path of these pages to open after signing in' }) }),
          response: { 200: HtmlPage },
        },
      },
      async (request, reply) => {
        ensureCsrfCookie(request, reply);
        return sendPage(reply, loginPage(paths, paths.safeNext(request.query.next), version));
      },
    );

    app.get(
      paths.home,
      {
        config: { access: signedIn },
        // API clients asking for JSON at the root keep their 404, signed in or not.
        onRequest: async (request) => {
          if (!prefersHtml(request.headers.accept)) throw new NotFoundError('Endpoint not found.');
        },
        schema: {
          operationId: 'web_home_page',
          tags,
          summary: 'For a browser (Accept: text/html): the project, its posthog-js snippet and your personal API keys; API clients get 404',
          response: { 200: HtmlPage, 302: Redirect, 404: ErrorSchema },
        },
      },
      async (request, reply) => sendPage(reply, homePage(paths, userOf(request), apiHost)),
    );

    app.get(
      paths.heatmaps,
      {
        config: { access: signedIn },
        schema: { operationId: 'web_heatmaps_page', tags, summary: 'The saved heatmaps, with status and thumbnails', response: { 200: HtmlPage, 302: Redirect } },
      },
      async (request, reply) => sendPage(reply, heatmapsPage(paths, userOf(request))),
    );

    app.get(
      `${paths.heatmaps}/:short_id`,
      {
        config: { access: signedIn },
        schema: {
          operationId: 'web_heatmap_page',
          tags,
          summary: 'A saved heatmap: its screenshot with the overlay, a width picker, data type and dates, regenerate and export to PNG',
          params: z.object({ short_id: z.string().max(200) }),
          response: { 200: HtmlPage, 302: Redirect },
        },
      },
      async (request, reply) => sendPage(reply, heatmapPage(paths, userOf(request), request.params.short_id)),
    );

    app.get(
      paths.replay,
      {
        config: { access: signedIn },
        schema: {
          operationId: 'web_replay_page',
          tags,
          summary: 'The recordings, filtered by date range, visited URL, duration and console errors, with play, share and export',
          querystring: z.object({
            date_from: z.string().max(40).optional().meta({ description: 'A relative date (-3d, the default)' }),
            date_to: z.string().max(40).optional().meta({ description: 'A day (YYYY-MM-DD)' }),
            url: z.string().max(2000).optional().meta({ description: 'Recordings that visited a URL containing this' }),
            min_duration: z.string().max(20).optional().meta({ description: 'Recordings longer than this many seconds' }),
            console_errors: z.string().max(10).optional().meta({ description: 'Any value: recordings with console errors only' }),
          }),
          response: { 200: HtmlPage, 302: Redirect },
        },
      },
      async (request, reply) => sendPage(reply, replayPage(paths, userOf(request), request.query)),
    );

    app.get(
      paths.exports,
      {
        config: { access: signedIn },
        schema: { operationId: 'web_exports_page', tags, summary: 'Your exports, with download links', response: { 200: HtmlPage, 302: Redirect } },
      },
      async (request, reply) => sendPage(reply, exportsPage(paths, userOf(request))),
    );

    app.get(
      paths.subscriptions,
      {
        config: { access: signedIn },
        schema: {
          operationId: 'web_subscriptions_page',
          tags,
          summary: "The project's subscriptions, and a form to subscribe to a saved heatmap or a recordings query",
          response: { 200: HtmlPage, 302: Redirect },
        },
      },
      async (request, reply) => sendPage(reply, subscriptionsPage(paths, userOf(request))),
    );

    app.get(
      `${paths.basePath}/web-assets/:file`,
      {
        config: { access: 'public' },
        schema: {
          operationId: 'web_asset',
          tags,
          summary: "The pages' style sheet and script (cached for good under their ?v= version)",
          params: z.object({ file: z.string() }),
          querystring: z.object({ v: z.string().optional().meta({ description: 'The version the pages link to' }) }),
          response: { 200: z.string().meta({ description: 'text/css or application/javascript' }), 404: ErrorSchema },
        },
      },
      async (request, reply) => {
        const asset = Object.hasOwn(WEB_ASSETS, request.params.file) ? WEB_ASSETS[request.params.file] : undefined;
        if (!asset) throw new NotFoundError();
        const current = request.query.v === asset.version;
        return reply
          .header('cache-control', current ? 'public, max-age=31536000, immutable' : 'no-cache')
          .header('etag', `"${asset.version}"`)
          .header('x-content-type-options', 'nosniff')
          .type(asset.type)
          .send(asset.body);
      },
    );
  };
