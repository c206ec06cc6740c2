import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { actorOf, type RoutePlugin } from '../../http/route.js';
import { ErrorSchema } from '../../http/schemas.js';
import { ensureCsrfCookie, sessionToken } from '../../http/session-cookies.js';
import { teamRoutes } from '../../http/team-routes.js';
import { ALLOW_LIST, type AllowListed } from './allow-list.js';
import { DefaultsSchema, EmptyListSchema, EmptyPageSchema, emptyPage, PreflightSchema } from './contract.js';
import type { WebappService } from './service.js';
import { openStaticFile, staticRoot } from './static-files.js';

const origin = (request: FastifyRequest) => new URL(request.absoluteUrl()).origin;

/** The operation id of an allow-listed path: its words, as PostHog's schema names its list and retrieve operations. */
const operationId = (entry: AllowListed) =>
  `${entry.where === 'organization' ? 'organizations_' : ''}${entry.path.replace(/^\/api\//, '').replace(/@me/g, 'me').replace(/[^a-z0-9]+/gi, '_').replace(/^_|_$/g, '')}_empty`;

type Answer = Record<string, unknown> | never[] | ReturnType<typeof emptyPage>;

function answerOf(entry: AllowListed, request: FastifyRequest): Answer {
  if (entry.answer === 'page') return emptyPage();
  if (entry.answer === 'list') return [];
  if (entry.path === '/api/users/@me/hedgehog_config/') return actorOf(request).user.hedgehogConfig ?? {};
  return entry.answer.object;
}

const responseOf = (entry: AllowListed) => (entry.answer === 'page' ? EmptyPageSchema : entry.answer === 'list' ? EmptyListSchema : DefaultsSchema);

function schemaOf(entry: AllowListed, params?: z.ZodObject) {
  return {
    operationId: operationId(entry),
    tags: ['webapp'],
    summary: `Empty for PostHog's web app (Burrow has no such feature): ${entry.why}`,
    ...(params && { params }),
    response: { 200: responseOf(entry) },
  };
}

/** GET /_preflight/ and the allow-list of empty answers (allow-list.ts): served whether or not a frontend is configured. */
export const webappApiRoutes =
  (webapp: WebappService): RoutePlugin =>
  async (app) => {
    app.get(
      '/_preflight/',
      {
        config: { access: 'public' },
        schema: {
          operationId: 'preflight',
          tags: ['webapp'],
          summary: "What PostHog's web app needs to know about the instance; more for a signed-in browser session",
          response: { 200: PreflightSchema },
        },
      },
      async (request, reply) => {
        reply.header('cache-control', 'max-age=0, no-cache, no-store, must-revalidate, private');
        return webapp.preflight(await webapp.sessionActor(sessionToken(request)), origin(request));
      },
    );

    for (const entry of ALLOW_LIST.filter((e) => e.where === 'user')) {
      app.get(
        entry.path,
        { config: { access: { scope: { object: entry.scope, action: 'read' }, target: { kind: 'user' } } }, schema: schemaOf(entry) },
        async (request) => answerOf(entry, request),
      );
    }

    for (const entry of ALLOW_LIST.filter((e) => e.where === 'organization')) {
      app.get(
        `/api/organizations/:id${entry.path}`,
        {
          config: { access: { scope: { object: entry.scope, action: 'read' }, target: { kind: 'organization', param: 'id' } } },
          schema: schemaOf(entry, z.object({ id: z.string().meta({ description: 'An organization UUID, or @current' }) })),
        },
        async (request) => answerOf(entry, request),
      );
    }

    await app.register(
      teamRoutes(async (scope, { team }) => {
        for (const entry of ALLOW_LIST.filter((e) => e.where === 'team')) {
          scope.get(
            entry.path,
            { config: { access: { scope: { object: entry.scope, action: 'read' }, target: team } }, schema: schemaOf(entry) },
            async (request) => answerOf(entry, request),
          );
        }
      }),
    );
  };

/**
 * First path segments that are never the web app's pages: the API, Burrow's own pages (/burrow), capture, and the
 * pages and files other modules serve. A GET under one of them that no route answers stays a 404.
 */
const NOT_PAGES = new Set([
  'api', 'static', 'burrow', '_preflight', '_health', 'docs', 'exporter', 'shared', 'embedded', 'array',
  's', 'e', 'i', 'batch', 'capture', 'track', 'engage', 'decide', 'flags', 'logout', 'uploaded_media', 'favicon.ico',
]);

const HtmlPage = z.string().meta({ description: 'text/html' });

/**
 * With POSTHOG_FRONTEND_DIR or POSTHOG_FRONTEND_URL: /static/* from the built frontend (or the dev server), and every
 * other browser path the web app's HTML shell with its preloaded context. Hidden from the API document.
 */
export const webappPageRoutes =
  (webapp: WebappService): RoutePlugin =>
  async (app) => {
    const frontend = webapp.frontend;
    if (!frontend) return;

    app.get(
      '/static/*',
      { config: { access: 'public' }, schema: { hide: true, response: { 200: z.unknown(), 404: ErrorSchema } } },
      async (request, reply) => serveStatic(webapp, request, reply),
    );

    app.get(
      '/*',
      { config: { access: 'public' }, schema: { hide: true, response: { 200: HtmlPage, 302: z.null(), 404: ErrorSchema } } },
      async (request, reply) => {
        const pathname = new URL(request.url, 'http://burrow').pathname;
        const first = pathname.split('/')[1] ?? '';
        if (NOT_PAGES.has(first)) {
          reply.callNotFound();
          return reply;
        }
        const actor = await webapp.sessionActor(sessionToken(request));
        if (!actor && !webapp.isPublicPage(pathname)) {
          // Django's redirect_to_login: /login?next=<the page, its query included>.
          const next = encodeURIComponent(request.url).replace(/%2F/g, '/');
          return reply.header('cache-control', 'no-store').redirect(`/login?next=${next}`, 302);
        }
        const context = await webapp.appContext(actor, pathname, origin(request));
        ensureCsrfCookie(request, reply);
        return reply
          .header('cache-control', actor ? 'no-store' : 'no-cache')
          .header('x-frame-options', 'DENY')
          .type('text/html; charset=utf-8')
          .send(await webapp.shell(context));
      },
    );
  };

/** A file of the built frontend, or a redirect to the dev server's; 404 for anything else. Also the player assets' fallback. */
export async function serveStatic(webapp: WebappService, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const frontend = webapp.frontend;
  const pathname = request.url.split('?')[0] ?? '';
  const relative = pathname.replace(/^\/static\//, '');
  if (frontend?.kind === 'url') return reply.redirect(`${frontend.url}/static/${relative}`, 302);
  const file = frontend ? await openStaticFile(staticRoot(frontend.dir), relative) : null;
  if (!file) {
    reply.callNotFound();
    return reply;
  }
  return reply
    .header('cache-control', file.cacheControl)
    .header('last-modified', file.lastModified.toUTCString())
    .header('content-length', file.size)
    .header('x-content-type-options', 'nosniff')
    .type(file.contentType)
    .send(file.stream);
}
