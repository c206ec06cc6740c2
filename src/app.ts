import cookie from '@fastify/cookie';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Container } from './container.js';
import { authPlugin } from './http/auth.js';
import { bodyParsers } from './http/body-parsers.js';
import { answerFrameworkError, errorHandler } from './http/error-handler.js';
import { requestContext, requestId } from './http/request-context.js';
import { applyRouteConventions } from './http/route-conventions.js';
import { serializerCompiler } from './http/serializer.js';
import { swaggerPlugin } from './http/swagger.js';
import { sharedThrottleStore } from './http/throttle-store.js';
import { validatorCompiler } from './lib/validation.js';
import { VERSION } from './version.js';

export type AppDeps = Pick<Container, 'config' | 'log' | 'auth' | 'instance' | 'routes' | 'redis' | 'sharedRecordingOf' | 'internalApi'>;

/** Builds the HTTP app around already-composed modules; it logs through the container's logger. */
export async function buildApp({ config, log, auth, instance, routes, redis, sharedRecordingOf, internalApi }: AppDeps) {
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    genReqId: requestId,
    trustProxy: config.trustProxy,
    bodyLimit: config.bodyLimitBytes,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 500 },
    frameworkErrors: answerFrameworkError,
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  const conventions = applyRouteConventions(app);

  await app.register(errorHandler, { bodyLimit: config.bodyLimitBytes });
  await app.register(requestContext, { siteUrl: config.siteUrl, drainTimeoutMs: 10_000 });
  await app.register(cookie, { secret: await instance.secretKey() });
  await app.register(bodyParsers, { bodyLimit: config.bodyLimitBytes });
  if (redis) {
    app.addHook('onReady', () => redis.connect());
    app.addHook('onClose', async () => redis.close());
  }
  await app.register(rateLimit, { global: false, ...(redis && { store: sharedThrottleStore(redis) }) });
  await app.register(authPlugin, { auth, config, sharedRecordingOf });
  await app.register(swaggerPlugin, { version: VERSION });

  for (const plugin of routes) await app.register(plugin);
  conventions.addMethodNotAllowedRoutes();
  // Export jobs in this process call the API in-process, as the export's creator (modules/exports/internal-api.ts).
  internalApi.attach(async (url, headers) => {
    const response = await app.inject({ method: 'GET', url, headers });
    const type = response.headers['content-type'];
    return { statusCode: response.statusCode, contentType: typeof type === 'string' ? type : undefined, payload: response.rawPayload };
  });
  return app;
}
