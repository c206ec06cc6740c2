/**
 * The errors services throw. They say what went wrong in PostHog's terms (a kind, a DRF code, a detail and the
 * attribute it is about), never how it is sent: http/error-handler.ts maps each kind to a status and to PostHog's
 * drf-exceptions-hog body {type, code, detail, attr} in one table.
 */
export type ErrorKind =
  | 'validation'
  | 'parse'
  | 'not_authenticated'
  | 'authentication_failed'
  | 'permission_denied'
  | 'not_found'
  | 'method_not_allowed'
  | 'conflict'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'throttled'
  | 'too_early'
  | 'not_implemented'
  | 'server'
  | 'bad_gateway'
  | 'gateway_timeout';

export class BurrowError extends Error {
  constructor(
    readonly kind: ErrorKind,
    readonly code: string,
    readonly detail: string,
    readonly attr: string | null = null,
  ) {
    super(detail);
    this.name = new.target.name;
  }
}

export class ValidationError extends BurrowError {
  constructor(detail: string, attr: string | null = null, code = 'invalid_input') {
    super('validation', code, detail, attr);
  }
}

export class ParseError extends BurrowError {
  constructor(detail = 'Malformed request.') {
    super('parse', 'parse_error', detail);
  }
}

export class NotAuthenticatedError extends BurrowError {
  constructor() {
    super('not_authenticated', 'not_authenticated', 'Authentication credentials were not provided.');
  }
}

export class AuthenticationFailedError extends BurrowError {
  constructor(detail = 'Incorrect authentication credentials.') {
    super('authentication_failed', 'authentication_failed', detail);
  }
}

export class PermissionDeniedError extends BurrowError {
  constructor(detail = 'You do not have permission to perform this action.', code = 'permission_denied') {
    super('permission_denied', code, detail);
  }
}

export class NotFoundError extends BurrowError {
  constructor(detail = 'Not found.') {
    super('not_found', 'not_found', detail);
  }
}

export class MethodNotAllowedError extends BurrowError {
  constructor(method: string) {
    super('method_not_allowed', 'method_not_allowed', `Method "${method}" not allowed.`);
  }
}

export class UnsupportedMediaTypeError extends BurrowError {
  constructor(contentType: string) {
    super('unsupported_media_type', 'unsupported_media_type', `Unsupported media type "${contentType}" in request.`);
  }
}

export class PayloadTooLargeError extends BurrowError {
  constructor(limitBytes: number) {
    super('payload_too_large', 'payload_too_large', `Request body is larger than the limit of ${limitBytes} bytes.`);
  }
}

export class ConflictError extends BurrowError {
  constructor(detail: string, code = 'conflict') {
    super('conflict', code, detail);
  }
}

export class ThrottledError extends BurrowError {
  readonly waitSeconds: number;

  constructor(waitSeconds: number) {
    const wait = Math.max(1, Math.ceil(waitSeconds));
    super('throttled', 'throttled', `Request was throttled. Expected available in ${wait} ${wait === 1 ? 'second' : 'seconds'}.`);
    this.waitSeconds = wait;
  }
}

export class ServerError extends BurrowError {
  constructor() {
    super('server', 'error', 'A server error occurred.');
  }
}

/**
 * An answer PostHog builds by hand outside its exception handler, such as {"error": "Only screenshot heatmaps can be
 * regenerated"} or a 404 with an empty body: the kind still decides the status, the body is sent as it is. Areas
 * subclass it so each such answer has a name.
 */
export class PlainBodyError extends BurrowError {
  constructor(
    kind: ErrorKind,
    readonly body: Record<string, unknown> | null,
  ) {
    super(kind, kind, typeof body?.error === 'string' ? body.error : typeof body?.detail === 'string' ? body.detail : kind);
  }
}

/** PostHog's ForbidDestroyModel (saved heatmaps, subscriptions): soft delete is a PATCH; DELETE is a 405 with an empty body. */
export class HardDeleteNotAllowedError extends PlainBodyError {
  constructor() {
    super('method_not_allowed', null);
  }
}
