import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { NotFoundError } from '../../lib/errors.js';

type StaticFiles = (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>;

const DIST = path.join(path.dirname(createRequire(import.meta.url).resolve('posthog-js/package.json')), 'dist');

/**
 * posthog-js's own files at /static/<file>, from the npm package Burrow ships with, as PostHog's asset host serves
 * them: PostHog's snippet loads `<api_host>/static/array.js`, and array.js loads what it needs beside it (the
 * recorder, surveys, dead clicks, web vitals, ...) from `<api_host>/static/<name>.js?v=<version>`, both as
 * crossorigin="anonymous" scripts from the customer's site, so any origin may read them. Other files go to `next`.
 */
export function sdkFiles(next?: StaticFiles): StaticFiles {
  const names = new Set(readdirSync(DIST).filter((name) => name.endsWith('.js')));
  const bodies = new Map<string, Promise<Buffer>>();
  const body = (name: string) => {
    let read = bodies.get(name);
    if (read === undefined) {
      // A failed read is tried again by the next request.
      read = readFile(path.join(DIST, name)).catch((error: unknown) => (bodies.delete(name), Promise.reject(error)));
      bodies.set(name, read);
    }
    return read;
  };
  return async (request, reply) => {
    const { file } = request.params as { file: string };
    if (!names.has(file)) {
      if (next) return next(request, reply);
      throw new NotFoundError();
    }
    return reply
      .type('application/javascript; charset=utf-8')
      .header('access-control-allow-origin', '*')
      .header('cache-control', 'public, max-age=3600')
      .header('x-content-type-options', 'nosniff')
      .send(await body(file));
  };
}
