import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';

/** PostHog's error body (drf-exceptions-hog), in its key order. */
export interface ErrorBody {
  type: string;
  code: string;
  detail: string;
  attr: string | null;
}

export const notFound = (detail = 'Not found.'): ErrorBody => ({ type: 'invalid_request', code: 'not_found', detail, attr: null });
export const denied = (detail: string): ErrorBody => ({ type: 'authentication_error', code: 'permission_denied', detail, attr: null });
export const invalid = (detail: string, attr: string | null, code = 'invalid_input'): ErrorBody => ({
  type: 'validation_error',
  code,
  detail,
  attr,
});
export const notAuthenticated: ErrorBody = {
  type: 'authentication_error',
  code: 'not_authenticated',
  detail: 'Authentication credentials were not provided.',
  attr: null,
};

/** Asserts the status and the exact error body, keys in PostHog's order. */
export function expectError(response: LightMyRequestResponse, status: number, body: ErrorBody): void {
  expect(response.statusCode, response.body).toBe(status);
  const json = response.json() as Record<string, unknown>;
  expect(json).toEqual(body);
  expect(Object.keys(json)).toEqual(['type', 'code', 'detail', 'attr']);
}

/** Asserts a 2xx status (printing the body otherwise) and returns the parsed JSON. */
export function ok<T = Record<string, any>>(response: LightMyRequestResponse, status = 200): T {
  expect(response.statusCode, response.body).toBe(status);
  return response.json() as T;
}

/** Headers a browser sends for a logged-in session: the cookies, and the CSRF token the web app echoes. */
export const sessionHeaders = (session: { cookie: string; csrf: string }) => ({ cookie: session.cookie, 'x-csrftoken': session.csrf });
