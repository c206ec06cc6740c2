import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Container } from '../container.js';

/** Every route module is a plugin that receives the wired services. */
export type RoutePlugin = FastifyPluginAsyncZod<{ services: Container }>;
