import { z } from 'zod';
import { paginated, pageParams } from '../../http/pagination.js';
import { actorOf, teamOf } from '../../http/route.js';
import { teamRoutes } from '../../http/team-routes.js';
import type { FileSystemShortcutsService } from './service.js';
import {
  FileSystemShortcutBody,
  FileSystemShortcutListQuery,
  FileSystemShortcutListSchema,
  FileSystemShortcutParams,
  FileSystemShortcutSchema,
  PatchFileSystemShortcutBody,
} from './contract.js';

const read = { object: 'file_system_shortcut', action: 'read' } as const;
const write = { object: 'file_system_shortcut', action: 'write' } as const;

/** The caller's starred items (/file_system_shortcut/), under both prefixes; other users' shortcuts are 404. */
export const fileSystemShortcutsRoutes = (shortcuts: FileSystemShortcutsService) => teamRoutes(async (app, { team }) => {
  const tags = ['file_system_shortcut'];

  app.get(
    '/file_system_shortcut/',
    {
      config: { access: { scope: read, target: team } },
      schema: {
        operationId: 'file_system_shortcut_list',
        tags,
        summary: "The caller's shortcuts in this project, by `order` then path",
        querystring: FileSystemShortcutListQuery,
        response: { 200: FileSystemShortcutListSchema },
      },
    },
    async (request) => {
      const page = pageParams(request.query);
      const { count, results } = await shortcuts.list(teamOf(request), actorOf(request), request.query.ordering, page);
      return paginated(request, page, count, results);
    },
  );

  app.post(
    '/file_system_shortcut/',
    {
      config: { access: { scope: write, target: team } },
      schema: {
        operationId: 'file_system_shortcut_create',
        tags,
        summary: 'Star an item; starring the same item (path, type, ref, href) again answers the existing shortcut',
        body: FileSystemShortcutBody,
        response: { 201: FileSystemShortcutSchema },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await shortcuts.create(teamOf(request), actorOf(request), request.body)),
  );

  app.get(
    '/file_system_shortcut/:id/',
    {
      config: { access: { scope: read, target: team } },
      schema: { operationId: 'file_system_shortcut_retrieve', tags, params: FileSystemShortcutParams, response: { 200: FileSystemShortcutSchema } },
    },
    async (request) => shortcuts.retrieve(teamOf(request), actorOf(request), request.params.id),
  );

  for (const method of ['PUT', 'PATCH'] as const) {
    app.route({
      method,
      url: '/file_system_shortcut/:id/',
      config: { access: { scope: write, target: team } },
      schema: {
        operationId: method === 'PUT' ? 'file_system_shortcut_update' : 'file_system_shortcut_partial_update',
        tags,
        params: FileSystemShortcutParams,
        body: method === 'PUT' ? FileSystemShortcutBody : PatchFileSystemShortcutBody,
        response: { 200: FileSystemShortcutSchema },
      },
      handler: async (request) =>
        shortcuts.update(teamOf(request), actorOf(request), request.params.id, request.body ?? {}),
    });
  }

  app.delete(
    '/file_system_shortcut/:id/',
    {
      config: { access: { scope: write, target: team } },
      schema: { operationId: 'file_system_shortcut_destroy', tags, params: FileSystemShortcutParams, response: { 204: z.null() } },
    },
    async (request, reply) => {
      await shortcuts.destroy(teamOf(request), actorOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );
});
