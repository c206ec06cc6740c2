import { z } from 'zod';
import { buildPage, PaginationQuery, pageParams } from '../../lib/pagination.js';
import { teamRoutes } from '../team-routes.js';
import {
  PatchPersistedFolderBody,
  PersistedFolderBody,
  PersistedFolderListSchema,
  PersistedFolderParams,
  PersistedFolderSchema,
} from './schemas.js';

const read = { object: 'persisted_folder', action: 'read' } as const;
const write = { object: 'persisted_folder', action: 'write' } as const;

/** The caller's own sidebar folders (/persisted_folder/), under both prefixes; other users' folders are 404. */
export const persistedFoldersRoutes = teamRoutes(async (app, { services, team }) => {
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
      const { count, results } = await services.persistedFolders.list(request.teamAccess!, request.actor!, page);
      return buildPage(request.absoluteUrl(), page, count, results);
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
      reply.code(201).send(await services.persistedFolders.create(request.teamAccess!, request.actor!, request.body)),
  );

  app.get(
    '/persisted_folder/:id/',
    {
      config: { access: { scope: read, target: team } },
      schema: { operationId: 'persisted_folder_retrieve', tags, params: PersistedFolderParams, response: { 200: PersistedFolderSchema } },
    },
    async (request) => services.persistedFolders.retrieve(request.teamAccess!, request.actor!, request.params.id),
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
        services.persistedFolders.update(request.teamAccess!, request.actor!, request.params.id, request.body ?? {}),
    });
  }

  app.delete(
    '/persisted_folder/:id/',
    {
      config: { access: { scope: write, target: team } },
      schema: { operationId: 'persisted_folder_destroy', tags, params: PersistedFolderParams, response: { 204: z.null() } },
    },
    async (request, reply) => {
      await services.persistedFolders.destroy(request.teamAccess!, request.actor!, request.params.id);
      return reply.code(204).send(null);
    },
  );
});
