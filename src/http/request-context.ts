import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's absolute URL, as DRF's build_absolute_uri: SITE_URL when set, else the request's own origin. */
    absoluteUrl(): string;
    /** Where Burrow's pages are for this request's client: SITE_URL when set, else the request's own origin. */
    siteRoot(): string;
  }
}

const CLIENT_REQUEST_ID = /^[\w.:-]{1,100}$/;

/** A client's X-Request-ID when it is sane, else a new one; Fastify puts it on every log line of the request. */
export function requestId(request: { headers: Record<string, string | string[] | undefined> }): string {
  const header = request.headers['x-request-id'];
  return typeof header === 'string' && CLIENT_REQUEST_ID.test(header) ? header : randomUUID();
}

export const requestContext = fp(
  async (app: FastifyInstance, opts: { siteUrl: string | undefined; drainTimeoutMs: number }) => {
    app.decorateRequest('siteRoot', function (this: FastifyRequest) {
      return opts.siteUrl ?? `${this.protocol}://${this.host}`;
    });
    app.decorateRequest('absoluteUrl', function (this: FastifyRequest) {
      return `${this.siteRoot()}${this.url}`;
    });
    // Closing must wait for handlers still running: one whose client went away keeps running (its socket no
    // longer holds the server open), and closing the database under it would cut it off between two queries.
    // onSend runs once per request after its handler, also when the client is gone; onResponse then does not.
    let inFlight = 0;
    let idle: (() => void) | null = null;
    const counted = new WeakSet<FastifyRequest>();
    // Callback hooks: every request runs these, and an async hook costs a promise and a microtask more each.
    app.addHook('onRequest', (request, reply, done) => {
      reply.header('x-request-id', request.id);
      counted.add(request);
      inFlight += 1;
      done();
    });
    app.addHook('onSend', (request, _reply, payload, done) => {
      if (counted.delete(request) && --inFlight === 0) idle?.();
      done(null, payload);
    });
    app.addHook('onClose', async () => {
      if (inFlight === 0) return;
      await Promise.race([new Promise<void>((resolve) => (idle = resolve)), new Promise((resolve) => setTimeout(resolve, opts.drainTimeoutMs))]);
    });
  },
  { name: 'request-context' },
);
