import type { RouteOptions } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AccessTarget } from '../access/route-access.js';
import type { RoutePlugin } from './route.js';

export type TeamTarget = Extract<AccessTarget, { kind: 'team' }>;

/** A team-scoped resource: its routes use `team` as their access target and never name the prefix themselves. */
export type TeamRoutePlugin = FastifyPluginAsyncZod<{ team: TeamTarget }>;

const PREFIXES = [
  {
    path: '/api/projects/:project_id',
    param: 'project_id',
    operationPrefix: '',
    deprecated: false,
    description: "Project ID of the project you're trying to access. To find the ID of the project, make a call to /api/projects/.",
  },
  {
    path: '/api/environments/:environment_id',
    param: 'environment_id',
    operationPrefix: 'environments_',
    deprecated: true,
    description: 'Deprecated. Use /api/projects/{project_id}/ instead.',
  },
] as const;

/**
 * Serves a team-scoped resource under both /api/projects/:project_id/ and /api/environments/:environment_id/ with
 * one set of handlers, as PostHog's dual registration: in both the id is a team id or @current. The environments
 * copies get `environments_` operation ids and are marked deprecated, as in PostHog's schema.
 */
export function teamRoutes(plugin: TeamRoutePlugin): RoutePlugin {
  return async (app) => {
    for (const prefix of PREFIXES) {
      await app.register(
        async (scope) => {
          scope.addHook('onRoute', (route: RouteOptions) => {
            const schema = route.schema;
            if (!schema || schema.hide) return;
            const teamParam = z.object({ [prefix.param]: z.string().meta({ description: prefix.description }) });
            const own = schema.params as z.ZodObject | undefined;
            // A new object: Fastify's automatic HEAD route shares the GET route's schema, so editing in place would
            // prefix its operation id twice.
            route.schema = {
              ...schema,
              params: own ? teamParam.extend(own.shape) : teamParam,
              ...(schema.operationId && { operationId: `${prefix.operationPrefix}${schema.operationId}` }),
              ...(prefix.deprecated && { deprecated: true }),
            };
          });
          await scope.register(plugin, { team: { kind: 'team', param: prefix.param } });
        },
        { prefix: prefix.path },
      );
    }
  };
}
