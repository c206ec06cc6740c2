import { z } from 'zod';
import { ErrorOrMessageSchema, ErrorSchema } from '../../http/schemas.js';
import { actorOf, teamOf } from '../../http/route.js';
import { teamRoutes } from '../../http/team-routes.js';
import { HardDeleteNotAllowedError } from '../../lib/errors.js';
import { printedAs } from '../../lib/json-text.js';
import type { HeatmapsService } from './service.js';
import {
  ContentQuery,
  CreateSavedHeatmapBody,
  SavedHeatmapListQuery,
  SavedHeatmapListSchema,
  SavedHeatmapSchema,
  ScreenshotParams,
  ShortIdParams,
  UpdateSavedHeatmapBody,
} from './contract.js';

const read = { object: 'heatmap', action: 'read' } as const;
const write = { object: 'heatmap', action: 'write' } as const;
/** Saved heatmaps (/saved/) and their screenshots (/heatmap_screenshots/:id/content/), under both prefixes. */
export const heatmapsRoutes = (heatmaps: HeatmapsService) => teamRoutes(async (app, { team }) => {
  const tags = ['saved'];

  app.get(
    '/saved/',
    {
      config: { access: { scope: read, target: team } },
      schema: {
        operationId: 'saved_list',
        tags,
        summary: 'Saved heatmaps, newest change first; deleted ones are left out',
        querystring: SavedHeatmapListQuery,
        response: { 200: SavedHeatmapListSchema, 400: ErrorOrMessageSchema },
      },
    },
    async (request) => {
      const { results, count } = await heatmaps.list(teamOf(request), request.query);
      return { results: printedAs(results), count };
    },
  );

  app.post(
    '/saved/',
    {
      config: { access: { scope: write, target: team } },
      schema: {
        operationId: 'saved_create',
        tags,
        summary: 'Save a heatmap; a screenshot heatmap starts rendering at once',
        body: CreateSavedHeatmapBody,
        response: { 201: SavedHeatmapSchema },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await heatmaps.create(teamOf(request), actorOf(request), request.body, request.id)),
  );

  app.get(
    '/saved/:short_id/',
    {
      config: { access: { scope: read, target: team } },
      schema: { operationId: 'saved_retrieve', tags, params: ShortIdParams, response: { 200: SavedHeatmapSchema } },
    },
    async (request) => heatmaps.retrieve(teamOf(request), request.params.short_id, request.id),
  );

  app.patch(
    '/saved/:short_id/',
    {
      config: { access: { scope: write, target: team } },
      schema: {
        operationId: 'saved_partial_update',
        tags,
        summary: 'Change a saved heatmap; deleted: true soft-deletes it and false restores it',
        params: ShortIdParams,
        body: UpdateSavedHeatmapBody,
        response: { 200: SavedHeatmapSchema },
      },
    },
    async (request) => heatmaps.update(teamOf(request), request.params.short_id, request.body ?? {}, request.id),
  );

  app.delete(
    '/saved/:short_id/',
    {
      config: { access: { scope: write, target: team } },
      schema: {
        operationId: 'saved_destroy',
        tags,
        summary: 'Hard delete of this model is not allowed. Use a patch API call to set "deleted" to true',
        params: ShortIdParams,
        response: { 405: z.null().meta({ description: 'Always, with an empty body' }) },
      },
    },
    async () => {
      throw new HardDeleteNotAllowedError();
    },
  );

  app.post(
    '/saved/:short_id/regenerate/',
    {
      config: { access: { scope: write, target: team } },
      schema: {
        operationId: 'saved_regenerate_create',
        tags,
        summary: 'Throw the screenshots away and render them again',
        params: ShortIdParams,
        response: { 200: SavedHeatmapSchema, 400: ErrorOrMessageSchema },
      },
    },
    async (request) => heatmaps.regenerate(teamOf(request), request.params.short_id, request.id),
  );

  app.get(
    '/heatmap_screenshots/:id/content/',
    {
      config: { access: { scope: read, target: team } },
      schema: {
        operationId: 'heatmap_screenshots_content_retrieve',
        tags: ['heatmap_screenshots'],
        summary: 'The JPEG at the requested width (default 1024), or the closest stored one; 202 with the heatmap while none is stored',
        params: ScreenshotParams,
        querystring: ContentQuery,
        response: {
          200: z.unknown().meta({ description: 'image/jpeg bytes' }),
          202: SavedHeatmapSchema,
          400: ErrorOrMessageSchema,
          404: ErrorSchema.nullable().meta({ description: 'Not found; an empty body when the heatmap is deleted' }),
        },
      },
    },
    async (request, reply) => {
      const result = await heatmaps.content(teamOf(request), request.params.id, request.query.width);
      if (result.kind === 'pending') return reply.code(202).send(result.heatmap);
      return reply
        .header('content-type', 'image/jpeg')
        .header('content-disposition', `attachment; filename="screenshot-${result.heatmapId}-${result.width}.jpg"`)
        .header('cache-control', 'private, max-age=30')
        .send(result.jpeg);
    },
  );
});
