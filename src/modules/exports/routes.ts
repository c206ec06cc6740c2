import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { paginated, pageParams } from '../../http/pagination.js';
import type { RoutePlugin } from '../../http/route.js';
import { actorOf, teamOf } from '../../http/route.js';
import { ErrorSchema } from '../../http/schemas.js';
import { teamRoutes } from '../../http/team-routes.js';
import { NotFoundError } from '../../lib/errors.js';
import { ContentQuery, CreateExportBody, ExportedAssetListSchema, ExportedAssetSchema, ExporterParams, ExporterQuery, ExportIdParams, ExportListQuery } from './contract.js';
import type { ContentResult, ExportsService } from './service.js';

const read = { object: 'export', action: 'read' } as const;
const write = { object: 'export', action: 'write' } as const;

const FileResponse = z.unknown().meta({ description: 'The file, with the export format as its Content-Type' });

function sendFile(reply: FastifyReply, file: ContentResult, download: boolean): FastifyReply {
  if (file.kind === 'redirect') return reply.redirect(file.url, 302);
  reply.header('content-type', file.contentType).header('cache-control', 'max-age=86400');
  if (download) reply.header('content-disposition', `attachment; filename="${file.filename}"`);
  return reply.send(file.body);
}

/** Exports (list, create, retrieve, content) under both prefixes; there is no update and no delete (405). */
export const exportsRoutes = (exports: ExportsService) =>
  teamRoutes(async (app, { team }) => {
    const tags = ['exports'];

    app.get(
      '/exports/',
      {
        config: { access: { scope: read, target: team } },
        schema: {
          operationId: 'exports_list',
          tags,
          summary: 'Your exports in this project, newest first',
          querystring: ExportListQuery,
          response: { 200: ExportedAssetListSchema },
        },
      },
      async (request) => {
        const page = pageParams(request.query);
        const { results, count } = await exports.list(teamOf(request), actorOf(request), request.query, page);
        return paginated(request, page, count, results);
      },
    );

    app.post(
      '/exports/',
      {
        config: { access: { scope: write, target: team } },
        schema: {
          operationId: 'exports_create',
          tags,
          summary: 'Create an export; waits a bounded time for the file, then answers and the job finishes it',
          body: CreateExportBody,
          response: { 201: ExportedAssetSchema },
        },
      },
      async (request, reply) => reply.code(201).send(await exports.create(teamOf(request), actorOf(request), request.body, request.id)),
    );

    app.get(
      '/exports/:id/',
      {
        config: { access: { scope: read, target: team } },
        schema: { operationId: 'exports_retrieve', tags, params: ExportIdParams, response: { 200: ExportedAssetSchema } },
      },
      async (request) => exports.retrieve(teamOf(request), actorOf(request), request.params.id),
    );

    app.get(
      '/exports/:id/content/',
      {
        config: { access: { scope: read, target: team } },
        schema: {
          operationId: 'exports_content_retrieve',
          tags,
          summary: 'The file; 425 while it is produced, 400 when the export failed',
          params: ExportIdParams,
          querystring: ContentQuery,
          response: { 200: FileResponse, 302: z.null().meta({ description: 'To the file in object storage' }), 400: ErrorSchema, 425: ErrorSchema },
        },
      },
      async (request, reply) => {
        const download = request.query.download === 'true';
        return sendFile(reply, await exports.content(teamOf(request), actorOf(request), request.params.id, download), download);
      },
    );
  });

/** /exporter/<filename>?token=<JWT>: an export's file for a public link; anything wrong is a bare 404. */
export const exporterRoutes =
  (exports: ExportsService): RoutePlugin =>
  async (app) => {
    app.get(
      '/exporter/:filename',
      {
        config: { access: 'public' },
        schema: {
          operationId: 'exporter_file',
          tags: ['exports'],
          summary: "An export's file through a public link (the token from subscriptions, 365 days)",
          params: ExporterParams,
          querystring: ExporterQuery,
          response: { 200: FileResponse, 302: z.null().meta({ description: 'To the file in object storage' }), 404: ErrorSchema },
        },
      },
      async (request, reply) => {
        const file = await exports.publicContent(request.query.token).catch(() => null);
        if (!file) throw new NotFoundError();
        return sendFile(reply, file, false);
      },
    );
  };
