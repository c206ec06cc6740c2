import swagger, { type SwaggerTransformObject } from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';

type OpenApiDocument = ReturnType<SwaggerTransformObject>;

/**
 * The zod provider emits every named schema twice (X and XInput); keep only the ones the paths reach, sorted by
 * name so that the document does not depend on the order in which the areas' contracts happen to load.
 */
function withoutUnusedSchemas(transformed: OpenApiDocument): OpenApiDocument {
  const document = transformed as { paths?: unknown; components?: { schemas?: Record<string, unknown> } };
  const schemas = document.components?.schemas;
  if (!schemas) return transformed;
  const reached = new Set<string>();
  const pending: unknown[] = [document.paths];
  while (pending.length > 0) {
    const node = pending.pop();
    if (Array.isArray(node)) pending.push(...node);
    else if (node && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        const name = key === '$ref' && typeof value === 'string' ? value.replace('#/components/schemas/', '') : null;
        if (name !== null && !reached.has(name)) {
          reached.add(name);
          pending.push(schemas[name]);
        } else pending.push(value);
      }
    }
  }
  const kept = Object.fromEntries(
    Object.entries(schemas)
      .filter(([name]) => reached.has(name))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
  return { ...document, components: { ...document.components, schemas: kept } } as OpenApiDocument;
}

/** The OpenAPI document comes from the routes' zod schemas; `npm run openapi` writes it to openapi.yaml. */
export const swaggerPlugin = fp(
  async (app: FastifyInstance, opts: { version: string }) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.0.3',
        info: {
          title: 'Burrow',
          description: "A self-hosted server that speaks PostHog's REST API.",
          version: opts.version,
        },
        components: {
          securitySchemes: {
            PersonalAPIKeyAuth: { type: 'http', scheme: 'bearer' },
          },
        },
      },
      transform: jsonSchemaTransform,
      transformObject: (document) => withoutUnusedSchemas(jsonSchemaTransformObject(document)),
    });
    await app.register(swaggerUi, { routePrefix: '/docs' });
  },
  { name: 'swagger' },
);
