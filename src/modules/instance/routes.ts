import { z } from 'zod';
import type { RoutePlugin } from '../../http/route.js';
import type { InstanceService } from './service.js';

const Health = z.object({ status: z.enum(['ok', 'unavailable']) });

/** The health check (the page a browser opening the server's address gets is the web module's). */
export const instanceRoutes = (instance: Pick<InstanceService, 'ping'>): RoutePlugin => async (app) => {
  app.get(
    '/_health',
    {
      config: { access: 'public' },
      schema: { operationId: 'health', tags: ['health'], summary: 'Answers 200 when the database answers', response: { 200: Health, 503: Health } },
    },
    async (request, reply) => {
      try {
        await instance.ping();
        return { status: 'ok' as const };
      } catch (err) {
        request.log.error({ err }, 'health check: database did not answer');
        return reply.code(503).send({ status: 'unavailable' as const });
      }
    },
  );
};
