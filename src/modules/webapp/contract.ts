import { z } from 'zod';

/**
 * The web app area's wire contract: GET /_preflight/ (PostHog's preflight_check view) and the empty answers of the
 * allow-list (allow-list.ts).
 */

export const PreflightSchema = z
  .object({
    django: z.boolean(),
    redis: z.boolean(),
    plugins: z.boolean(),
    celery: z.boolean(),
    clickhouse: z.boolean(),
    kafka: z.boolean(),
    db: z.boolean().meta({ description: 'Whether the database answers' }),
    initiated: z.boolean().meta({ description: 'Whether any organization exists' }),
    cloud: z.boolean(),
    demo: z.boolean(),
    realm: z.literal('hobby'),
    region: z.null(),
    available_social_auth_providers: z.record(z.string(), z.boolean()),
    can_create_org: z.boolean(),
    email_service_available: z.boolean().meta({ description: 'Whether EMAIL_HOST is set (subscription emails)' }),
    slack_service: z.object({ available: z.boolean(), client_id: z.string().nullable() }).meta({
      description: 'Slack integrations come from a bot token (…/integrations/), so Slack is available without an OAuth client id',
    }),
    data_warehouse_integrations: z.object({ hubspot: z.object({ client_id: z.null() }), salesforce: z.object({ client_id: z.null() }) }),
    object_storage: z.boolean(),
    public_egress_ip_addresses: z.array(z.string()),
    is_debug: z.boolean(),
    // Only for a signed-in browser session, as PostHog's.
    available_timezones: z.record(z.string(), z.number()).optional(),
    opt_out_capture: z.boolean().optional(),
    licensed_users_available: z.null().optional(),
    openai_available: z.boolean().optional().meta({ description: 'Whether LLM_BASE_URL is set' }),
    site_url: z.string().optional().meta({ description: 'SITE_URL, or the address the request came to when it is unset' }),
    instance_preferences: z.object({ debug_queries: z.boolean(), disable_paid_fs: z.boolean() }).optional(),
    buffer_conversion_seconds: z.number().int().optional(),
  })
  .meta({ id: 'Preflight' });

export type Preflight = z.infer<typeof PreflightSchema>;

/** What an allow-listed path answers: an empty DRF page, an empty list, or a fixed object. */
export const EmptyPageSchema = z
  .object({ count: z.literal(0), next: z.null(), previous: z.null(), results: z.array(z.never()) })
  .meta({ id: 'EmptyPage' });
export const EmptyListSchema = z.array(z.never()).meta({ id: 'EmptyList' });
export const DefaultsSchema = z.record(z.string(), z.unknown()).meta({ id: 'Defaults' });

export const emptyPage = () => ({ count: 0 as const, next: null, previous: null, results: [] as never[] });
