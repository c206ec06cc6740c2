import formbody from '@fastify/formbody';
import multipart from '@fastify/multipart';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { parse as parseQueryString } from 'fast-querystring';
import secureJson from 'secure-json-parse';
import { ParseError } from '../lib/errors.js';
import { FORM_BODY } from '../lib/validation.js';

/**
 * JSON, form-encoded and multipart bodies, as DRF's default parsers accept. Form bodies are marked so that
 * validation reads them as Django's QueryDict (repeated keys feed list fields). An empty JSON body is no body.
 */
export const bodyParsers = fp(
  async (app: FastifyInstance, opts: { bodyLimit: number }) => {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: opts.bodyLimit }, (_request, body, done) => {
      const text = body.toString();
      if (text.trim() === '') return done(null, undefined);
      try {
        done(null, secureJson.parse(text, { protoAction: 'error', constructorAction: 'ignore' }));
      } catch (error) {
        done(new ParseError(`JSON parse error - ${(error as Error).message}`), undefined);
      }
    });

    await app.register(formbody, {
      bodyLimit: opts.bodyLimit,
      parser: (text: string) => Object.assign(parseQueryString(text), { [FORM_BODY]: true }),
    });

    await app.register(multipart, { attachFieldsToBody: 'keyValues', limits: { fileSize: opts.bodyLimit, fieldSize: opts.bodyLimit } });
    app.addHook('preValidation', async (request) => {
      if (request.isMultipart() && request.body && typeof request.body === 'object') {
        Object.assign(request.body, { [FORM_BODY]: true });
      }
    });
  },
  { name: 'body-parsers' },
);
