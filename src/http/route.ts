import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';

// What the auth plugin puts on the request (see the FastifyRequest augmentation in auth.ts), without its nulls.
type Actor = NonNullable<FastifyRequest['actor']>;
type TeamAccess = NonNullable<FastifyRequest['teamAccess']>;
type OrganizationAccess = NonNullable<FastifyRequest['organizationAccess']>;

/** A module's routes: a plugin that already holds the module's own service. */
export type RoutePlugin = FastifyPluginAsyncZod;

/**
 * What the auth plugin resolved for a route, read by its handler. The route's declared access guarantees it is
 * there (a team target sets the team, any non-public route the actor), so a missing one is a declaration mistake.
 */
function resolved<T>(value: T | null, what: string, request: FastifyRequest): T {
  if (value === null) throw new Error(`${request.method} ${request.routeOptions.url} has no ${what}: check its declared access`);
  return value;
}

export const actorOf = (request: FastifyRequest): Actor => resolved(request.actor, 'actor', request);

export const teamOf = (request: FastifyRequest): TeamAccess => resolved(request.teamAccess, 'team', request);

export const organizationOf = (request: FastifyRequest): OrganizationAccess =>
  resolved(request.organizationAccess, 'organization', request);
