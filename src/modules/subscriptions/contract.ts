import { z } from 'zod';
import { missingObject } from '../../http/missing-object.js';
import { query } from '../../http/query.js';
import { DateTime } from '../../lib/wire.js';
import { UserBasicSchema } from '../identity/index.js';

export const TARGET_TYPES = ['email', 'slack', 'webhook'] as const;
export const FREQUENCIES = ['daily', 'weekly', 'monthly', 'yearly'] as const;
export const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const;
export const RESOURCE_TYPES = ['insight', 'dashboard', 'ai_prompt', 'heatmap', 'recordings'] as const;
export const ORDERING_FIELDS = ['created_at', 'next_delivery_date', 'title', 'created_by__email'] as const;
/** The width a saved heatmap's report is drawn at when none is given. */
export const DEFAULT_HEATMAP_WIDTH = 1024;
export const DEFAULT_TIMEZONE = 'UTC';

export type Frequency = (typeof FREQUENCIES)[number];
export type Weekday = (typeof WEEKDAYS)[number];
export type ResourceType = (typeof RESOURCE_TYPES)[number];

const Int32 = z.number().int().min(-2147483648).max(2147483647);

/** PostHog's SubscriptionSerializer, in its field order, then Burrow's extensions. */
export const SubscriptionSchema = z
  .object({
    id: z.number().int(),
    dashboard: z.number().int().nullable(),
    insight: z.number().int().nullable(),
    target_type: z.enum(TARGET_TYPES),
    target_value: z.string(),
    frequency: z.enum(FREQUENCIES),
    interval: Int32,
    byweekday: z.array(z.enum(WEEKDAYS)).nullable(),
    bysetpos: Int32.nullable(),
    count: Int32.nullable(),
    start_date: DateTime,
    until_date: DateTime.nullable(),
    created_at: DateTime,
    created_by: UserBasicSchema.nullable(),
    deleted: z.boolean(),
    title: z.string().nullable(),
    next_delivery_date: DateTime.nullable().meta({ description: 'The next delivery (ISO, UTC): the first occurrence of the rule after now + 15 minutes; null once the rule is exhausted' }),
    invite_message: z.null().meta({ description: 'Write-only: always null here' }),
    summary: z.string().meta({ description: 'The schedule in words, e.g. "sent every week on the first Monday"' }),
    resource_type: z.enum(RESOURCE_TYPES).nullable().meta({ description: 'What the subscription reports on; "heatmap" and "recordings" are Burrow extensions' }),
    resource_name: z.string().nullable().meta({ description: "A saved heatmap's name (or its URL), else null" }),
    insight_short_id: z.string().nullable(),
    dashboard_export_insights: z.array(z.number().int()),
    enabled: z.boolean(),
    integration_id: z.number().int().nullable(),
    summary_enabled: z.boolean(),
    summary_prompt_guide: z.string(),
    prompt: z.string().nullable(),
    saved_heatmap: z.string().nullable().meta({ description: 'Burrow extension: the short_id of a saved heatmap of the project' }),
    recordings_query: z.record(z.string(), z.unknown()).nullable().meta({ description: 'Burrow extension: a RecordingsQuery, as the recordings list takes it' }),
    width: z.number().int().nullable().meta({ description: "Burrow extension: the width a saved heatmap's report is drawn at (default 1024)" }),
    timezone: z.string().meta({ description: 'Burrow extension: the IANA time zone the schedule keeps its time of day in (default UTC)' }),
  })
  .meta({ id: 'Subscription' });

export const SubscriptionListSchema = z
  .object({ count: z.number().int(), next: z.string().nullable(), previous: z.string().nullable(), results: z.array(SubscriptionSchema) })
  .meta({ id: 'PaginatedSubscriptionList' });

export const SummaryQuotaSchema = z
  .object({ active_count: z.number().int(), limit: z.number().int().nullable(), at_limit: z.boolean() })
  .meta({ id: 'SubscriptionSummaryQuota', description: 'AI summaries: Burrow has no plans, so there is no limit' });

const DATETIME_FORMAT = 'Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].';

/** DRF's DateTimeField: ISO 8601; a naive value is taken as UTC. */
const dateTimeField = z
  .string()
  .transform((value, ctx) => {
    const m = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?))?(Z|[+-]\d{2}:?\d{2})?$/i.exec(value);
    const ms = m ? Date.parse(`${m[1]}T${m[2] ?? '00:00'}${m[3] ?? 'Z'}`.replace(/([+-]\d{2})(\d{2})$/, '$1:$2')) : Number.NaN;
    if (Number.isNaN(ms)) {
      ctx.addIssue({ code: 'custom', message: DATETIME_FORMAT, params: { code: 'invalid' } });
      return z.NEVER;
    }
    return new Date(ms).toISOString();
  })
  .meta({ type: 'string', format: 'date-time' });

/** The writable fields, in the serializer's order (DRF reports the first failing field in that order). */
const writable = {
  dashboard: missingObject('A dashboard id; Burrow has no dashboards, so any id is refused (does_not_exist)'),
  insight: missingObject('An insight id; Burrow has no insights, so any id is refused (does_not_exist)'),
  target_type: z.enum(TARGET_TYPES),
  target_value: z.string().min(1),
  frequency: z.enum(FREQUENCIES),
  interval: Int32.min(1),
  byweekday: z.array(z.enum(WEEKDAYS)).nullable().optional(),
  bysetpos: Int32.nullable()
    .optional()
    .refine((value) => value === null || value === undefined || (value !== 0 && Math.abs(value) <= 366), {
      message: 'bysetpos must be between 1 and 366, or between -366 and -1.',
    }),
  count: Int32.nullable().optional(),
  start_date: dateTimeField,
  until_date: dateTimeField.nullable().optional(),
  deleted: z.boolean().optional(),
  title: z.string().max(100).nullable().optional(),
  invite_message: z.string().nullable().optional().meta({ description: 'Write-only: the note in the invite email new recipients get (on create and when the target changes)' }),
  dashboard_export_insights: z.unknown().optional().meta({ type: 'array', items: { type: 'integer' }, description: 'Insights of a dashboard subscription; Burrow has none' }),
  prompt: z.string().max(4000).nullable().optional().meta({ description: 'An AI-report prompt; Burrow has no AI reports, so one is refused' }),
  enabled: z.boolean().optional(),
  integration_id: z.number().int().nullable().optional().meta({ description: 'A Slack integration of the project (/integrations/); required when target_type is slack' }),
  summary_enabled: z.boolean().optional(),
  summary_prompt_guide: z.string().optional(),
  saved_heatmap: z.string().nullable().optional().meta({ description: 'Burrow extension: the short_id of a saved heatmap of the project (resource_type "heatmap")' }),
  recordings_query: z
    .record(z.string(), z.unknown())
    .nullable()
    .optional()
    .meta({ description: 'Burrow extension: a RecordingsQuery, validated as the recordings list validates its parameters (resource_type "recordings")' }),
  width: z.number().int().min(100).max(5000).nullable().optional().meta({ description: "Burrow extension: the saved heatmap report's width in pixels (default 1024)" }),
  timezone: z.string().optional().meta({ description: 'Burrow extension: an IANA time zone; the schedule keeps its time of day there across DST (default UTC)' }),
};

export const CreateSubscriptionBody = z.object(writable);
export const PatchSubscriptionBody = z.object(writable).partial();

export const SubscriptionListQuery = z.object({
  limit: query.pageLimit({ description: 'Number of results to return per page.' }),
  offset: query.pageOffset({ description: 'The initial index from which to return the results.' }),
  deleted: z.string().optional().meta({ description: 'Present: only deleted (true) or live (false) subscriptions; absent: live ones' }),
  insight: query.optionalInteger(),
  dashboard: query.optionalInteger(),
  created_by: z.string().optional().meta({ description: "The creator's uuid" }),
  resource_type: z.string().optional().meta({ description: RESOURCE_TYPES.join(', ') }),
  target_type: z.string().optional().meta({ description: TARGET_TYPES.join(', ') }),
  search: z.string().optional().meta({ description: 'In the title or the saved heatmap name, case-insensitively' }),
  ordering: z.string().optional().meta({ description: `One of ${ORDERING_FIELDS.join(', ')}, "-" first for descending; default -created_at` }),
});

export const SubscriptionRetrieveQuery = z.object({ insight: query.optionalInteger(), dashboard: query.optionalInteger() });

export const DELIVERY_STATUSES = ['starting', 'completed', 'failed', 'skipped'] as const;

/** PostHog's SubscriptionDelivery (read-only). temporal_workflow_id names the Burrow job that made it. */
export const SubscriptionDeliverySchema = z
  .object({
    id: z.uuid(),
    subscription: z.number().int(),
    temporal_workflow_id: z.string(),
    idempotency_key: z.string(),
    trigger_type: z.enum(['scheduled', 'manual', 'target_change']),
    scheduled_at: DateTime.nullable(),
    target_type: z.string(),
    target_value: z.string(),
    exported_asset_ids: z.array(z.number().int()),
    content_snapshot: z.unknown(),
    recipient_results: z.array(z.unknown()),
    status: z.enum(DELIVERY_STATUSES),
    error: z.unknown().nullable(),
    created_at: DateTime,
    last_updated_at: DateTime,
    finished_at: DateTime.nullable(),
    change_summary: z.string().nullable(),
  })
  .meta({ id: 'SubscriptionDelivery' });

export const SubscriptionDeliveryListSchema = z
  .object({ next: z.string().nullable(), previous: z.string().nullable(), results: z.array(SubscriptionDeliverySchema) })
  .meta({ id: 'PaginatedSubscriptionDeliveryList', description: 'DRF cursor pagination (50 a page, newest first)' });

export const DeliveryListQuery = z.object({
  cursor: z.string().optional().meta({ description: 'The pagination cursor value.' }),
  status: z.string().optional().meta({ description: DELIVERY_STATUSES.join(', ') }),
});

export const DeliveryParams = z.object({ subscription_id: z.string().meta({ description: 'The subscription id' }) });
export const DeliveryIdParams = DeliveryParams.extend({ id: z.string().meta({ description: 'A delivery id (uuid)' }) });

export const SubscriptionIdParams = z.object({ id: z.string().meta({ description: 'A unique integer value identifying this subscription.' }) });

export const UnsubscribeQuery = z.object({ token: z.string().optional().meta({ description: 'The token of the email\'s unsubscribe link' }) });
export const UnsubscribeSchema = z.object({ success: z.boolean() }).meta({ id: 'UnsubscribeResult' });

export type Subscription = z.infer<typeof SubscriptionSchema>;
export type SubscriptionDelivery = z.infer<typeof SubscriptionDeliverySchema>;
export type CreateSubscriptionInput = z.infer<typeof CreateSubscriptionBody>;
export type PatchSubscriptionInput = z.infer<typeof PatchSubscriptionBody>;
export type SubscriptionListInput = z.infer<typeof SubscriptionListQuery>;
