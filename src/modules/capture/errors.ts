import { BurrowError } from '../../lib/errors.js';

/**
 * A capture request PostHog's capture answers with 400: what could not be decoded or parsed, as its message says
 * (rust/capture, api.rs), in the JSON error body the Django capture endpoint used (code invalid_payload).
 */
export class CaptureError extends BurrowError {
  constructor(detail: string) {
    super('validation', 'invalid_payload', detail);
  }
}

/** A body, or what it decompresses to, past the endpoint's limit: 413. */
export class PayloadTooBigError extends BurrowError {
  constructor(limitBytes: number) {
    super('payload_too_large', 'payload_too_large', `Request body is larger than the limit of ${limitBytes} bytes.`);
  }
}

/** No project token, a malformed one, several in one request, or one that names no project: 401. */
export class ProjectTokenError extends BurrowError {
  constructor(detail: string, code: 'missing_api_key' | 'invalid_api_key') {
    super('authentication_failed', code, detail);
  }
}

export const MISSING_TOKEN = 'API key not provided. You can find your project API key in PostHog project settings.';
export const UNKNOWN_TOKEN = 'Project API key invalid. You can find your project API key in PostHog project settings.';
