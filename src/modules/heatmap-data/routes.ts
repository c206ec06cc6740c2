import { teamOf } from '../../http/route.js';
import { ErrorSchema } from '../../http/schemas.js';
import { teamRoutes } from '../../http/team-routes.js';
import { HeatmapEventsQuery, HeatmapEventsResponseSchema, HeatmapsQuery, HeatmapsResponseSchema } from './contract.js';
import type { HeatmapDataService } from './service.js';

const read = { object: 'heatmap', action: 'read' } as const;

/** Where people clicked, moved and scrolled (/heatmaps/, /heatmaps/events/), under both prefixes: PostHog's HeatmapViewSet. */
export const heatmapDataRoutes = (heatmapData: HeatmapDataService) =>
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
  });
