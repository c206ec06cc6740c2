import { z } from 'zod';
import { PaginationQuery, paginated, pageParams } from '../../http/pagination.js';
import { actorOf, teamOf } from '../../http/route.js';
import { teamRoutes } from '../../http/team-routes.js';
import type { PersistedFoldersService } from './service.js';
import {
  PatchPersistedFolderBody,
  PersistedFolderBody,
  PersistedFolderListSchema,
  PersistedFolderParams,
  PersistedFolderSchema,
} from './contract.js';

const read = { object: 'persisted_folder', action: 'read' } as const;
const write = { object: 'persisted_folder', action: 'write' } as const;

/** The caller's own sidebar folders (/persisted_folder/), under both prefixes; other users' folders are 404. */
export const persistedFoldersRoutes = (folders: PersistedFoldersService) => teamRoutes(async (app, { team }) => {
  const tags = ['persisted_folder'];

  app.get(
    '/persisted_folder/',
    {
      config: { access: { scope: read, target: team } },
      schema: {
        operationId: 'persisted_folder_list',
        tags,
        summary: "The caller's persisted folders, by type",
        querystring: PaginationQuery,
        response: { 200: PersistedFolderListSchema },
      },
    },
    async (request) => {
      const page = pageParams(request.query);
      const { count, results } = await folders.list(teamOf(request), actorOf(request), page);
      return paginated(request, page, count, results);
    },
  );

  app.post(
    '/persisted_folder/',
    {
      config: { access: { scope: write, target: team } },
      schema: {
        operationId: 'persisted_folder_create',
        tags,
        summary: "Set the caller's folder of this type: created, or protocol and path replaced (omitted ones reset to their defaults); always 201",
        body: PersistedFolderBody,
        response: { 201: PersistedFolderSchema },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await folders.create(teamOf(request), actorOf(request), request.body)),
  );

  app.get(
    '/persisted_folder/:id/',
    {
      config: { access: { scope: read, target: team } },
      schema: { operationId: 'persisted_folder_retrieve', tags, params: PersistedFolderParams, response: { 200: PersistedFolderSchema } },
    },
    async (request) => folders.retrieve(teamOf(request), actorOf(request), request.params.id),
  );

  for (const method of ['PUT', 'PATCH'] as const) {
    app.route({
      method,
      url: '/persisted_folder/:id/',
      config: { access: { scope: write, target: team } },
      schema: {
        operationId: method === 'PUT' ? 'persisted_folder_update' : 'persisted_folder_partial_update',
        tags,
        summary: 'Change the given fields; a type the caller already has another folder of is a 400 on `type`',
        params: PersistedFolderParams,
        body: method === 'PUT' ? PersistedFolderBody : PatchPersistedFolderBody,
        response: { 200: PersistedFolderSchema },
      },
      handler: async (request) =>
        folders.update(teamOf(request), actorOf(request), request.params.id, request.body ?? {}),
    });
  }

  app.delete(
    '/persisted_folder/:id/',
    {
      config: { access: { scope: write, target: team } },
      schema: { operationId: 'persisted_folder_destroy', tags, params: PersistedFolderParams, response: { 204: z.null() } },
    },
    async (request, reply) => {
      await folders.destroy(teamOf(request), actorOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );
});
