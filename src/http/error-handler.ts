import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { isResponseSerializationError } from 'fastify-type-provider-zod';
import { fromDatabaseError } from '../lib/database-errors.js';
import {
  BurrowError,
  type ErrorKind,
  NotFoundError,
  ParseError,
  PayloadTooLargeError,
  PlainBodyError,
  ServerError,
  ThrottledError,
  UnsupportedMediaTypeError,
} from '../lib/errors.js';
import type { ErrorBody } from './schemas.js';

/** The one place errors become responses: each kind's status and drf-exceptions-hog type. */
const RESPONSES: Record<ErrorKind, { status: number; type: ErrorBody['type'] }> = {
  validation: { status: 400, type: 'validation_error' },
  parse: { status: 400, type: 'invalid_request' },
  not_authenticated: { status: 401, type: 'authentication_error' },
  authentication_failed: { status: 401, type: 'authentication_error' },
  permission_denied: { status: 403, type: 'authentication_error' },
  not_found: { status: 404, type: 'invalid_request' },
  method_not_allowed: { status: 405, type: 'invalid_request' },
  conflict: { status: 409, type: 'server_error' },
  payload_too_large: { status: 413, type: 'invalid_request' },
  unsupported_media_type: { status: 415, type: 'invalid_request' },
  throttled: { status: 429, type: 'throttled_error' },
  too_early: { status: 425, type: 'server_error' },
  server: { status: 500, type: 'server_error' },
  not_implemented: { status: 501, type: 'server_error' },
  bad_gateway: { status: 502, type: 'server_error' },
  gateway_timeout: { status: 504, type: 'server_error' },
};

/** Fastify's and its plugins' own errors, as the BurrowError a client should see. */
function fromFramework(error: FastifyError, request: FastifyRequest, bodyLimit: number): BurrowError | null {
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new UnsupportedMediaTypeError(request.headers['content-type'] ?? '');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
    case 'FST_REQ_FILE_TOO_LARGE':
    case 'FST_FILES_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return new PayloadTooLargeError(request.routeOptions.bodyLimit ?? bodyLimit);
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
    case 'FST_ERR_CTP_EMPTY_TYPE':
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
    case 'FST_PROTO_VIOLATION':
      return new ParseError(`Malformed request. ${error.message}`.trim());
  }
  if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
    return new ParseError(error.message);
  }
  return null;
}

function send(reply: FastifyReply, error: BurrowError): FastifyReply {
  const { status, type } = RESPONSES[error.kind];
  reply.code(status);
  if (status === 401) reply.header('www-authenticate', 'Bearer');
  if (error instanceof ThrottledError) reply.header('retry-after', String(error.waitSeconds));
  if (error instanceof PlainBodyError) return error.body === null ? reply.send() : reply.send(error.body);
  const body: ErrorBody = { type, code: error.code, detail: error.detail, attr: error.attr };
  return reply.send(body);
}

/**
 * Fastify's `frameworkErrors` option: the errors of its router, before any route or error handler is involved (a
 * path it cannot decode, a parameter longer than it matches; async constraints are not used). As in Django, such a
 * path is one no route serves.
 */
export function answerFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  request.log.info({ code: error.code }, 'unroutable path');
  return send(reply, new NotFoundError('Endpoint not found.'));
}

export const errorHandler = fp(
  async (app: FastifyInstance, opts: { bodyLimit: number }) => {
    app.setErrorHandler((error: FastifyError, request, reply) => {
      const known = error instanceof BurrowError ? error : fromFramework(error, request, opts.bodyLimit);
      if (known) return send(reply, known);
      const refusedByDatabase = fromDatabaseError(error);
      if (refusedByDatabase) {
        request.log.info({ err: error }, 'the database refused the input');
        return send(reply, refusedByDatabase);
      }
      if (isResponseSerializationError(error)) {
        request.log.error({ err: error, issues: error.cause.issues }, 'response did not match its schema');
      } else {
        request.log.error({ err: error }, 'unhandled error');
      }
      return send(reply, new ServerError());
    });

    app.setNotFoundHandler((_request, reply) => send(reply, new NotFoundError('Endpoint not found.')));
  },
  { name: 'error-handler' },
);
