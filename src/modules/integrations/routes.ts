import { z } from 'zod';
import { PaginationQuery, paginated, pageParams } from '../../http/pagination.js';
import { actorOf, teamOf } from '../../http/route.js';
import { teamRoutes } from '../../http/team-routes.js';
import { CreateIntegrationBody, IntegrationListSchema, IntegrationParams, IntegrationSchema, SlackChannelsQuery, SlackChannelsSchema } from './contract.js';
import type { IntegrationsService } from './service.js';

const read = { object: 'integration', action: 'read' } as const;
const write = { object: 'integration', action: 'write' } as const;

/** Integrations under both prefixes: Slack workspaces connected by bot token (subscriptions post to their channels). */
export const integrationsRoutes = (integrations: IntegrationsService) =>
  teamRoutes(async (app, { team }) => {
    const tags = ['integrations'];

    app.get(
      '/integrations/',
      {
        config: { access: { scope: read, target: team } },
        schema: { operationId: 'integrations_list', tags, summary: 'The integrations of this project', querystring: PaginationQuery, response: { 200: IntegrationListSchema } },
      },
      async (request) => {
        const page = pageParams(request.query);
        const { results, count } = await integrations.list(teamOf(request), page);
        return paginated(request, page, count, results);
      },
    );

    app.post(
      '/integrations/',
      {
        config: { access: { scope: write, target: team } },
        schema: {
          operationId: 'integrations_create',
          tags,
          summary: 'Connect a Slack workspace from a bot token (checked with Slack); the same workspace again replaces its token',
          body: CreateIntegrationBody,
          response: { 201: IntegrationSchema },
        },
      },
      async (request, reply) => reply.code(201).send(await integrations.create(teamOf(request), actorOf(request), request.body)),
    );

    app.get(
      '/integrations/:id/',
      {
        config: { access: { scope: read, target: team } },
        schema: { operationId: 'integrations_retrieve', tags, params: IntegrationParams, response: { 200: IntegrationSchema } },
      },
      async (request) => integrations.retrieve(teamOf(request), request.params.id),
    );

    app.delete(
      '/integrations/:id/',
      {
        config: { access: { scope: write, target: team } },
        schema: {
          operationId: 'integrations_destroy',
          tags,
          summary: 'Disconnect; its Slack subscriptions are left without an integration (and disabled at their next delivery)',
          params: IntegrationParams,
          response: { 204: z.null() },
        },
      },
      async (request, reply) => {
        await integrations.delete(teamOf(request), request.params.id);
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/integrations/:id/channels/',
      {
        config: { access: { scope: read, target: team } },
        schema: {
          operationId: 'integrations_channels_retrieve',
          tags,
          summary: 'The Slack channels the bot can see (cached for an hour)',
          params: IntegrationParams,
          querystring: SlackChannelsQuery,
          response: { 200: SlackChannelsSchema },
        },
      },
      async (request) => integrations.channels(teamOf(request), request.params.id, request.query),
    );
  });
