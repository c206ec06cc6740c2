import { z } from 'zod';
import { ErrorSchema } from '../../http/schemas.js';
import { paginated, pageParams } from '../../http/pagination.js';
import { actorOf, teamOf } from '../../http/route.js';
import { teamRoutes } from '../../http/team-routes.js';
import { printedAs } from '../../lib/json-text.js';
import type { FileSystemService } from './service.js';
import {
  CountSchema,
  CreateFileSystemBody,
  DeletedSchema,
  DeleteQuery,
  DetailMessageSchema,
  FileSystemListQuery,
  FileSystemListSchema,
  FileSystemParams,
  FileSystemSchema,
  HomeFolderSchema,
  LogViewBody,
  LogViewQuery,
  LogViewSchema,
  NewPathBody,
  UndoDeleteBody,
  UndoneSchema,
  UnfiledQuery,
  UpdateFileSystemBody,
} from './contract.js';

const read = { object: 'file_system', action: 'read' } as const;
const write = { object: 'file_system', action: 'write' } as const;
const OrDetail = z.union([ErrorSchema, DetailMessageSchema]);

/** The project tree (PostHog's FileSystemViewSet) under both prefixes; count, count_by_path and unfiled are reads. */
export const fileSystemRoutes = (tree: FileSystemService) => teamRoutes(async (app, { team }) => {
  const tags = ['file_system'];

  app.get(
    '/file_system/',
    {
      config: { access: { scope: read, target: team } },
      schema: { operationId: 'file_system_list', tags, querystring: FileSystemListQuery, response: { 200: FileSystemListSchema } },
    },
    async (request) => {
      const { page, count, results, users } = await tree.list(teamOf(request), actorOf(request), request.query, pageParams(request.query));
      const entries = printedAs(results);
      const list = page ? paginated(request, page, count, entries) : { count, next: null, previous: null, results: entries };
      return { ...list, users };
    },
  );

  app.post(
    '/file_system/',
    {
      config: { access: { scope: write, target: team } },
      schema: {
        operationId: 'file_system_create',
        tags,
        summary: 'Create an entry; missing parent folders are created too',
        body: CreateFileSystemBody,
        response: { 201: FileSystemSchema },
      },
    },
    async (request, reply) => reply.code(201).send(await tree.create(teamOf(request), actorOf(request), request.body)),
  );

  app.get(
    '/file_system/unfiled/',
    {
      config: { access: { scope: read, target: team } },
      schema: {
        operationId: 'file_system_unfiled_retrieve',
        tags,
        summary: 'File objects that have no entry yet and repair the tree; answers how many were filed',
        querystring: UnfiledQuery,
        response: { 200: z.object({ count: z.number().int() }) },
      },
    },
    async (request) => tree.unfiled(teamOf(request), actorOf(request), request.query.type || undefined),
  );

  app.post(
    '/file_system/count_by_path/',
    {
      config: { access: { scope: read, target: team } },
      schema: {
        operationId: 'file_system_count_by_path_create',
        tags,
        querystring: z.object({ path: z.string().optional() }),
        response: { 200: CountSchema, 400: OrDetail },
      },
    },
    async (request) => tree.countByPath(teamOf(request), request.query.path),
  );

  app.get(
    '/file_system/log_view/',
    {
      config: { access: { scope: write, target: team } },
      schema: {
        operationId: 'file_system_log_view_retrieve',
        tags,
        summary: "The caller's recent views, newest first (not paginated)",
        querystring: LogViewQuery,
        response: { 200: z.array(LogViewSchema) },
      },
    },
    async (request) => tree.views(teamOf(request), actorOf(request), request.query),
  );

  app.post(
    '/file_system/log_view/',
    {
      config: { access: { scope: write, target: team } },
      schema: {
        operationId: 'file_system_log_view_create',
        tags,
        summary: 'Record that the caller opened an object (browser sessions only; keys get 204 and nothing is recorded)',
        body: LogViewBody,
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      await tree.logView(teamOf(request), actorOf(request), request.body);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/file_system/undo_delete/',
    {
      config: { access: { scope: write, target: team } },
      schema: { operationId: 'file_system_undo_delete_create', tags, body: UndoDeleteBody, response: { 200: UndoneSchema } },
    },
    async (request) => tree.undoDelete(teamOf(request), actorOf(request), request.body.items),
  );

  app.post(
    '/file_system/home_folder/',
    {
      config: { access: { scope: write, target: team } },
      schema: { operationId: 'file_system_home_folder_create', tags, response: { 200: HomeFolderSchema } },
    },
    async (request) => tree.homeFolder(teamOf(request), actorOf(request)),
  );

  app.get(
    '/file_system/:id/',
    {
      config: { access: { scope: read, target: team } },
      schema: { operationId: 'file_system_retrieve', tags, params: FileSystemParams, response: { 200: FileSystemSchema } },
    },
    async (request) => tree.retrieve(teamOf(request), request.params.id),
  );

  for (const method of ['PUT', 'PATCH'] as const) {
    app.route({
      method,
      url: '/file_system/:id/',
      config: { access: { scope: write, target: team } },
      schema: {
        operationId: method === 'PUT' ? 'file_system_update' : 'file_system_partial_update',
        tags,
        summary: 'Change the entry only: children do not move and parents are not created',
        params: FileSystemParams,
        body: method === 'PUT' ? CreateFileSystemBody : UpdateFileSystemBody,
        response: { 200: FileSystemSchema },
      },
      handler: async (request) => tree.update(teamOf(request), request.params.id, request.body ?? {}),
    });
  }

  app.delete(
    '/file_system/:id/',
    {
      config: { access: { scope: write, target: team } },
      schema: {
        operationId: 'file_system_destroy',
        tags,
        summary: 'Delete an entry (a folder with everything under it); 200 lists the objects reached, 204 when none',
        params: FileSystemParams,
        querystring: DeleteQuery,
        response: { 200: DeletedSchema, 204: z.null(), 409: ErrorSchema },
      },
    },
    async (request, reply) => {
      const result = await tree.delete(teamOf(request), actorOf(request), request.params.id, request.query.recursive);
      return result ? result : reply.code(204).send(null);
    },
  );

  app.post(
    '/file_system/:id/count/',
    {
      config: { access: { scope: read, target: team } },
      schema: { operationId: 'file_system_count_create', tags, params: FileSystemParams, response: { 200: CountSchema, 400: OrDetail } },
    },
    async (request) => tree.count(teamOf(request), request.params.id),
  );

  for (const action of ['move', 'link'] as const) {
    app.post(
      `/file_system/:id/${action}/`,
      {
        config: { access: { scope: write, target: team } },
        schema: {
          operationId: `file_system_${action}_create`,
          tags,
          summary: action === 'move' ? 'Move an entry (a folder with everything under it) to new_path' : 'Make shortcut copies at new_path',
          params: FileSystemParams,
          body: NewPathBody,
          response: { 200: FileSystemSchema, 400: OrDetail },
        },
      },
      async (request) => tree[action](teamOf(request), actorOf(request), request.params.id, request.body?.new_path),
    );
  }
});
