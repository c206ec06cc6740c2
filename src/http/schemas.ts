import { z } from 'zod';

/** drf-exceptions-hog's body, the shape of every error. */
export const ErrorSchema = z
  .object({
    type: z.enum(['validation_error', 'authentication_error', 'invalid_request', 'throttled_error', 'server_error']),
    code: z.string(),
    detail: z.string(),
    attr: z.string().nullable(),
  })
  .meta({ id: 'Error' });

export type ErrorBody = z.infer<typeof ErrorSchema>;

/** An answer PostHog builds by hand outside its exception handler: {"error": "..."} (lib/errors.ts PlainBodyError). */
export const ErrorMessageSchema = z.object({ error: z.string() }).meta({ id: 'ErrorMessage' });

/** A 4xx that is either of the two. */
export const ErrorOrMessageSchema = z.union([ErrorSchema, ErrorMessageSchema]);
