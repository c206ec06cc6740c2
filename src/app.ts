import cookie from '@fastify/cookie';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import { serializerCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Container } from './container.js';
import { validatorCompiler } from './lib/validation.js';
import { authPlugin } from './plugins/auth.js';
import { bodyParsers } from './plugins/body-parsers.js';
import { errorHandler } from './plugins/error-handler.js';
import { requestContext, requestId } from './plugins/request-context.js';
import { applyRouteConventions } from './plugins/route-conventions.js';
import { swaggerPlugin } from './plugins/swagger.js';
import { authRoutes } from './routes/auth/index.js';
import { fileSystemRoutes } from './routes/file-system/index.js';
import { healthRoutes } from './routes/health/index.js';
import { fileSystemShortcutsRoutes } from './routes/file-system-shortcuts/index.js';
import { heatmapsRoutes } from './routes/heatmaps/index.js';
import { organizationsRoutes } from './routes/organizations/index.js';
import { persistedFoldersRoutes } from './routes/persisted-folders/index.js';
import { personalApiKeysRoutes } from './routes/personal-api-keys/index.js';
import { projectsRoutes } from './routes/projects/index.js';
import { usersRoutes } from './routes/users/index.js';

export const VERSION = '0.1.0';

/** Builds the HTTP app around already-wired services; it logs through the container's logger. */
export async function buildApp(services: Container) {
  const { config } = services;
  const app = Fastify({
    loggerInstance: services.log as FastifyBaseLogger,
    genReqId: requestId,
    trustProxy: config.trustProxy,
    bodyLimit: config.bodyLimitBytes,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 500 },
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  const conventions = applyRouteConventions(app);

  await app.register(errorHandler, { bodyLimit: config.bodyLimitBytes });
  await app.register(requestContext, { siteUrl: config.siteUrl, drainTimeoutMs: 10_000 });
  await app.register(cookie, { secret: await services.instance.secretKey() });
  await app.register(bodyParsers, { bodyLimit: config.bodyLimitBytes });
  await app.register(rateLimit, { global: false });
  await app.register(authPlugin, { auth: services.auth, config });
  await app.register(swaggerPlugin, { version: VERSION });

  for (const routes of [healthRoutes, authRoutes, usersRoutes, organizationsRoutes, projectsRoutes, personalApiKeysRoutes, heatmapsRoutes, fileSystemRoutes, persistedFoldersRoutes, fileSystemShortcutsRoutes]) {
    await app.register(routes, { services });
  }
  conventions.addMethodNotAllowedRoutes();
  return app;
}
