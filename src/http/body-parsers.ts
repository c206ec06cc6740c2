import formbody from '@fastify/formbody';
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { parse as parseQueryString } from 'fast-querystring';
import secureJson from 'secure-json-parse';
import { ParseError } from '../lib/errors.js';
import { jsonNestingExceeds } from '../lib/json-depth.js';
import { FORM_BODY } from '../lib/validation.js';

/** How deep arrays and objects may nest in a JSON body; deeper bodies are refused before anything walks them. */
const MAX_JSON_DEPTH = 100;

/**
 * The fields of a multipart body as Django's QueryDict holds them (a repeated name gives a list; a file its bytes).
 * A body the parser cannot read is DRF's "Multipart form parse error"; the parser's limits keep their own errors (413).
 */
async function multipartFields(request: FastifyRequest): Promise<Record<string, unknown>> {
  const fields: Record<string, unknown> = {};
  try {
    for await (const part of request.parts()) {
      const value = part.type === 'file' ? await part.toBuffer() : part.value;
      const previous = fields[part.fieldname];
      fields[part.fieldname] = previous === undefined ? value : [previous, value].flat();
    }
  } catch (error) {
    if (typeof (error as { code?: unknown }).code === 'string') throw error;
    throw new ParseError(`Multipart form parse error - ${(error as Error).message}`);
  }
  return Object.assign(fields, { [FORM_BODY]: true });
}

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
      if (jsonNestingExceeds(text, MAX_JSON_DEPTH)) {
        return done(new ParseError(`JSON parse error - Nesting deeper than ${MAX_JSON_DEPTH} levels`), undefined);
      }
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

    await app.register(multipart, { limits: { fileSize: opts.bodyLimit, fieldSize: opts.bodyLimit } });
    // A callback hook: every request runs it, and most have no multipart body to wait for.
    app.addHook('preValidation', (request, _reply, done) => {
      if (!request.isMultipart()) return done();
      multipartFields(request).then((fields) => {
        request.body = fields;
        done();
      }, done);
    });
  },
  { name: 'body-parsers' },
);
