import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { RoutePlugin } from '../../http/route.js';
import { ErrorSchema } from '../../http/schemas.js';
import { NotFoundError, ValidationError } from '../../lib/errors.js';
import { BATCH_BODY_LIMIT, CaptureResponseSchema, EVENTS_BODY_LIMIT, RECORDINGS_BODY_LIMIT, RemoteConfigSchema, TokenParams } from './contract.js';
import type { ConfigRequester } from './remote-config.js';
import type { CaptureInput } from './payload.js';
import { remoteConfigJson, remoteConfigScript } from './remote-config.js';
import { projectTokenProblem } from './events.js';
import type { CaptureService } from './service.js';

/** The event endpoints of PostHog's capture service; each takes GET and POST, with or without a trailing slash. */
const EVENT_ENDPOINTS = [
  { url: '/e/', name: 'e', limitBytes: EVENTS_BODY_LIMIT, engage: false },
  { url: '/i/v0/e/', name: 'i_v0_e', limitBytes: EVENTS_BODY_LIMIT, engage: false },
  { url: '/batch/', name: 'batch', limitBytes: BATCH_BODY_LIMIT, engage: false },
  { url: '/capture/', name: 'capture', limitBytes: EVENTS_BODY_LIMIT, engage: false },
  { url: '/track/', name: 'track', limitBytes: EVENTS_BODY_LIMIT, engage: false },
  { url: '/engage/', name: 'engage', limitBytes: EVENTS_BODY_LIMIT, engage: true },
] as const;

const FLAGS_ENDPOINTS = [
  { url: '/flags/', name: 'flags', summary: 'Feature flags for posthog-js (v2): none are evaluated; the remote config comes with them' },
  { url: '/decide/', name: 'decide', summary: 'The older SDKs\' /decide: empty flags and the remote config' },
] as const;

const tags = ['capture'];
const QUERY_TEXT = z.record(z.string(), z.string().optional());

function inputOf(request: FastifyRequest): CaptureInput {
  return {
    method: request.method,
    contentType: request.headers['content-type'],
    body: Buffer.isBuffer(request.body) ? request.body : undefined,
    query: (request.query ?? {}) as Record<string, string | undefined>,
  };
}

const requesterOf = (request: FastifyRequest): ConfigRequester => ({
  origin: request.headers.origin,
  referer: request.headers.referer,
  userAgent: request.headers['user-agent'],
});

/**
 * Permissive CORS, as PostHog's capture answers: posthog-js posts from the customer's site with credentials, loads
 * config.js with `crossorigin`, and sends beacons that cannot be preflighted.
 */
function allowCrossOrigin(request: FastifyRequest, reply: FastifyReply): void {
  const origin = request.headers.origin;
  reply.header('access-control-allow-origin', origin ?? '*');
  reply.header('access-control-allow-credentials', 'true');
  reply.header('vary', 'Origin');
  if (request.method === 'OPTIONS') {
    reply.header('access-control-allow-methods', 'GET, POST, OPTIONS');
    const asked = request.headers['access-control-request-headers'];
    if (asked) reply.header('access-control-allow-headers', asked);
    reply.header('access-control-max-age', '86400');
  }
}

/** Where posthog-js sends events and loads its config: at the root, not under /api, with every body taken as bytes. */
export const captureRoutes = (capture: CaptureService): RoutePlugin => async (app) => {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  app.addHook('onRequest', async (request, reply) => allowCrossOrigin(request, reply));

  const preflight = (url: string, name: string) =>
    app.options(
      url,
      { config: { access: 'public' }, schema: { operationId: `${name}_preflight`, tags, summary: 'CORS preflight', response: { 200: z.null() } } },
      async (_request, reply) => reply.code(200).send(null),
    );

  for (const endpoint of EVENT_ENDPOINTS) {
    for (const method of ['GET', 'POST'] as const) {
      app.route({
        method,
        url: endpoint.url,
        bodyLimit: endpoint.limitBytes,
        config: { access: 'public' },
        schema: {
          operationId: `capture_${endpoint.name}_${method.toLowerCase()}`,
          tags,
          summary: `Events from posthog-js and the other SDKs (${method === 'GET' ? 'the payload in ?data=' : 'JSON, gzip, lz64 or a base64 form body'})`,
          querystring: QUERY_TEXT,
          response: { 200: CaptureResponseSchema, 401: ErrorSchema, 413: ErrorSchema, 429: ErrorSchema },
        },
        handler: async (request) => {
          await capture.captureEvents(inputOf(request), endpoint);
          return { status: 'Ok' as const };
        },
      });
    }
    preflight(endpoint.url, `capture_${endpoint.name}`);
  }

  for (const method of ['GET', 'POST'] as const) {
    app.route({
      method,
      url: '/s/',
      bodyLimit: RECORDINGS_BODY_LIMIT,
      config: { access: 'public' },
      schema: {
        operationId: `capture_recordings_${method.toLowerCase()}`,
        tags,
        summary: 'Session recordings from posthog-js: `$snapshot` events, stored as blocks of their sessions',
        querystring: QUERY_TEXT,
        response: { 200: CaptureResponseSchema, 401: ErrorSchema, 413: ErrorSchema, 429: ErrorSchema },
      },
      handler: async (request) => {
        const { quotaLimited } = await capture.captureRecordings({ ...inputOf(request), userAgent: request.headers['user-agent'] }, RECORDINGS_BODY_LIMIT);
        return { status: 'Ok' as const, ...(quotaLimited && { quota_limited: ['recordings'] }) };
      },
    });
  }
  preflight('/s/', 'capture_recordings');

  for (const endpoint of FLAGS_ENDPOINTS) {
    for (const method of ['GET', 'POST'] as const) {
      app.route({
        method,
        url: endpoint.url,
        bodyLimit: EVENTS_BODY_LIMIT,
        config: { access: 'public' },
        schema: {
          operationId: `${endpoint.name}_${method.toLowerCase()}`,
          tags,
          summary: endpoint.summary,
          querystring: QUERY_TEXT,
          response: { 200: RemoteConfigSchema, 401: ErrorSchema },
        },
        handler: async (request) => capture.flags(inputOf(request), EVENTS_BODY_LIMIT, requesterOf(request)),
      });
    }
    preflight(endpoint.url, endpoint.name);
  }

  const configRoute = (url: string, name: string, script: boolean) =>
    app.get(
      url,
      {
        config: { access: 'public' },
        schema: {
          operationId: name,
          tags,
          summary: script ? 'The remote config posthog-js loads first, as a script' : 'The remote config posthog-js loads, as JSON',
          params: TokenParams,
          response: { 200: script ? z.string().meta({ description: 'application/javascript' }) : RemoteConfigSchema, 404: ErrorSchema },
        },
      },
      async (request, reply) => {
        const { token } = request.params;
        reply.header('vary', 'Origin, Referer');
        if (!/^[A-Za-z0-9_-]+$/.test(token) || projectTokenProblem(token)) throw new ValidationError('Invalid token');
        const config = await capture.remoteConfig(token, requesterOf(request));
        if (!config) throw new NotFoundError();
        if (script) return reply.type('application/javascript').send(remoteConfigScript(token, config));
        return remoteConfigJson(config);
      },
    );
  configRoute('/array/:token/config', 'remote_config', false);
  configRoute('/array/:token/config.js', 'remote_config_script', true);
  preflight('/array/:token/config', 'remote_config');
  preflight('/array/:token/config.js', 'remote_config_script');
};
