import { z } from 'zod';
import type { RouteAccess } from '../../access/route-access.js';
import { actorOf, type RoutePlugin } from '../../http/route.js';
import type { ApiKeysService } from './service.js';
import { CreatePersonalApiKeyBody, PersonalApiKeyParams, PersonalApiKeySchema, UpdatePersonalApiKeyBody } from './contract.js';

/** PostHog's PersonalApiKeySelfAccessPermission: a key may only read itself; everything else needs a session. */
const sessionOnly: RouteAccess = { scope: 'sessions-only', target: { kind: 'user' }, recentAuthentication: true };
const selfRead: RouteAccess = { scope: 'any', target: { kind: 'user' } };
const tags = ['personal_api_keys'];

export const personalApiKeysRoutes = (apiKeys: ApiKeysService): RoutePlugin => async (app) => {
  app.get(
    '/api/personal_api_keys/',
    {
      config: { access: sessionOnly },
      schema: { operationId: 'personal_api_keys_list', tags, summary: 'Your keys, newest first (not paginated)', response: { 200: z.array(PersonalApiKeySchema) } },
    },
    async (request) => apiKeys.list(actorOf(request)),
  );

  app.post(
    '/api/personal_api_keys/',
    {
      config: { access: sessionOnly },
      schema: {
        operationId: 'personal_api_keys_create',
        tags,
        summary: 'Create a key; its value is shown only in this response',
        body: CreatePersonalApiKeyBody,
        response: { 201: PersonalApiKeySchema },
      },
    },
    async (request, reply) => reply.code(201).send(await apiKeys.create(actorOf(request), request.body)),
  );

  app.get(
    '/api/personal_api_keys/:id/',
    {
      config: { access: selfRead },
      schema: { operationId: 'personal_api_keys_retrieve', tags, params: PersonalApiKeyParams, response: { 200: PersonalApiKeySchema } },
    },
    async (request) => apiKeys.retrieve(actorOf(request), request.params.id),
  );

  for (const method of ['PATCH', 'PUT'] as const) {
    app.route({
      method,
      url: '/api/personal_api_keys/:id/',
      config: { access: sessionOnly },
      schema: {
        operationId: method === 'PATCH' ? 'personal_api_keys_partial_update' : 'personal_api_keys_update',
        tags,
        params: PersonalApiKeyParams,
        body: method === 'PATCH' ? UpdatePersonalApiKeyBody : CreatePersonalApiKeyBody,
        response: { 200: PersonalApiKeySchema },
      },
      handler: async (request) => apiKeys.update(actorOf(request), request.params.id, request.body ?? {}),
    });
  }

  app.delete(
    '/api/personal_api_keys/:id/',
    {
      config: { access: sessionOnly },
      schema: { operationId: 'personal_api_keys_destroy', tags, params: PersonalApiKeyParams, response: { 204: z.null() } },
    },
    async (request, reply) => {
      await apiKeys.delete(actorOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/personal_api_keys/:id/roll/',
    {
      config: { access: sessionOnly },
      schema: {
        operationId: 'personal_api_keys_roll_create',
        tags,
        summary: 'Replace the key value; the old value stops working',
        params: PersonalApiKeyParams,
        response: { 200: PersonalApiKeySchema },
      },
    },
    async (request) => apiKeys.roll(actorOf(request), request.params.id),
  );
};
