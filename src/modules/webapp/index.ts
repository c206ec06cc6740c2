import type { FastifyReply, FastifyRequest } from 'fastify';
import { webappApiRoutes, webappPageRoutes, serveStatic } from './routes.js';
import { createWebappService, type WebappServiceDeps } from './service.js';

export type { WebappService } from './service.js';
export { ALLOW_LIST } from './allow-list.js';

/**
 * PostHog's web app served by Burrow (experimental): GET /_preflight/, the allow-list of empty answers for the
 * products Burrow does not have, and, when POSTHOG_FRONTEND_DIR or POSTHOG_FRONTEND_URL is set, /static/* and the
 * HTML shell with its preloaded context on every other browser path.
 */
export function createWebappModule(deps: WebappServiceDeps) {
  const service = createWebappService(deps);
  return {
    routes: [webappApiRoutes(service), webappPageRoutes(service)],
    service,
    /** /static/<file> the player assets' route does not have (modules/sharing): the built frontend's, if any. */
    staticFallback: service.frontend ? (request: FastifyRequest, reply: FastifyReply) => serveStatic(service, request, reply) : undefined,
  };
}
