import { type RoutePlugin, teamOf } from '../../http/route.js';
import { ErrorSchema } from '../../http/schemas.js';
import { teamRoutes } from '../../http/team-routes.js';
import { z } from 'zod';
import { ErrorOrMessageSchema } from '../../http/schemas.js';
import { SavedHeatmapSchema, ShortIdParams } from '../heatmaps/index.js';
import { HeatmapEventsQuery, HeatmapEventsResponseSchema, HeatmapsQuery, HeatmapsResponseSchema, OverlayQuery } from './contract.js';
import type { HeatmapDataService } from './service.js';

const read = { object: 'heatmap', action: 'read' } as const;

/**
 * PostHog's LegacyHeatmapViewSet: GET /api/heatmap/, the same points as …/heatmaps/ in the user's current project
 * (the web app's heatmap scenes and the toolbar still call it).
 */
const legacyHeatmapRoutes =
  (heatmapData: HeatmapDataService): RoutePlugin =>
  async (app) => {
    app.get(
      '/api/heatmap/',
      {
        config: { access: { scope: read, target: { kind: 'team', param: null } } },
        schema: {
          operationId: 'heatmap_list',
          tags: ['heatmaps'],
          summary: "The legacy path of …/heatmaps/: the points of a page in the caller's current project",
          querystring: HeatmapsQuery,
          response: { 200: HeatmapsResponseSchema, 400: ErrorSchema },
        },
      },
      async (request, reply) => {
        reply.header('cache-control', 'max-age=30').header('vary', 'Accept, Accept-Encoding, Query-String');
        return heatmapData.points(teamOf(request), request.query);
      },
    );
  };

/** Where people clicked, moved and scrolled (/heatmaps/, /heatmaps/events/), under both prefixes: PostHog's HeatmapViewSet. */
export const heatmapDataRoutes =
  (heatmapData: HeatmapDataService): RoutePlugin =>
  async (app) => {
    await app.register(legacyHeatmapRoutes(heatmapData));
    await app.register(teamHeatmapDataRoutes(heatmapData));
  };

const teamHeatmapDataRoutes = (heatmapData: HeatmapDataService) =>
  teamRoutes(async (app, { team }) => {
    const tags = ['heatmaps'];

    app.get(
      '/heatmaps/',
      {
        config: { access: { scope: read, target: team } },
        schema: {
          operationId: 'heatmaps_list',
          tags,
          summary: 'The points of a page on the 16-px grid with their counts, hottest first; scroll depth buckets for type=scrolldepth',
          querystring: HeatmapsQuery,
          response: { 200: HeatmapsResponseSchema, 400: ErrorSchema },
        },
      },
      async (request, reply) => {
        reply.header('cache-control', 'max-age=30').header('vary', 'Accept, Accept-Encoding, Query-String');
        return heatmapData.points(teamOf(request), request.query);
      },
    );

    app.get(
      '/heatmaps/events/',
      {
        config: { access: { scope: read, target: team } },
        schema: {
          operationId: 'heatmaps_events_list',
          tags,
          summary: 'The interactions behind grid points (points=[{x, y, target_fixed}]), newest first',
          querystring: HeatmapEventsQuery,
          response: { 200: HeatmapEventsResponseSchema, 400: ErrorSchema },
        },
      },
      async (request) => heatmapData.events(teamOf(request), request.query),
    );

    app.get(
      '/saved/:short_id/overlay/',
      {
        config: { access: { scope: read, target: team } },
        schema: {
          operationId: 'saved_overlay_retrieve',
          tags: ['saved'],
          summary: "Burrow's extension: the saved heatmap's screenshot with its data_url's heatmap drawn on it (PNG or JPEG)",
          description:
            'The screenshot closest to width, with the points of viewports 0.9 to 1.1 times as wide in the date range (default the last 7 days) ' +
            'drawn as PostHog draws them (type=scrolldepth: bands); 202 with the heatmap while no screenshot is stored.',
          params: ShortIdParams,
          querystring: OverlayQuery,
          response: {
            200: z.unknown().meta({ description: 'image/png or image/jpeg bytes' }),
            202: SavedHeatmapSchema,
            400: ErrorOrMessageSchema,
            404: ErrorSchema,
          },
        },
      },
      async (request, reply) => {
        const result = await heatmapData.overlay(teamOf(request), request.params.short_id, request.query);
        if (result.kind === 'pending') return reply.code(202).send(result.heatmap);
        return reply
          .header('content-type', `image/${result.format}`)
          .header('content-disposition', `inline; filename="heatmap-${request.params.short_id}-${result.width}.${result.format === 'png' ? 'png' : 'jpg'}"`)
          .header('cache-control', 'private, max-age=30')
          .send(result.body);
      },
    );
  });
