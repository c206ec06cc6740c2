import { z } from 'zod';
import { prefersHtml } from '../../http/negotiation.js';
import type { RoutePlugin } from '../../http/route.js';
import { ErrorSchema } from '../../http/schemas.js';
import { NotFoundError } from '../../lib/errors.js';
import { homePage } from './home-page.js';
import type { InstanceService } from './service.js';

const Health = z.object({ status: z.enum(['ok', 'unavailable']) });

/** The health check, and the page a browser opening the server's address gets. */
export const instanceRoutes = (instance: Pick<InstanceService, 'ping'>, version: string, servesHome = true): RoutePlugin => async (app) => {
  const healthy = () =>
    instance.ping().then(
      () => true,
      () => false,
    );

  // When Burrow serves PostHog's web app, the app owns / (modules/webapp).
  if (servesHome) {
    app.get(
      '/',
      {
        config: { access: 'public' },
        schema: {
          operationId: 'home',
          tags: ['health'],
          summary: 'For a browser (Accept: text/html), a page saying what this server is, with its health and links; API clients get 404',
          response: {
            200: z.string().meta({ description: 'text/html' }),
            404: ErrorSchema,
          },
        },
      },
      async (request, reply) => {
        if (!prefersHtml(request.headers.accept)) throw new NotFoundError('Endpoint not found.');
        const origin = new URL(request.absoluteUrl()).origin;
        return reply.type('text/html; charset=utf-8').send(homePage({ version, healthy: await healthy(), origin }));
      },
    );
  }

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
