import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { isResponseSerializationError } from 'fastify-type-provider-zod';
import {
  ApiError,
  NotFoundError,
  ParseError,
  PayloadTooLargeError,
  RawResponseError,
  ServerError,
  UnsupportedMediaTypeError,
} from '../lib/errors.js';

/** The one place errors become responses: PostHog's drf-exceptions-hog body {type, code, detail, attr}. */

function toApiError(error: FastifyError, request: FastifyRequest, bodyLimit: number): ApiError | null {
  if (error instanceof ApiError) return error;
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new UnsupportedMediaTypeError(request.headers['content-type'] ?? '');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
    case 'FST_REQ_FILE_TOO_LARGE':
    case 'FST_FILES_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return new PayloadTooLargeError(bodyLimit);
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

function send(reply: FastifyReply, error: ApiError): FastifyReply {
  if (error.statusCode === 401) reply.header('www-authenticate', 'Bearer');
  return reply.code(error.statusCode).headers(error.headers).send(error.body());
}

export const errorHandler = fp(
  async (app: FastifyInstance, opts: { bodyLimit: number }) => {
    app.setErrorHandler((error: FastifyError, request, reply) => {
      if (error instanceof RawResponseError) {
        return error.payload === null ? reply.code(error.statusCode).send() : reply.code(error.statusCode).send(error.payload);
      }
      const known = toApiError(error, request, opts.bodyLimit);
      if (known) return send(reply, known);
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
