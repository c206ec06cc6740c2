import type { FastifyInstance, RouteOptions } from 'fastify';
import { MethodNotAllowedError } from '../lib/errors.js';
import { ErrorSchema } from './schemas.js';
import type { RouteAccess } from '../access/route-access.js';

const ROUTED_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

function security(access: RouteAccess | 'public'): Record<string, string[]>[] | undefined {
  if (access === 'public' || typeof access.scope === 'string') return undefined;
  return [{ PersonalAPIKeyAuth: [`${access.scope.object}:${access.scope.action}`] }];
}

/**
 * Conventions every route gets without repeating them:
 * - an /api route must declare its access (start-up fails otherwise, so nothing is public by accident);
 * - the OpenAPI document shows each route's key scope (as PostHog's) and PostHog's error body for 4xx answers;
 * - a path that exists answers other methods with 405 `Method "PUT" not allowed.` (call `addMethodNotAllowedRoutes`
 *   after every route is registered).
 */
export function applyRouteConventions(app: FastifyInstance): { addMethodNotAllowedRoutes(): void } {
  const methodsByUrl = new Map<string, { methods: Set<string>; isPublic: boolean }>();

  app.addHook('onRoute', (route: RouteOptions) => {
    const access = route.config?.access;
    if (route.url.startsWith('/api') && access === undefined) throw new Error(`Route ${route.method} ${route.url} declares no access`);
    const entry = methodsByUrl.get(route.url) ?? { methods: new Set<string>(), isPublic: true };
    for (const method of [route.method].flat()) entry.methods.add(method);
    entry.isPublic &&= access === 'public';
    methodsByUrl.set(route.url, entry);
    if (!route.schema || access === undefined || route.schema.hide) return;
    // Fresh arrays, so the YAML document has no anchors for shared ones.
    if (route.schema.tags) route.schema.tags = [...route.schema.tags];
    const responses = (route.schema.response ?? {}) as Record<string, unknown>;
    const errors = access === 'public' ? ['400'] : ['400', '401', '403', '404', '429'];
    for (const status of errors) responses[status] ??= ErrorSchema;
    route.schema.response = responses;
    const scopes = security(access);
    if (scopes) route.schema.security = scopes;
  });

  return {
    addMethodNotAllowedRoutes() {
      for (const [url, { methods, isPublic }] of [...methodsByUrl]) {
        const missing = ROUTED_METHODS.filter((m) => !methods.has(m));
        if (missing.length === 0 || !url.startsWith('/api')) continue;
        // Like DRF, authenticate first: only a caller who could use the path learns which methods it has.
        app.route({
          method: missing,
          url,
          config: { access: isPublic ? 'public' : { scope: 'any', target: { kind: 'user' } } },
          schema: { hide: true },
          handler: async (request) => {
            throw new MethodNotAllowedError(request.method);
          },
        });
      }
    },
  };
}
