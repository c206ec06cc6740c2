import { teamOf } from '../../http/route.js';
import { teamRoutes } from '../../http/team-routes.js';
import {
  SessionPropertyDefinitionListSchema,
  SessionPropertyDefinitionsQuery,
  SessionPropertyValuesQuery,
  SessionPropertyValuesSchema,
} from './contract.js';
import type { SessionsService } from './service.js';

// PostHog's SessionViewSet: scope object "query", with both actions among its read actions.
const read = { object: 'query', action: 'read' } as const;

/** Session properties and their values (/sessions/property_definitions/, /sessions/values/), under both prefixes. */
export const sessionsRoutes = (sessions: SessionsService) => teamRoutes(async (app, { team }) => {
  const tags = ['sessions'];

  app.get(
    '/sessions/property_definitions/',
    {
      config: { access: { scope: read, target: team } },
      schema: {
        operationId: 'sessions_property_definitions_retrieve',
        tags,
        summary: 'The session properties (all of them: no pagination), optionally searched and split by is_numerical',
        querystring: SessionPropertyDefinitionsQuery,
        response: { 200: SessionPropertyDefinitionListSchema },
      },
    },
    async (request) => sessions.propertyDefinitions(request.query.search, request.query.is_numerical),
  );

  app.get(
    '/sessions/values/',
    {
      config: { access: { scope: read, target: team } },
      schema: {
        operationId: 'sessions_values_retrieve',
        tags,
        summary: "A session property's 20 most frequent values in the team's 100,000 most recent sessions; a missing key is a 400",
        querystring: SessionPropertyValuesQuery,
        response: { 200: SessionPropertyValuesSchema },
      },
    },
    async (request) => sessions.values(teamOf(request), request.query.key, request.query.value),
  );
});
