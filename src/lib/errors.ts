/**
 * Typed errors thrown anywhere in the server and mapped in exactly one place (plugins/error-handler.ts)
 * to PostHog's drf-exceptions-hog body {type, code, detail, attr}.
 */
export type ErrorType = 'validation_error' | 'authentication_error' | 'invalid_request' | 'throttled_error' | 'server_error';

export interface ErrorBody {
  type: ErrorType;
  code: string;
  detail: string;
  attr: string | null;
}

export class ApiError extends Error {
  readonly headers: Record<string, string> = {};

  constructor(
    readonly statusCode: number,
    readonly type: ErrorType,
    readonly code: string,
    readonly detail: string,
    readonly attr: string | null = null,
  ) {
    super(detail);
    this.name = new.target.name;
  }

  body(): ErrorBody {
    return { type: this.type, code: this.code, detail: this.detail, attr: this.attr };
  }
}

export class ValidationError extends ApiError {
  constructor(detail: string, attr: string | null = null, code = 'invalid_input') {
    super(400, 'validation_error', code, detail, attr);
  }
}

export class ParseError extends ApiError {
  constructor(detail = 'Malformed request.') {
    super(400, 'invalid_request', 'parse_error', detail);
  }
}

export class NotAuthenticatedError extends ApiError {
  constructor() {
    super(401, 'authentication_error', 'not_authenticated', 'Authentication credentials were not provided.');
  }
}

export class AuthenticationFailedError extends ApiError {
  constructor(detail = 'Incorrect authentication credentials.') {
    super(401, 'authentication_error', 'authentication_failed', detail);
  }
}

export class PermissionDeniedError extends ApiError {
  constructor(detail = 'You do not have permission to perform this action.') {
    super(403, 'authentication_error', 'permission_denied', detail);
  }
}

export class NotFoundError extends ApiError {
  constructor(detail = 'Not found.') {
    super(404, 'invalid_request', 'not_found', detail);
  }
}

export class MethodNotAllowedError extends ApiError {
  constructor(method: string) {
    super(405, 'invalid_request', 'method_not_allowed', `Method "${method}" not allowed.`);
  }
}

export class UnsupportedMediaTypeError extends ApiError {
  constructor(contentType: string) {
    super(415, 'invalid_request', 'unsupported_media_type', `Unsupported media type "${contentType}" in request.`);
  }
}

export class PayloadTooLargeError extends ApiError {
  constructor(limitBytes: number) {
    super(413, 'invalid_request', 'payload_too_large', `Request body is larger than the limit of ${limitBytes} bytes.`);
  }
}

export class ConflictError extends ApiError {
  constructor(detail: string, code = 'conflict') {
    super(409, 'server_error', code, detail);
  }
}

export class ThrottledError extends ApiError {
  constructor(waitSeconds: number) {
    const wait = Math.max(1, Math.ceil(waitSeconds));
    super(429, 'throttled_error', 'throttled', `Request was throttled. Expected available in ${wait} ${wait === 1 ? 'second' : 'seconds'}.`);
    this.headers['retry-after'] = String(wait);
  }
}

export class ServerError extends ApiError {
  constructor() {
    super(500, 'server_error', 'error', 'A server error occurred.');
  }
}

/**
 * A response PostHog builds by hand outside its exception handler, such as
 * {"error": "Only screenshot heatmaps can be regenerated"} or a 405 with an empty body.
 */
export class RawResponseError extends Error {
  constructor(
    readonly statusCode: number,
    readonly payload: Record<string, unknown> | null,
  ) {
    super(`HTTP ${statusCode}`);
    this.name = 'RawResponseError';
  }
}
