import { z } from 'zod';

/** What the capture endpoints answer (rust/capture, api.rs: CaptureResponse). */
export const CaptureResponseSchema = z
  .object({
    status: z.literal('Ok'),
    quota_limited: z.array(z.string()).optional(),
  })
  .meta({ id: 'CaptureResponse' });

/** posthog-js's remote config; its keys are PostHog's RemoteConfig's (see remote-config.ts). */
export const RemoteConfigSchema = z.record(z.string(), z.unknown()).meta({ id: 'RemoteConfig' });

export const TokenParams = z.object({ token: z.string().meta({ description: "The project's public token (phc_...)" }) });

/** Body limits of PostHog's capture service, per endpoint. */
export const EVENTS_BODY_LIMIT = 2 * 1024 * 1024;
export const BATCH_BODY_LIMIT = 20 * 1024 * 1024;
export const RECORDINGS_BODY_LIMIT = 25 * 1024 * 1024;
